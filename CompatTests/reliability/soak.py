"""Soak test against OUR running release server (issue 8, deliverable 2).

32 concurrent stock clients (one BertClient each, own identity) on loopback share a fixed number
of requests (--requests; the run stops by itself). Request sizes are mixed (1 .. 64 sentences, and
1 % of 300, split by the ventilator), texts are drawn from a pool of distinctive sentences whose
vectors were obtained alone (one sentence per request, before the soak), and every reply is
checked row by row against them: a lost reply (timeout / exception) or a row that is not the
vector of the sentence sent (mix-up) fails the run. About 1 % of requests are malformed (raw
frames on the client's own sockets): each must be answered with an ERROR header the stock client
raises. Server RSS is sampled all along: the maximum over the last quarter of the requests must
be < 5 % above the maximum over the first quarter.

Run: $RIG/py311/bin/python soak.py --requests 500   (~60 s on 2 busy cores; >= 10 min: --requests 5000)
Closes with "N passed, N failed" (checks: no loss, no mix-up, bad requests answered, RSS).
"""
import argparse
import os
import random
import sys
import threading
import time
import warnings

import numpy as np
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

warnings.simplefilter('ignore', UserWarning)
WORDS = ('river mountain quantum violin harbor pepper lantern glacier orbit saffron meadow copper '
         'falcon tundra velvet cipher marble thunder orchard compass').split()
SIZES = [1, 1, 1, 2, 2, 3, 4, 4, 8, 8, 16, 16, 32, 64]
SPLIT_SIZE = 300     # above -max_batch_size 256: the ventilator splits it; drawn with SPLIT_RATE
SPLIT_RATE = 0.01
BAD_FRAMES = [
    lambda r: (b'["soak", ', r, b'2'),          # invalid JSON
    lambda r: (b'["soak", 7]', r, b'2'),        # not a list of strings
    lambda r: (b'["soak"]', r, b'3'),           # msg_len mismatch
    lambda r: (b'["soak", ""]', r, b'2'),       # empty string
]


def make_pool(n, seed=8):
    rng = random.Random(seed)
    pool = []
    for i in range(n):
        k = rng.randint(1, 40)
        pool.append('soak %d %s' % (i, ' '.join(rng.choice(WORDS) for _ in range(k))))
    return pool


