#!/usr/bin/env python3
# A ZeroMQ man-in-the-middle that records the traffic between bert-serving clients and a
# bert-serving server, frame by frame, into a msgpack capture file (schema: SCHEMA.md).
#
#   client PUSH -> [PULL :front  proxy  PUSH] -> server PULL (:server_port)
#   client SUB  <- [XPUB :back   proxy  SUB ] <- server PUB  (:server_port_out)
#
# The proxy's SUB subscribes to everything; its XPUB (verbose) records every subscription a
# client makes, so a replay can open the same subscriptions.
#
# Record your own traffic against a running server (Ctrl-C writes the file):
#   python bss_capture.py proxy --front 5555 --back 5556 \
#       --server-port 15555 --server-port-out 15556 \
#       --server-argv "-model_dir /models/x -port 15555 -port_out 15556" -o mine.msgpack
# and point your clients at ports 5555/5556 (SIGTERM stops it too). Needs pyzmq and msgpack.
import argparse
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import msgpack
import zmq

FORMAT = 'bert-serving-capture'
VERSION = 1
READY_LINE = b'all set, ready to serve request!'


class Proxy(threading.Thread):
    """Forwards and records every multipart message; all sockets live on this thread."""

    def __init__(self, front_port, back_port, server_port, server_port_out, host='127.0.0.1'):
        super().__init__(daemon=True)
        self.addrs = (front_port, back_port, server_port, server_port_out, host)
        self.events = []
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.stop_flag = threading.Event()
        self.ready = threading.Event()
        self.error = None

    def now(self):
        return round(time.monotonic() - self.t0, 6)

    def add(self, event):
        event['t'] = self.now()
        with self.lock:
            self.events.append(event)

    def mark(self, text):
        """Records a session boundary (runner prints it; it carries no traffic)."""
        self.add({'dir': 'mark', 'text': text})

    def run(self):
        front, back, sport, sport_out, host = self.addrs
        ctx = zmq.Context()
        pull = ctx.socket(zmq.PULL)
        push = ctx.socket(zmq.PUSH)
        sub = ctx.socket(zmq.SUB)
        xpub = ctx.socket(zmq.XPUB)
        socks = (pull, push, sub, xpub)
        try:
            for s in socks:
                s.setsockopt(zmq.LINGER, 2000)
            xpub.setsockopt(getattr(zmq, 'XPUB_VERBOSER', zmq.XPUB_VERBOSE), 1)
            pull.bind('tcp://%s:%d' % (host, front))
            xpub.bind('tcp://%s:%d' % (host, back))
            push.connect('tcp://%s:%d' % (host, sport))
            sub.setsockopt(zmq.SUBSCRIBE, b'')
            sub.connect('tcp://%s:%d' % (host, sport_out))
            time.sleep(0.5)  # let the SUB's subscription reach the server's PUB
            poller = zmq.Poller()
            for s in (pull, sub, xpub):
                poller.register(s, zmq.POLLIN)
            self.ready.set()
            while not self.stop_flag.is_set():
                for s, _ in poller.poll(50):
                    if s is pull:
                        frames = pull.recv_multipart()
                        self.add({'dir': 'c2s', 'frames': frames})
                        push.send_multipart(frames)
                    elif s is sub:
                        frames = sub.recv_multipart()
                        self.add({'dir': 's2c', 'frames': frames})
                        xpub.send_multipart(frames)
                    else:
                        msg = xpub.recv()
                        if msg[:1] in (b'\x00', b'\x01'):
                            self.add({'dir': 'sub', 'on': msg[:1] == b'\x01', 'topic': msg[1:]})
        except Exception as e:  # reported by stop()
            self.error = e
            self.ready.set()
        finally:
            for s in socks:
                s.close()
            ctx.term()

    def stop(self):
        time.sleep(0.3)  # let in-flight frames pass
        self.stop_flag.set()
        self.join(10)
        if self.error:
            raise self.error


def make_capture(name, description, server, events, notes=None):
    """The capture object (SCHEMA.md)."""
    cap = {'format': FORMAT, 'version': VERSION, 'name': name, 'description': description,
           'server': server, 'events': events}
    if notes:
        cap['notes'] = notes
    return cap


def server_info(argv, port, port_out, model_dir, program='bert-serving-start', exited=None):
    return {'program': program, 'argv': list(argv), 'port': port, 'port_out': port_out,
            'model_dir': model_dir, 'exited_after_capture': exited}


