#!/usr/bin/env python3
# Replays captured bert-serving traffic (CompatTests/capture/SCHEMA.md) against a server and
# compares every reply with the captured one (rules: compare.py).
#
#   python replay.py [CAPTURE_FILE_OR_DIR ...] [--original] [--bin-dir DIR] [--model-dir DIR]
#
# For each capture: start the server with the captured flags (ports swapped for free ones,
# -model_dir swapped for --model-dir), play the client side (same identities, same frames, same
# order, one PUSH per identity, the same SUB subscriptions), check each reply, stop the server.
# Prints one line per capture and "N passed, N failed"; exits 1 on any failure.
#
# The server under test is $BSS_BIN_DIR/bert-serving-start (or --bin-dir); --original runs the
# rig's original instead (a self-check: everything but the divergences must pass against it).
import argparse
import json
import os
import shlex
import socket
import sys
import tempfile
import time

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'capture'))
import bss_capture  # noqa: E402
import compare  # noqa: E402

DEFAULT_CAPTURES = os.path.join(HERE, '..', 'capture', 'captures')
DEFAULT_KNOWN = os.path.join(HERE, 'known_differences.json')
PORT_FLAGS = ('-port', '-port_in', '-port_data')
PORT_OUT_FLAGS = ('-port_out', '-port_result')


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def swap_argv(argv, port, port_out, model_dir, http_port):
    """The captured flags with ports and model_dir swapped (handles `-flag value` and `-flag=value`)."""
    out, i = [], 0
    repl = {f: str(port) for f in PORT_FLAGS}
    repl.update({f: str(port_out) for f in PORT_OUT_FLAGS})
    repl['-model_dir'] = model_dir
    repl['-http_port'] = str(http_port)
    while i < len(argv):
        a = argv[i]
        flag = a.split('=', 1)[0]
        if flag in repl and '=' in a:
            out.append('%s=%s' % (flag, repl[flag]))
        elif a in repl and i + 1 < len(argv):
            out.extend([a, repl[a]])
            i += 1
        else:
            out.append(a)
        i += 1
    return out


class Sub:
    """One client SUB subscription of the capture, with the replies it must receive."""

    def __init__(self, on_index, topic):
        self.on_index, self.topic = on_index, topic
        self.expected = []  # [event index, frames, matched]
        self.sock = None


def plan(events):
    """Assigns each captured reply to the subscriptions open when it was published, and hoists
    each subscription before the requests sent just before it (the stock client subscribes and
    sends at the same moment; the proxy may see either first)."""
    order = list(range(len(events)))
    for pos in range(len(order)):
        i = order[pos]
        ev = events[i]
        if ev['dir'] == 'sub' and ev['on']:
            j = pos
            while j > 0 and events[order[j - 1]]['dir'] in ('c2s', 'mark') or (
                    j > 0 and events[order[j - 1]]['dir'] == 'sub' and events[order[j - 1]]['on']):
                j -= 1
            order.insert(j, order.pop(pos))
    subs, open_subs = {}, []
    for i in order:
        ev = events[i]
        if ev['dir'] == 'sub':
            if ev['on']:
                s = Sub(i, bytes(ev['topic']))
                subs[i] = s
                open_subs.append(s)
            else:
                for s in open_subs:
                    if s.topic == bytes(ev['topic']):
                        open_subs.remove(s)
                        ev['_closes'] = s.on_index
                        break
        elif ev['dir'] == 's2c':
            for s in open_subs:
                if bytes(ev['frames'][0]).startswith(s.topic):
                    s.expected.append([i, ev['frames'], False])
    return order, subs


