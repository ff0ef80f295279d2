"""Drain on shutdown against OUR running release server (issue 8, deliverable 3).

For each way to stop the server (bert-serving-terminate, SIGTERM, SIGINT): 8 stock clients each
have a 256-sentence request in flight (the ventilator has logged all 8) when the stop arrives;
every client must get ITS reply (equal to the vectors the same texts got before, alone), the
process must exit 0 within 60 s, and both ports must be free right after.
`--gaps` also runs the known-gap row `second_signal` (a second SIGTERM while draining must end the
process at once).

Run: $RIG/py311/bin/python drain.py [--gaps]. Closes with "N passed, N failed".
"""
import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

warnings.simplefilter('ignore', UserWarning)
CLIENTS = 8
ROWS = 256


def client_texts(k):
    return ['drain client %d sentence %d about topic %s' % (k, i, ('alpha', 'beta', 'gamma', 'delta')[i % 4])
            for i in range(ROWS)]


def stop(server, how):
    if how == 'terminate':
        term = os.path.join(common.BIN_DIR, 'bert-serving-terminate')
        r = subprocess.run([term, '-port', str(server.port)], capture_output=True, timeout=30)
        if r.returncode != 0:
            return 'bert-serving-terminate exited %d: %s' % (r.returncode, r.stderr[-300:])
    elif how == 'sigterm':
        server.proc.send_signal(signal.SIGTERM)
    elif how == 'sigint':
        server.proc.send_signal(signal.SIGINT)
    return None


def encode_requests_seen(server, identities):
    """How many of `identities` have an encode request logged by the ventilator."""
    lines = [ln for ln in server.log_text().splitlines() if 'new encode request' in ln]
    return sum(1 for ident in identities if any(ln.endswith("client: b'%s'" % ident.decode()) for ln in lines))


def run_drain(how):
    server = common.Server(offset=30)
    try:
        server.wait_ready()
        clients = [common.client(server, identity=b'rel-drain-%d' % k, timeout=60000) for k in range(CLIENTS)]
        refs = [c.encode(client_texts(k)) for k, c in enumerate(clients)]
        # refs done: now the burst, from a fresh log position
        results = [None] * CLIENTS
        done_at = [None] * CLIENTS
        idents = [b'rel-drain-burst-%d' % k for k in range(CLIENTS)]
        burst = [common.client(server, identity=idents[k], timeout=60000) for k in range(CLIENTS)]

        def work(k):
            try:
                results[k] = burst[k].encode(client_texts(k))
                done_at[k] = time.time()
            except Exception as e:  # noqa: BLE001 - reported below
                results[k] = e

        threads = [threading.Thread(target=work, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        t0 = time.time()
        while encode_requests_seen(server, idents) < CLIENTS and time.time() - t0 < 30:
            time.sleep(0.02)
        seen = encode_requests_seen(server, idents)
        if seen < CLIENTS:
            return 'only %d of %d requests reached the server in 30 s' % (seen, CLIENTS)
        err = stop(server, how)
        if err:
            return err
        t_stop = time.time()
        for t in threads:
            t.join(150)
        problems = []
        after = sum(1 for t in done_at if t is not None and t > t_stop)
        if after == 0:
            problems.append('no reply arrived after the stop: nothing was in flight, the test proves nothing')
        for k in range(CLIENTS):
            r = results[k]
            if r is None or isinstance(r, Exception):
                problems.append('client %d: %r' % (k, r))
            elif not common.close_vectors(r, refs[k]):
                problems.append('client %d: wrong vectors' % k)
        try:
            code = server.proc.wait(60)
        except subprocess.TimeoutExpired:
            problems.append('server still running 60 s after the stop')
            code = None
        dt = time.time() - t_stop
        if code is not None and code != 0:
            problems.append('exit code %s' % code)
        if code is not None:
            time.sleep(0.2)
            busy = [p for p in (server.port, server.port_out) if not common.port_free(p)]
            if busy:
                problems.append('ports still bound after exit: %s' % busy)
        for c in clients + burst:
            c.close()
        if problems:
            return '; '.join(problems)
        print('      %s: 8/8 replies correct (%d arrived after the stop), exit 0 %.1f s after the stop, ports free'
              % (how, after, dt))
        return None
    finally:
        server.cleanup()


def run_second_signal():
    server = common.Server(offset=30)
    try:
        server.wait_ready()
        c = common.client(server, identity=b'rel-drain-long', timeout=300000)
        c.encode(['a long queue of work %d' % i for i in range(4000)], blocking=False)
        time.sleep(1.0)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        t0 = time.time()
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(3)
        except subprocess.TimeoutExpired:
            return 'still running 3 s after a second SIGTERM (exits only once the drain is over)'
        print('      second SIGTERM: exit %s after %.2f s' % (server.proc.returncode, time.time() - t0))
        return None
    finally:
        server.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--gaps', action='store_true')
    ap.add_argument('--only', default='')
    args = ap.parse_args()
    rows = [('drain_terminate', lambda: run_drain('terminate')),
            ('drain_sigterm', lambda: run_drain('sigterm')),
            ('drain_sigint', lambda: run_drain('sigint'))]
    if args.gaps:
        rows.append(('second_signal', run_second_signal))
    else:
        print('GAP   second_signal (known gap, see KNOWN_GAPS.md; run with --gaps)')
    only = set(filter(None, args.only.split(',')))
    passed = failed = 0
    for name, fn in rows:
        if only and name not in only:
            continue
        t0 = time.time()
        err = fn()
        print('%-5s %-18s %6.1fs  %s' % ('ok' if err is None else 'FAIL', name, time.time() - t0, err or ''), flush=True)
        passed += err is None
        failed += err is not None
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