class Soak:
    def __init__(self, server, pool, refs, total, bad_rate, seed):
        self.server = server
        self.pool = pool
        self.refs = refs
        self.total = total
        self.bad_rate = bad_rate
        self.seed = seed
        self.lock = threading.Lock()
        self.issued = 0
        self.done = 0
        self.ok = 0
        self.bad_ok = 0
        self.lost = []
        self.mixed = []
        self.bad_wrong = []
        self.rows = 0

    def next_index(self):
        with self.lock:
            if self.issued >= self.total:
                return None
            self.issued += 1
            return self.issued - 1

    def worker(self, k):
        bc = common.client(self.server, identity=b'rel-soak-%02d' % k, timeout=120000)
        try:
            while True:
                i = self.next_index()
                if i is None:
                    return
                rng = random.Random(self.seed * 1000003 + i)
                if rng.random() < self.bad_rate:
                    self.bad_request(bc, i, rng)
                else:
                    self.good_request(bc, i, rng)
                with self.lock:
                    self.done += 1
        finally:
            bc.close()

    def good_request(self, bc, i, rng):
        size = SPLIT_SIZE if rng.random() < SPLIT_RATE else rng.choice(SIZES)
        idx = [rng.randrange(len(self.pool)) for _ in range(size)]
        try:
            v = bc.encode([self.pool[j] for j in idx])
        except Exception as e:  # noqa: BLE001 - counted as lost
            with self.lock:
                self.lost.append((i, repr(e)[:200]))
            return
        expected = self.refs[idx]
        if v.shape != expected.shape:
            with self.lock:
                self.mixed.append((i, 'shape %s != %s' % (v.shape, expected.shape)))
            return
        diff = np.max(np.abs(v - expected), axis=1)
        if float(diff.max()) > 1e-4:
            with self.lock:
                self.mixed.append((i, 'rows %s differ (max %.3g)' % (list(np.nonzero(diff > 1e-4)[0][:5]), diff.max())))
            return
        with self.lock:
            self.ok += 1
            self.rows += len(idx)

    def bad_request(self, bc, i, rng):
        bc.request_id += 1
        rid = bc.request_id
        payload, req, msg_len = rng.choice(BAD_FRAMES)(b'%d' % rid)
        common.send_raw(bc, [bc.identity, payload, req, msg_len])
        try:
            v = common.recv_reply(bc, rid, 120000)
            with self.lock:
                self.bad_wrong.append((i, 'malformed request answered with a vector %s' % (v.shape,)))
        except TypeError as e:
            with self.lock:
                if 'ERROR' in str(e):
                    self.bad_ok += 1
                else:
                    self.bad_wrong.append((i, str(e)[:200]))
        except Exception as e:  # noqa: BLE001
            with self.lock:
                self.lost.append((i, 'malformed: %r' % e))
        finally:
            bc.pending_request.discard(rid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--requests', type=int, default=500)
    ap.add_argument('--clients', type=int, default=32)
    ap.add_argument('--pool', type=int, default=200)
    ap.add_argument('--bad-rate', type=float, default=0.01)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--num-worker', type=int, default=1)
    ap.add_argument('--max-seconds', type=float, default=0, help='fail if the run takes longer (0: no bound)')
    args = ap.parse_args()

    server = common.Server(offset=20, num_worker=args.num_worker)
    checks = []
    try:
        server.wait_ready()
        pool = make_pool(args.pool)
        bc = common.client(server, identity=b'rel-soak-ref')
        refs = np.concatenate([bc.encode([t]) for t in pool])
        # warm the workspace to the largest batch the soak sends
        bc.encode([pool[j % len(pool)] for j in range(300)])
        bc.close()
        soak = Soak(server, pool, refs, args.requests, args.bad_rate, args.seed)
        samples = []  # (done, rss kB)
        stop = threading.Event()

        def sampler():
            while not stop.is_set():
                samples.append((soak.done, server.rss_kb()))
                stop.wait(0.25)

        st = threading.Thread(target=sampler)
        st.start()
        t0 = time.time()
        threads = [threading.Thread(target=soak.worker, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        last = t0
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            if time.time() - last >= 30:
                last = time.time()
                print('  %.0fs: %d/%d done, RSS %s kB' % (last - t0, soak.done, args.requests, server.rss_kb()), flush=True)
        elapsed = time.time() - t0
        stop.set()
        st.join()
        samples.append((soak.done, server.rss_kb()))
        q = args.requests / 4.0
        first = [r for d, r in samples if d <= q and r]
        last_q = [r for d, r in samples if d >= 3 * q and r]
        rss1, rss4 = max(first), max(last_q)
        growth = (rss4 - rss1) / rss1
        print('soak: %d requests (%d good ok, %d malformed answered with ERROR), %d rows, %.1f s, %.1f req/s, '
              '%.0f rows/s, %d clients' % (soak.done, soak.ok, soak.bad_ok, soak.rows, elapsed, soak.done / elapsed,
                                           soak.rows / elapsed, args.clients))
        print('RSS: max first quarter %d kB, max last quarter %d kB, growth %+.2f%%, overall max %d kB'
              % (rss1, rss4, 100 * growth, max(r for _, r in samples if r)))
        checks.append(('all_requests_done', soak.done == args.requests, '%d/%d' % (soak.done, args.requests)))
        checks.append(('no_lost_reply', not soak.lost, soak.lost[:3]))
        checks.append(('no_mixed_up_reply', not soak.mixed, soak.mixed[:3]))
        checks.append(('malformed_answered_error', not soak.bad_wrong, soak.bad_wrong[:3]))
        checks.append(('rss_growth_below_5pct', growth < 0.05, '%+.2f%%' % (100 * growth)))
        checks.append(('server_alive', server.alive(), ''))
        if args.max_seconds:
            checks.append(('within_time_bound', elapsed <= args.max_seconds, '%.0f s <= %.0f s' % (elapsed, args.max_seconds)))
    finally:
        code = server.stop()
        server.cleanup()
    checks.append(('exit_code_0', code == 0, 'exit %s' % code))
    passed = failed = 0
    for name, ok, detail in checks:
        print('%-5s %-26s %s' % ('ok' if ok else 'FAIL', name, detail if not ok or isinstance(detail, str) else ''))
        passed += ok
        failed += not ok
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