class Replay:
    def __init__(self, cap, port, port_out, server, original, timeout, known):
        self.cap, self.port, self.port_out = cap, port, port_out
        self.server, self.original, self.timeout, self.known = server, original, timeout, known
        self.ctx = zmq.Context()
        self.pushes = {}
        self.failures = []
        self.waived = []
        self.session = ''
        self.probes = {}  # (identity, req_id) -> [kind, event index, done]
        self.n_checked = 0

    def fail(self, index, what):
        for k in self.known:
            if k.get('capture') == self.cap['name'] and k.get('event') in (None, index) and \
                    k.get('contains', '') in what:
                self.waived.append((index, what))
                return
        self.failures.append('event %d (%s): %s' % (index, self.session, what))

    def push_for(self, identity):
        if identity not in self.pushes:
            s = self.ctx.socket(zmq.PUSH)
            s.setsockopt(zmq.LINGER, 0)
            s.connect('tcp://127.0.0.1:%d' % self.port)
            self.pushes[identity] = s
        return self.pushes[identity]

    def open_subs(self):
        return [s for s in self.subs.values() if s.sock is not None]

    def receive(self, wait_ms):
        socks = self.open_subs()
        if not socks:
            time.sleep(wait_ms / 1000.0)
            return False
        poller = zmq.Poller()
        for s in socks:
            poller.register(s.sock, zmq.POLLIN)
        got = False
        for sock, _ in poller.poll(wait_ms):
            sub = next(s for s in socks if s.sock is sock)
            while sock.poll(0):
                self.handle(sub, sock.recv_multipart())
                got = True
        return got

    def handle(self, sub, frames):
        key = (frames[0], frames[-1])
        for entry in sub.expected:
            i, exp, matched = entry
            if not matched and (bytes(exp[0]), bytes(exp[-1])) == key:
                entry[2] = True
                self.n_checked += 1
                for d in compare.compare_reply(exp, frames):
                    self.fail(i, d)
                return
        probe = self.probes.get(key)
        if probe is not None and not probe[2]:
            kind, i, _ = probe
            probe[2] = True
            self.n_checked += 1
            if kind == 'error':
                for d in compare.check_error_reply(key[0], key[1], frames):
                    self.fail(i, d)
            elif kind == 'answer':
                for d in compare.check_answer(key[0], key[1], frames):
                    self.fail(i, d)
            else:
                self.fail(i, 'the original never answered this (%s), got a reply %s' % (kind, frames[:2]))
            return
        if probe is not None and probe[0] in ('error', 'answer'):
            return  # the same probe reply seen by a second subscriber of the identity
        self.fail(-1, 'unexpected reply %s' % [compare._short(f, 40) for f in frames])

    def outstanding(self, before):
        """Replies captured before event index `before` not received yet, plus probes ours must answer."""
        left = [(e[0], s) for s in self.open_subs() for e in s.expected if not e[2] and e[0] < before]
        if not self.original:
            left += [(p[1], None) for p in self.probes.values()
                     if p[0] in ('error', 'answer') and not p[2] and p[1] < before]
        return left

    def drain(self, before):
        deadline = time.monotonic() + self.timeout
        while self.outstanding(before):
            if time.monotonic() > deadline:
                for i, _ in self.outstanding(before):
                    self.fail(i, 'no reply within %ds' % self.timeout)
                    for s in self.open_subs():
                        for e in s.expected:
                            if e[0] == i:
                                e[2] = True
                    for p in self.probes.values():
                        if p[1] == i:
                            p[2] = True
                return
            self.receive(100)

    def run(self, order, subs):
        self.subs = subs
        events = self.cap['events']
        pending_sub = None  # capture time of the last subscription not yet followed by a request
        terminated = False
        for i in order:
            ev = events[i]
            d = ev['dir']
            if d == 'mark':
                self.session = ev['text']
            elif d == 'sub' and ev['on']:
                self.drain(i)  # replies published before it subscribed must not reach it
                s = subs[i]
                s.sock = self.ctx.socket(zmq.SUB)
                s.sock.setsockopt(zmq.LINGER, 0)
                s.sock.setsockopt(zmq.SUBSCRIBE, s.topic)
                s.sock.connect('tcp://127.0.0.1:%d' % self.port_out)
                pending_sub = ev['t']
            elif d == 'sub':
                self.drain(i)
                # the client listened for a while before it closed (e.g. waiting in vain for a reply
                # the server drops): listen as long, capped, so a reply the original never sent fails
                gap = ev['t'] - max([e['t'] for e in events[:i] if e['dir'] == 'c2s'] or [ev['t']])
                end = time.monotonic() + min(max(gap, 0.0), 2.0)
                while gap > 0.5 and time.monotonic() < end:
                    self.receive(50)
                s = subs.get(ev.get('_closes'))
                if s is not None and s.sock is not None:
                    for e in s.expected:
                        if not e[2]:
                            self.fail(e[0], 'no reply (subscription closed)')
                            e[2] = True
                    s.sock.close()
                    s.sock = None
            elif d == 'c2s':
                self.drain(i)
                if pending_sub is not None:
                    # keep the client's own pause between subscribing and sending (the stock client
                    # sends at once; a raw client of the scenarios waited 0.5 s), capped at 1 s
                    end = time.monotonic() + min(max(ev['t'] - pending_sub, 0.02), 1.0)
                    while time.monotonic() < end:
                        self.receive(20)
                    pending_sub = None
                frames = [bytes(f) for f in ev['frames']]
                kind = ev.get('expect')
                if kind and len(frames) == 4:
                    if kind == 'terminate':
                        terminated = True
                        self.probes[(frames[0], frames[2])] = ['silence', i, False]
                    else:
                        if self.original and kind in ('error', 'answer'):
                            kind = 'silence'
                        self.probes[(frames[0], frames[2])] = [kind, i, False]
                self.push_for(frames[0]).send_multipart(frames)
        self.drain(len(events))
        quiet = 3.0 if self.probes else 0.5
        end = time.monotonic() + quiet
        while time.monotonic() < end:
            self.receive(100)
        if terminated and not self.original:
            if not self.server.exited(wait=30):
                self.fail(-1, 'server still running 30 s after TERMINATION')
            elif self.server.proc.returncode != 0:
                self.fail(-1, 'server exited with %d after TERMINATION' % self.server.proc.returncode)

    def close(self):
        for s in self.pushes.values():
            s.close()
        for s in self.subs.values():
            if s.sock is not None:
                s.sock.close()
        self.ctx.term()


