"""Shared helpers of the reliability suite: start OUR release server, stock clients, RSS, ports.

Env: BSS_BIN_DIR (directory holding bert-serving-start; default <repo>/.build-rel/release),
BSS_RIG_DIR (rig; default ~/.cache/bert-serving-swift/rig), BSS_REL_PORT_BASE (first port tried, default 18400).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RIG = os.environ.get('BSS_RIG_DIR') or os.path.expanduser('~/.cache/bert-serving-swift/rig')
BIN_DIR = os.environ.get('BSS_BIN_DIR') or os.path.join(REPO, '.build-rel', 'release')
MODEL = os.path.join(RIG, 'minilm-hf')
PORT_BASE = int(os.environ.get('BSS_REL_PORT_BASE', '18400'))
# Multiplies time bounds and client timeouts (scripts/asan.sh runs a debug + ASan server).
TIME_SCALE = float(os.environ.get('BSS_REL_TIME_SCALE', '1'))


def fail_setup(msg):
    print('setup error: %s' % msg, flush=True)
    print('0 passed, 1 failed', flush=True)
    sys.exit(1)


def port_free(port):
    """True when nobody listens on 127.0.0.1:port and it can be bound on all interfaces."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port_pair(offset=0):
    """Two consecutive free ports from PORT_BASE + offset (within a 200-port range)."""
    for p in range(PORT_BASE + offset, PORT_BASE + 198, 2):
        if port_free(p) and port_free(p + 1):
            return p, p + 1
    raise RuntimeError('no free port pair from %d' % (PORT_BASE + offset))


def rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """OUR bert-serving-start on loopback ports, MiniLM from the rig, logs in a temp file."""

    def __init__(self, offset=0, num_worker=1, extra=(), env=None):
        binary = os.path.join(BIN_DIR, 'bert-serving-start')
        if not os.access(binary, os.X_OK):
            fail_setup('no executable %s (set BSS_BIN_DIR)' % binary)
        if not os.path.isdir(MODEL):
            fail_setup('no model %s (run CompatTests/reference/setup.sh or set BSS_RIG_DIR)' % MODEL)
        self.port, self.port_out = free_port_pair(offset)
        self.log = tempfile.NamedTemporaryFile(prefix='bss-rel-', suffix='.log', delete=False)
        self.cmd = [binary, '-model_dir', MODEL, '-num_worker', str(num_worker), '-port', str(self.port),
                    '-port_out', str(self.port_out), '-cpu'] + list(extra)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, env=full_env)

    def log_text(self):
        with open(self.log.name, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_ready(self, timeout=120):
        timeout *= TIME_SCALE
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                fail_setup('server exited with %s during startup:\n%s' % (self.proc.returncode, self.log_text()[-3000:]))
            if 'all set, ready to serve request!' in self.log_text():
                return time.time() - t0
            time.sleep(0.1)
        fail_setup('server not ready after %d s' % timeout)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        return rss_kb(self.proc.pid)

    def send_termination(self):
        ctx = zmq.Context()
        s = ctx.socket(zmq.PUSH)
        s.setsockopt(zmq.LINGER, 2000)
        s.connect('tcp://127.0.0.1:%d' % self.port)
        s.send_multipart([b'0', b'TERMINATION', b'0', b'0'])
        s.close()
        ctx.term()

    def stop(self, timeout=30):
        """TERMINATION, then SIGKILL if it does not exit; returns the exit code."""
        if self.proc.poll() is None:
            try:
                self.send_termination()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.environ.get('BSS_REL_KEEP_LOGS'):
            print('server log kept: %s' % self.log.name)
            return
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


def client(server, timeout=10000, identity=None):
    from bert_serving.client import BertClient
    return BertClient(port=server.port, port_out=server.port_out, timeout=int(timeout * TIME_SCALE), identity=identity)


def recv_reply(bc, req_id, timeout_ms):
    """The stock client's own receive path (`_recv_ndarray`) for req_id, with a receive timeout."""
    bc.receiver.setsockopt(zmq.RCVTIMEO, timeout_ms)
    try:
        return bc._recv_ndarray(req_id).embedding
    finally:
        bc.receiver.setsockopt(zmq.RCVTIMEO, -1)


def send_raw(bc, frames):
    """Push raw frames on the stock client's sender; returns the req_id it will wait for (int or None)."""
    bc.sender.send_multipart(frames)
    try:
        rid = int(frames[2])
        bc.pending_request.add(rid)
        return rid
    except (IndexError, ValueError):
        return None


def close_vectors(a, b, tol=1e-4):
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    return a.shape == b.shape and float(np.max(np.abs(a - b))) <= tol
