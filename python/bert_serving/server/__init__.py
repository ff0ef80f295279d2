"""`BertServer` of bert-serving-server 1.10.0, backed by the Swift `bert-serving-start` executable.

`BertServer(args)` is a `threading.Thread`, as in the original: `start()` launches the server,
`is_ready` is set once it serves, `join()` waits for it to end, `close()` (or leaving a `with`
block) shuts it down, and `BertServer.shutdown(args)` stops a server on any host. Instead of
TensorFlow processes, the thread runs one child process, the Swift server, with a command line
rebuilt from `args`; its log lines are copied to this process's stderr, its argument table goes
to the same stdout. The child never outlives this process: on Linux it receives SIGKILL when the
thread that started it dies (prctl PR_SET_PDEATHSIG), and an atexit hook stops any that remain.
"""
import atexit
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import weakref

from ._binary import find_binary
from .helper import get_shutdown_parser, namespace_to_argv, set_logger

__all__ = ['__version__', 'BertServer']
__version__ = '1.10.0'

#: The log line (stderr) the server prints once it serves; also what scripts wait for.
READY_MARKER = b'all set, ready to serve request!'

_TERMINATION = b'TERMINATION'
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# Children still running, for the atexit hook.
_live_children = weakref.WeakSet()


def _resolve_prctl():
    """libc's prctl, looked up before fork (dlopen between fork and exec is not safe)."""
    if not sys.platform.startswith('linux'):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_prctl = _resolve_prctl()


def _make_preexec(parent_pid):
    """A preexec_fn that ties the child's life to the thread that forks it (Linux only)."""
    if _prctl is None:
        return None

    def die_with_parent():
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork and prctl: then nobody would send the signal.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)

    return die_with_parent


def _stop_process(process, grace=10.0):
    """SIGTERM (the server drains and exits), then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    try:
        process.terminate()
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except OSError:
        pass


@atexit.register
def _stop_all_children():
    for process in list(_live_children):
        _stop_process(process, grace=5.0)


class BertServer(threading.Thread):
    """The server as a thread; the work happens in the Swift `bert-serving-start` child process."""

    def __init__(self, args):
        """
        Args:
            args: an `argparse.Namespace` from `helper.get_args_parser().parse_args([...])`.

        Raises:
            FileNotFoundError: the Swift executable is not bundled and $BERT_SERVING_SWIFT_BIN
                does not point at it.
            ValueError: `args` holds a value no command line can express (an empty list).
        """
        super().__init__()
        verbose = getattr(args, 'verbose', False)
        self.logger = set_logger('VENTILATOR', verbose)
        self.model_dir = args.model_dir
        self.max_seq_len = getattr(args, 'max_seq_len', 25)
        self.num_worker = getattr(args, 'num_worker', 1)
        self.max_batch_size = getattr(args, 'max_batch_size', 256)
        self.num_concurrent_socket = max(8, self.num_worker * 2)
        self.port = getattr(args, 'port', 5555)
        self.args = args
        self.status_args = {k: (v if k != 'pooling_strategy' else getattr(v, 'value', v)) for k, v in sorted(vars(args).items())}
        self.processes = []
        self.binary = find_binary('bert-serving-start')
        self.argv = ['bert-serving-start'] + namespace_to_argv(args)
        self.returncode = None
        self.is_ready = threading.Event()
        self._exited = threading.Event()
        self._spawn_error = None

    def __enter__(self):
        self.start()
        self._wait_ready()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    def _wait_ready(self):
        """Blocks until the server is ready; raises if it ended first (the original would hang)."""
        while not self.is_ready.wait(0.2):
            if self._exited.is_set():
                self.join()
                if self._spawn_error is not None:
                    raise self._spawn_error
                raise RuntimeError('bert-serving-start exited with code %s before it was ready; '
                                   'its log above says why' % self.returncode)

    def close(self, grace=30.0):
        """Sends TERMINATION to the server's port and waits for it to end (SIGTERM after `grace` s)."""
        self.logger.info('shutting down...')
        if not self._exited.is_set():
            self._send_close_signal()
        self.is_ready.clear()
        self.join(grace)
        if self.is_alive():
            process = self.processes[0] if self.processes else None
            if process is not None:
                self.logger.warning('server did not stop within %.0f s, sending SIGTERM' % grace)
                _stop_process(process)
            self.join()

    def _send_close_signal(self):
        import zmq
        with zmq.Context() as ctx:
            ctx.setsockopt(zmq.LINGER, 5000)
            with ctx.socket(zmq.PUSH) as frontend:
                frontend.connect('tcp://localhost:%d' % self.port)
                frontend.send_multipart([b'0', _TERMINATION, b'0', b'0'])

    @staticmethod
    def shutdown(args=None, **kwargs):
        """Sends TERMINATION to the server at `args.ip`:`args.port` (namespace of `get_shutdown_parser`).

        The README of 1.10.0 shows `BertServer.shutdown(port=5555)`; the original only accepts a
        namespace. Both work here: keyword arguments fill a namespace from the shutdown parser's
        defaults (ip='localhost', timeout=5000).
        """
        import zmq
        if args is None:
            args = get_shutdown_parser().parse_args(['-port', str(kwargs.pop('port', 5555))])
        for key, value in kwargs.items():
            setattr(args, key, value)
        with zmq.Context() as ctx:
            ctx.setsockopt(zmq.LINGER, args.timeout)
            with ctx.socket(zmq.PUSH) as frontend:
                try:
                    frontend.connect('tcp://%s:%d' % (args.ip, args.port))
                    frontend.send_multipart([b'0', _TERMINATION, b'0', b'0'])
                    print('shutdown signal sent to %d' % args.port)
                except zmq.error.Again:
                    raise TimeoutError(
                        'no response from the server (with "timeout"=%d ms), please check the following:'
                        'is the server still online? is the network broken? are "port" correct? ' % args.timeout)

    def run(self):
        try:
            process = subprocess.Popen(
                self.argv, executable=self.binary, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                preexec_fn=_make_preexec(os.getpid()), close_fds=True)
        except OSError as error:
            self._spawn_error = error
            self._exited.set()
            raise
        self.processes.append(process)
        _live_children.add(process)
        try:
            self._relay_log(process.stderr)
            self.returncode = process.wait()
        finally:
            _stop_process(process)
            _live_children.discard(process)
            self.is_ready.clear()
            self._exited.set()

    def _relay_log(self, stream):
        """Copies the child's stderr line by line to ours and sets `is_ready` on the ready line."""
        out = getattr(sys.stderr, 'buffer', None)
        for line in iter(stream.readline, b''):
            try:
                if out is not None:
                    out.write(line)
                else:
                    sys.stderr.write(line.decode('utf-8', 'replace'))
                sys.stderr.flush()
            except (OSError, ValueError):
                pass  # our stderr is closed; keep draining so the child never blocks on a full pipe
            if READY_MARKER in line:
                self.is_ready.set()
        stream.close()