def replay_capture(path, args, known, logdir):
    cap = bss_capture.read_capture(path)
    name = cap['name']
    port, port_out, http_port = free_ports(3)
    argv = swap_argv(cap['server']['argv'], port, port_out, args.model_dir, http_port)
    program = shlex.split(args.program)
    log_path = os.path.join(logdir, name + '.log')
    server = bss_capture.OriginalServer(program[0], program[1:] + argv, log_path)
    t0 = time.monotonic()
    try:
        server.start(timeout=args.start_timeout)
    except Exception as e:  # a server that does not start fails this capture, not the run
        server.stop()
        return False, '%s: server did not start: %s' % (name, e), []
    order, subs = plan(cap['events'])
    r = Replay(cap, port, port_out, server, args.original, args.timeout, known)
    try:
        r.run(order, subs)
    finally:
        r.close()
        server.stop()
    took = time.monotonic() - t0
    n_req = sum(1 for ev in cap['events'] if ev['dir'] == 'c2s')
    summary = '%s: %d requests, %d replies checked, %.1fs' % (name, n_req, r.n_checked, took)
    if r.waived:
        summary += ', %d known difference(s) waived' % len(r.waived)
    if r.failures:
        return False, summary, r.failures
    return True, summary, []


def collect(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files.extend(sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith('.msgpack')))
        else:
            files.append(p)
    return files


def main():
    rig = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))
    ap = argparse.ArgumentParser(description='replay captured bert-serving traffic against a server')
    ap.add_argument('captures', nargs='*', default=[DEFAULT_CAPTURES], help='capture files or directories')
    ap.add_argument('--original', action='store_true', help="replay against the rig's original server")
    ap.add_argument('--bin-dir', default=os.environ.get('BSS_BIN_DIR'), help='dir of our bert-serving-start')
    ap.add_argument('--program', default=None, help='server command, split like a shell would (overrides --bin-dir/--original)')
    ap.add_argument('--model-dir', default=os.path.join(rig, 'minilm-tf1'))
    ap.add_argument('--known', default=DEFAULT_KNOWN, help='known-differences file')
    ap.add_argument('--timeout', type=float, default=60, help='seconds to wait for a reply')
    ap.add_argument('--start-timeout', type=float, default=240)
    ap.add_argument('--only', nargs='*', default=None, help='capture names to run')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    if args.program is None:
        if args.original:
            args.program = os.path.join(rig, 'py37', 'bin', 'bert-serving-start')
        elif args.bin_dir:
            args.program = os.path.join(args.bin_dir, 'bert-serving-start')
        else:
            ap.error('no server: set BSS_BIN_DIR, or pass --bin-dir, --program or --original')
    if not shlex.split(args.program) or not os.access(shlex.split(args.program)[0], os.X_OK):
        print('server executable not found: %s' % args.program)
        print('0 passed, 1 failed')
        return 1
    known = []
    if args.known and os.path.exists(args.known):
        with open(args.known) as f:
            known = json.load(f)
    print('server: %s%s' % (args.program, ' (original)' if args.original else ''))
    print('known differences: %d%s' % (len(known), ' (%s)' % args.known if known else ''))
    files = collect(args.captures)
    if args.only:
        files = [f for f in files if os.path.splitext(os.path.basename(f))[0] in args.only]
    passed = failed = 0
    logdir = tempfile.mkdtemp(prefix='bss-replay-')
    for path in files:
        try:
            ok, summary, failures = replay_capture(path, args, known, logdir)
        except Exception as e:
            ok, summary, failures = False, '%s: %s: %s' % (path, type(e).__name__, e), []
        print('%s %s' % ('PASS' if ok else 'FAIL', summary), flush=True)
        for line in failures[:12 if not args.verbose else None]:
            print('     ' + line)
        if len(failures) > 12 and not args.verbose:
            print('     ... %d more' % (len(failures) - 12))
        if ok:
            passed += 1
        else:
            failed += 1
    print('server logs: %s' % logdir)
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
