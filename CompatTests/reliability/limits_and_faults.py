"""Limits, deadlines, backpressure and faults of OUR server, checked by behaviour on the real binary.

Each check starts its own server (rig MiniLM) and drives it with the stock client or raw pyzmq.
Faults come from the server's fail points (BERT_SERVING_FAILPOINTS, see Sources/ServerCore/
FailPoints.swift), never from a test double:
  max_texts          -request_max_texts 1: two sentences are refused with an ERROR the stock
                     client raises; one sentence right after is answered correctly
  max_message_bytes  -request_max_message_bytes 200: a 300-byte request is refused, a small one served
  bind_host          -bind_host 127.0.0.1: both ports listen on loopback only (/proc/net/tcp)
  deadline           -request_timeout 1 with a worker that takes 1.5 s per job: the client gets an
                     ERROR naming -request_timeout after about 1 s, not silence
  cancel             the same request split into 3 parts (-max_batch_size 4): after the deadline the
                     worker skips the 2 parts still queued instead of computing them
  worker_restart     every 3rd encode call fails inside the worker (2 workers): exactly those requests
                     get an ERROR, each fault restarts the worker's encoder, every other reply equals a
                     clean server's vectors
  backpressure       -request_max_pending_texts 32 with a slow worker, 40 requests of 16 sentences
                     pushed at once: the server never has more than 2 requests accepted and
                     unanswered (from its log order), pauses and resumes its intake, answers all 40
                     with the right vectors
  wildcard_subscriber a SUB subscribed to b'' on -port_out does not make a new client's first
                     SHOW_CONFIG reply leave before that client subscribed (20 clients in a row)
  clone_handshakes   two clones of a connected client (the README's broadcasting example) both send
                     SHOW_CONFIG before either subscribed, then subscribe 20 ms apart: each gets a
                     config reply (10 rounds; releasing both replies on the first SUBSCRIBE lost the
                     second clone's, seen once in CI)
Run: $RIG/py311/bin/python limits_and_faults.py [--only NAME]   (closes with "N passed, N failed")
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

warnings.simplefilter('ignore', UserWarning)

FAILPOINTS = 'BERT_SERVING_FAILPOINTS'


def sentences(tag, n):
    return ['%s sentence number %d about reliable embedding servers' % (tag, i) for i in range(n)]


class Reference:
    """Vectors of a clean server (default flags), for comparing replies of servers under faults."""

    def __init__(self):
        self.server = common.Server(offset=60)
        self.server.wait_ready()
        self.bc = common.client(self.server, timeout=60000)

    def encode(self, texts):
        return self.bc.encode(texts)

    def close(self):
        self.bc.close()
        self.server.stop()
        self.server.cleanup()


def expect_error(fn, must_contain, max_seconds):
    """Runs fn(); returns None when it raised an exception naming must_contain within max_seconds."""
    t0 = time.time()
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the stock client raises TypeError for ERROR replies
        elapsed = time.time() - t0
        if must_contain not in str(e):
            return 'raised %s without %r: %s' % (type(e).__name__, must_contain, str(e)[:300])
        if elapsed > max_seconds * common.TIME_SCALE:
            return 'error came after %.1f s (bound %.1f s)' % (elapsed, max_seconds)
        return None
    return 'no error raised (expected one naming %r)' % must_contain


def with_server(extra=(), env=None, num_worker=1, offset=0):
    def wrap(check):
        def run(ref):
            server = common.Server(offset=offset, num_worker=num_worker, extra=extra, env=env)
            try:
                server.wait_ready()
                return check(server, ref)
            finally:
                server.stop()
                server.cleanup()
        run.__name__ = check.__name__
        return run
    return wrap


@with_server(extra=('-request_max_texts', '1'))
def max_texts(server, ref):
    bc = common.client(server)
    try:
        err = expect_error(lambda: bc.encode(['first sentence', 'second sentence']), '-request_max_texts', 10)
        if err:
            return err
        v = bc.encode(['one sentence is fine'])
        if not common.close_vectors(v, ref.encode(['one sentence is fine'])):
            return 'the request after the refusal got wrong vectors'
        return None
    finally:
        bc.close()


@with_server(extra=('-request_max_message_bytes', '200'))
def max_message_bytes(server, ref):
    bc = common.client(server)
    try:
        err = expect_error(lambda: bc.encode(['x' * 300]), '-request_max_message_bytes', 10)
        if err:
            return err
        v = bc.encode(['short'])
        return None if common.close_vectors(v, ref.encode(['short'])) else 'the small request got wrong vectors'
    finally:
        bc.close()


def listening_addresses(port):
    """Local IPv4 addresses listening on port, from /proc/net/tcp (state 0A = LISTEN)."""
    out = set()
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            parts = line.split()
            addr, p = parts[1].split(':')
            if parts[3] == '0A' and int(p, 16) == port:
                raw = bytes.fromhex(addr)[::-1]
                out.add('.'.join(str(b) for b in raw))
    return out


@with_server(extra=('-bind_host', '127.0.0.1'))
def bind_host(server, ref):
    for port in (server.port, server.port_out):
        got = listening_addresses(port)
        if got != {'127.0.0.1'}:
            return 'port %d listens on %s, expected 127.0.0.1 only' % (port, sorted(got) or 'nothing')
    bc = common.client(server)
    try:
        return None if common.close_vectors(bc.encode(['bound']), ref.encode(['bound'])) else 'wrong vectors'
    finally:
        bc.close()


SLOW = {FAILPOINTS: 'encode_delay_ms=1500'}


@with_server(extra=('-request_timeout', '1'), env=SLOW)
def deadline(server, ref):
    bc = common.client(server, timeout=20000)
    try:
        # The deadline is 1 s; the job takes 1.5 s. Bound: the deadline plus scheduling slack.
        t0 = time.time()
        err = expect_error(lambda: bc.encode(['too slow for the deadline']), '-request_timeout', 1.6)
        if err:
            return err
        if time.time() - t0 < 0.9:
            return 'error came before the 1 s deadline (%.2f s)' % (time.time() - t0)
        return None
    finally:
        bc.close()


@with_server(extra=('-request_timeout', '1', '-max_batch_size', '4'), env=SLOW)
def cancel(server, ref):
    bc = common.client(server, timeout=20000)
    try:
        err = expect_error(lambda: bc.encode(sentences('cancel', 12)), '-request_timeout', 1.6)
        if err:
            return err
        # Part 1 is being computed (1.5 s); parts 2 and 3 are queued and must be skipped.
        t0 = time.time()
        while time.time() - t0 < 10 * common.TIME_SCALE:
            log = server.log_text()
            if log.count('skip job') >= 2:
                break
            time.sleep(0.2)
        log = server.log_text()
        skipped, computed = log.count('skip job'), log.count('job done')
        if skipped != 2 or computed != 1:
            return 'after the deadline: %d parts skipped, %d computed (expected 2 and 1)' % (skipped, computed)
        return None
    finally:
        bc.close()


@with_server(env={FAILPOINTS: 'encode_error_every=3'}, num_worker=2)
def worker_restart(server, ref):
    bc = common.client(server, timeout=30000)
    failed = wrong = 0
    try:
        for k in range(30):
            texts = sentences('restart %d' % k, 3)
            try:
                v = bc.encode(texts)
            except TypeError as e:
                if 'injected engine fault' not in str(e):
                    return 'request %d: unexpected error %s' % (k, e)
                failed += 1
                continue
            if not common.close_vectors(v, ref.encode(texts)):
                wrong += 1
        log = server.log_text()
        restarts = log.count('restarted with a fresh encoder')
        if failed != 10 or wrong or restarts != 10:
            return '%d requests failed (expected 10), %d wrong vectors, %d restarts logged (expected 10)' % (
                failed, wrong, restarts)
        if not server.alive():
            return 'server died'
        return None
    finally:
        bc.close()


@with_server(extra=('-request_max_pending_texts', '32', '-max_batch_size', '16'),
             env={FAILPOINTS: 'encode_delay_ms=100'})
def backpressure(server, ref):
    n_req, size = 40, 16
    ctx = zmq.Context()
    identity = b'rel-backpressure'
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.SNDHWM, 0)
    push.connect('tcp://127.0.0.1:%d' % server.port)
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, identity)
    sub.connect('tcp://127.0.0.1:%d' % server.port_out)
    time.sleep(0.5)
    try:
        texts = {k: sentences('backpressure %d' % k, size) for k in range(n_req)}
        for k in range(n_req):
            payload = ('[%s]' % ', '.join('"%s"' % t for t in texts[k])).encode()
            push.send_multipart([identity, payload, b'%d' % k, b'%d' % size], zmq.NOBLOCK)
        replies = {}
        sub.setsockopt(zmq.RCVTIMEO, int(60000 * common.TIME_SCALE))
        while len(replies) < n_req:
            try:
                frames = sub.recv_multipart()
            except zmq.Again:
                return 'only %d of %d replies within 60 s' % (len(replies), n_req)
            import json
            header = json.loads(frames[1])
            rid = int(frames[3])
            if rid in replies:
                return 'request %d answered twice' % rid
            replies[rid] = np.frombuffer(frames[2], dtype=header['dtype']).reshape(header['shape'])
        # Order of the server's own log: accepted requests minus answered ones, at every line.
        outstanding = peak = 0
        for line in server.log_text().splitlines():
            if 'new encode request' in line:
                outstanding += 1
                peak = max(peak, outstanding)
            elif 'send back' in line:
                outstanding -= 1
        log = server.log_text()
        if peak > 2:
            return '%d requests accepted and unanswered at once (limit 32 sentences = 2 requests)' % peak
        if 'pausing intake' not in log or 'resuming intake' not in log:
            return 'no pause/resume of the intake in the log'
        for k in (0, n_req // 2, n_req - 1):
            if not common.close_vectors(replies[k], ref.encode(texts[k])):
                return 'request %d got wrong vectors' % k
        return None
    finally:
        push.close(0)
        sub.close(0)
        ctx.term()


@with_server(offset=40)
def wildcard_subscriber(server, ref):
    ctx = zmq.Context()
    spy = ctx.socket(zmq.SUB)
    spy.setsockopt(zmq.SUBSCRIBE, b'')
    spy.connect('tcp://127.0.0.1:%d' % server.port_out)
    time.sleep(0.5)
    lost = 0
    for k in range(20):
        try:
            c = common.client(server, identity=b'rel-wild-%d' % k, timeout=5000)
            c.close()
        except Exception:  # noqa: BLE001 - TimeoutError: the config reply was lost
            lost += 1
    spy.close(0)
    ctx.term()
    return None if lost == 0 else '%d of 20 new clients never got their SHOW_CONFIG reply' % lost


@with_server(offset=44)
def clone_handshakes(server, ref):
    bc = common.client(server, timeout=10000)
    ctx = zmq.Context()
    try:
        for round_ in range(10):
            pushes, subs = [], []
            for _ in range(2):
                push = ctx.socket(zmq.PUSH)
                push.setsockopt(zmq.LINGER, 0)
                push.connect('tcp://127.0.0.1:%d' % server.port)
                # What a stock client sends first: its identity, SHOW_CONFIG, request id 1, length 0.
                push.send_multipart([bc.identity, b'SHOW_CONFIG', b'1', b'0'])
                pushes.append(push)
            time.sleep(0.05)
            for _ in range(2):
                sub = ctx.socket(zmq.SUB)
                sub.setsockopt(zmq.LINGER, 0)
                sub.setsockopt(zmq.SUBSCRIBE, bc.identity)
                sub.setsockopt(zmq.RCVTIMEO, int(3000 * common.TIME_SCALE))
                sub.connect('tcp://127.0.0.1:%d' % server.port_out)
                subs.append(sub)
                time.sleep(0.02)
            try:
                for k, sub in enumerate(subs):
                    try:
                        frames = sub.recv_multipart()
                    except zmq.Again:
                        return 'round %d: clone %d got no config reply within 3 s' % (round_, k)
                    if len(frames) != 3 or frames[2] != b'1':
                        return 'round %d: clone %d got %d frames, request id %r' % (round_, k, len(frames), frames[-1])
            finally:
                for sock in pushes + subs:
                    sock.close(0)
        # The connected client is still served, and its clones' replies did not confuse it.
        if bc.encode(['after the clones']).shape != (1, 384):
            return 'the original client got a wrong shape after its clones'
        return None
    finally:
        bc.close()
        ctx.term()


CHECKS = [max_texts, max_message_bytes, bind_host, deadline, cancel, worker_restart, backpressure,
          wildcard_subscriber, clone_handshakes]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', help='run only this check')
    args = ap.parse_args()
    checks = [c for c in CHECKS if not args.only or c.__name__ == args.only]
    ref = Reference()
    passed = failed = 0
    try:
        for check in checks:
            t0 = time.time()
            try:
                err = check(ref)
            except Exception as e:  # noqa: BLE001 - a crash of the check is a failure, not an abort
                err = 'check raised %s: %s' % (type(e).__name__, e)
            print('%-5s %-20s %5.1f s  %s' % ('ok' if err is None else 'FAIL', check.__name__, time.time() - t0,
                                              err or ''), flush=True)
            passed += err is None
            failed += err is not None
    finally:
        ref.close()
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