def write_capture(path, cap):
    data = msgpack.packb(cap, use_bin_type=True)
    with open(path, 'wb') as f:
        f.write(data)
    return len(data)


def read_capture(path):
    with open(path, 'rb') as f:
        cap = msgpack.unpackb(f.read(), raw=False, strict_map_key=False)
    if cap.get('format') != FORMAT or cap.get('version') != VERSION:
        raise ValueError('%s: not a %s v%d file' % (path, FORMAT, VERSION))
    return cap


class OriginalServer:
    """Starts a server process (by default the rig's original) in its own process group."""

    def __init__(self, program, argv, log_path):
        self.cmd = [program] + list(argv)
        self.log_path = log_path
        self.proc = None
        self.cwd = None

    def start(self, timeout=240):
        env = dict(os.environ)
        env.pop('COLUMNS', None)
        # the original leaves frozen-graph temp files in its working directory: give it its own
        self.cwd = tempfile.mkdtemp(prefix='bss-server-')
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd,
                                         stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        t0 = time.time()
        while time.time() - t0 < timeout:
            with open(self.log_path, 'rb') as f:
                if READY_LINE in f.read():
                    return
            if self.proc.poll() is not None:
                raise RuntimeError('server exited early (rc %s), see %s' % (self.proc.returncode, self.log_path))
            time.sleep(0.3)
        raise RuntimeError('server not ready after %ds, see %s' % (timeout, self.log_path))

    def exited(self, wait=0.0):
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        else:
            # the leader is gone; its group may not be (the original's workers)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.cwd:
            shutil.rmtree(self.cwd, ignore_errors=True)
            self.cwd = None


def main():
    ap = argparse.ArgumentParser(description='record bert-serving traffic into a capture file')
    sp = ap.add_subparsers(dest='cmd', required=True)
    p = sp.add_parser('proxy', help='run the recording proxy until Ctrl-C')
    p.add_argument('--front', type=int, required=True, help='port the clients push to (their -port)')
    p.add_argument('--back', type=int, required=True, help='port the clients subscribe to (their -port_out)')
    p.add_argument('--server-port', type=int, required=True)
    p.add_argument('--server-port-out', type=int, required=True)
    p.add_argument('--server-argv', required=True,
                   help='the flags the server was started with (recorded so a replay can start the same)')
    p.add_argument('--model-dir', default=None, help='the -model_dir in --server-argv (default: parsed)')
    p.add_argument('--name', default=None)
    p.add_argument('-o', '--output', required=True)
    d = sp.add_parser('dump', help='print a capture file')
    d.add_argument('file')
    args = ap.parse_args()
    if args.cmd == 'dump':
        cap = read_capture(args.file)
        print('name: %s\nserver: %s' % (cap['name'], cap['server']))
        for ev in cap['events']:
            if ev['dir'] in ('c2s', 's2c'):
                shown = [f[:80] for f in ev['frames']]
                print('%9.3f %s %s%s' % (ev['t'], ev['dir'], shown,
                                         ' expect=' + ev['expect'] if 'expect' in ev else ''))
            else:
                print('%9.3f %s %s' % (ev['t'], ev['dir'],
                                       {k: v for k, v in ev.items() if k not in ('t', 'dir')}))
        return
    argv = shlex.split(args.server_argv)
    model_dir = args.model_dir
    if model_dir is None and '-model_dir' in argv:
        model_dir = argv[argv.index('-model_dir') + 1]
    proxy = Proxy(args.front, args.back, args.server_port, args.server_port_out)
    proxy.start()
    proxy.ready.wait()
    print('recording; clients use -port %d -port_out %d; Ctrl-C (or SIGTERM) to stop' % (args.front, args.back),
          flush=True)
    stop = threading.Event()
    # SIGINT may be ignored when started in the background by a script: handle both explicitly
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
    proxy.stop()
    name = args.name or os.path.splitext(os.path.basename(args.output))[0]
    cap = make_capture(name, 'recorded with bss_capture.py proxy',
                       server_info(argv, args.server_port, args.server_port_out, model_dir),
                       proxy.events)
    n = write_capture(args.output, cap)
    print('wrote %s (%d events, %d bytes)' % (args.output, len(proxy.events), n))


if __name__ == '__main__':
    main()
