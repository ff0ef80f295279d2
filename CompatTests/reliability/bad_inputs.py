"""Bad inputs against OUR running release server (issue 8, deliverable 1).

Every row of CASES sends one malformed (or borderline) message and asserts what happens:
  error  - answered on the sender's identity with an ERROR header: the stock client's own receive
           path (`BertClient._recv_ndarray`) raises TypeError naming "ERROR", within `bound` seconds;
  drop   - nothing answerable (no usable identity / req_id): nothing published to anyone within
           DROP_WAIT seconds (a SUB subscribed to every topic listens);
  vector - answered with embeddings of the expected shape;
  reply  - either of the two above (the original's behaviour is not an error, ours may be).
After every row: the server process is alive, and a well-formed request from the same client and
from another, long-lived client is answered with the vector obtained before any bad input.
The table runs three times; the big rows (BIG_ROWS: 10 MB strings, 1 MB garbage, deep nesting)
only in the first pass, whose RSS jump is malloc keeping freed memory (see KNOWN_GAPS.md). RSS
after the third pass must not exceed the second by more than 5 % (a leak per request would).

Run: $RIG/py311/bin/python bad_inputs.py [--only NAME[,NAME]] [--skip-known-gaps]
Closes with "N passed, N failed"; exits 1 on any failure.
"""
import argparse
import warnings
import json
import os
import sys
import time

import numpy as np
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# BSS_REL_TIME_SCALE multiplies every time bound (scripts/asan.sh runs a debug + ASan server).
SCALE = float(os.environ.get('BSS_REL_TIME_SCALE', '1'))
DROP_WAIT = 1.5
warnings.simplefilter("ignore", UserWarning)
ERR_BOUND = 3.0 * SCALE
GOOD_TEXTS = ['the quick brown fox jumps over the lazy dog', 'reliability is a feature']
BIG_ROWS = {'string_10mb_words', 'string_10mb_one_word', 'binary_garbage_1mb', 'json_deep_nesting', 'texts_100k_tiny'}
KNOWN_GAPS_FILE = os.path.join(common.HERE, 'KNOWN_GAPS.md')


def texts_json(texts):
    return json.dumps(texts).encode('ascii')


def big_string(nbytes):
    unit = 'lorem ipsum dolor sit amet '
    return (unit * (nbytes // len(unit) + 1))[:nbytes]


# name, kind, bound (s), frames builder f(identity, req_id) -> frames
def cases():
    ok = texts_json(['hello world'])
    rows = [
        # frame structure: nothing can be addressed
        ('frames_1', 'drop', DROP_WAIT, lambda i, r: [i]),
        ('frames_2', 'drop', DROP_WAIT, lambda i, r: [i, ok]),
        ('frames_3', 'drop', DROP_WAIT, lambda i, r: [i, ok, r]),
        ('frames_5', 'drop', DROP_WAIT, lambda i, r: [i, ok, r, b'1', b'extra']),
        ('frames_8_empty', 'drop', DROP_WAIT, lambda i, r: [b''] * 8),
        ('empty_identity', 'drop', DROP_WAIT, lambda i, r: [b'', ok, r, b'1']),
        ('req_id_non_numeric', 'drop', DROP_WAIT, lambda i, r: [i, ok, b'abc', b'1']),
        ('req_id_negative', 'drop', DROP_WAIT, lambda i, r: [i, ok, b'-' + r, b'1']),
        ('req_id_empty', 'drop', DROP_WAIT, lambda i, r: [i, ok, b'', b'1']),
        # a digit-only req_id the original accepts (Python int) and the client can parse
        ('req_id_huge', 'reply', ERR_BOUND, lambda i, r: [i, ok, b'9' * 40, b'1']),
        # msg_len
        ('msg_len_non_numeric', 'error', ERR_BOUND, lambda i, r: [i, ok, r, b'one']),
        ('msg_len_empty', 'error', ERR_BOUND, lambda i, r: [i, ok, r, b'']),
        ('msg_len_negative', 'error', ERR_BOUND, lambda i, r: [i, ok, r, b'-1']),
        ('msg_len_huge', 'error', ERR_BOUND, lambda i, r: [i, ok, r, b'9' * 40]),
        ('msg_len_too_big', 'error', ERR_BOUND, lambda i, r: [i, ok, r, b'2']),
        ('msg_len_too_small', 'error', ERR_BOUND, lambda i, r: [i, texts_json(['a', 'b', 'c']), r, b'1']),
        ('msg_len_zero', 'error', ERR_BOUND, lambda i, r: [i, ok, r, b'0']),
        # JSON
        ('payload_empty', 'error', ERR_BOUND, lambda i, r: [i, b'', r, b'1']),
        ('json_invalid', 'error', ERR_BOUND, lambda i, r: [i, b'not json at all', r, b'1']),
        ('json_truncated', 'error', ERR_BOUND, lambda i, r: [i, b'["a", "b"', r, b'2']),
        ('json_trailing_garbage', 'error', ERR_BOUND, lambda i, r: [i, b'["a"] x', r, b'1']),
        ('json_numbers', 'error', ERR_BOUND, lambda i, r: [i, b'[1, 2]', r, b'2']),
        ('json_nulls', 'error', ERR_BOUND, lambda i, r: [i, b'[null]', r, b'1']),
        ('json_nested_3', 'error', ERR_BOUND, lambda i, r: [i, b'[[["a"]]]', r, b'1']),
        ('json_object', 'error', ERR_BOUND, lambda i, r: [i, b'{"texts": ["a"]}', r, b'1']),
        ('json_string', 'error', ERR_BOUND, lambda i, r: [i, b'"a"', r, b'1']),
        ('json_number', 'error', ERR_BOUND, lambda i, r: [i, b'1', r, b'1']),
        ('json_empty_list', 'error', ERR_BOUND, lambda i, r: [i, b'[]', r, b'0']),
        ('json_mixed_types', 'error', ERR_BOUND, lambda i, r: [i, b'["a", 1]', r, b'2']),
        ('json_huge_number', 'error', ERR_BOUND, lambda i, r: [i, b'[1e999999]', r, b'1']),
        ('json_deep_nesting', 'error', 10.0 * SCALE, lambda i, r: [i, b'[' * 200000 + b']' * 200000, r, b'1']),
        ('binary_garbage_1mb', 'error', 10.0 * SCALE, lambda i, r: [i, bytes((x * 131 + 7) % 256 for x in range(1 << 20)), r, b'1']),
        ('unknown_command', 'error', ERR_BOUND, lambda i, r: [i, b'SHOW_CONFIGX', r, b'0']),
        # strings
        ('empty_string', 'error', ERR_BOUND, lambda i, r: [i, texts_json(['a', '']), r, b'2']),
        ('only_empty_string', 'error', ERR_BOUND, lambda i, r: [i, texts_json(['']), r, b'1']),
        ('whitespace_only', 'reply', ERR_BOUND, lambda i, r: [i, texts_json(['   ']), r, b'1']),
        ('whitespace_control', 'reply', ERR_BOUND, lambda i, r: [i, texts_json(['\t\n\r\x00']), r, b'1']),
        ('invalid_utf8', 'reply', ERR_BOUND, lambda i, r: [i, b'["\xff\xfe abc"]', r, b'1']),
        ('overlong_utf8', 'reply', ERR_BOUND, lambda i, r: [i, b'["\xc0\xaf"]', r, b'1']),
        ('lone_surrogate', 'reply', ERR_BOUND, lambda i, r: [i, b'["\\ud800"]', r, b'1']),
        ('lone_low_surrogate_mid', 'reply', ERR_BOUND, lambda i, r: [i, b'["a\\udc00b"]', r, b'1']),
        ('surrogate_pair_ok', 'vector', ERR_BOUND, lambda i, r: [i, b'["smile \\ud83d\\ude00"]', r, b'1']),
        ('raw_utf8_surrogate', 'reply', ERR_BOUND, lambda i, r: [i, b'["\xed\xa0\x80"]', r, b'1']),
        ('nul_escape', 'reply', ERR_BOUND, lambda i, r: [i, b'["a\\u0000b"]', r, b'1']),
        ('separator_only', 'reply', ERR_BOUND, lambda i, r: [i, texts_json([' ||| ']), r, b'1']),
        # size
        ('string_10mb_words', 'reply', 120.0 * SCALE, lambda i, r: [i, texts_json([big_string(10 << 20)]), r, b'1']),
        ('string_10mb_one_word', 'reply', 120.0 * SCALE, lambda i, r: [i, texts_json(['x' * (10 << 20)]), r, b'1']),
        ('texts_100k_tiny', 'reply', 300.0 * SCALE, lambda i, r: [i, texts_json(['a'] * 100000), r, b'100000']),
        # pre-tokenized
        ('tokenized_non_string', 'error', ERR_BOUND, lambda i, r: [i, b'[["a", 1]]', r, b'1']),
        ('tokenized_null', 'error', ERR_BOUND, lambda i, r: [i, b'[["a", null]]', r, b'1']),
        ('tokenized_mixed_rows', 'error', ERR_BOUND, lambda i, r: [i, b'[["a"], "b"]', r, b'2']),
        ('tokenized_empty_row', 'reply', ERR_BOUND, lambda i, r: [i, b'[[]]', r, b'1']),
        ('tokenized_empty_token', 'reply', ERR_BOUND, lambda i, r: [i, b'[["", "a"]]', r, b'1']),
        ('tokenized_ok', 'vector', ERR_BOUND, lambda i, r: [i, b'[["hello", "world"]]', r, b'1']),
    ]
    return rows


IDENTITY_CASES = [
    # name, identity bytes: answered on that identity (SHOW_CONFIG and an encode)
    ('identity_non_ascii_utf8', 'h\u00e9llo-\u4e16\u754c'.encode('utf-8')),
    ('identity_invalid_utf8', b'\xff\xfe\x80id'),
    ('identity_binary_nul', b'\x00\x01\x02id'),
    ('identity_long_4k', b'L' * 4096),
]


def read_known_gaps():
    gaps = set()
    if os.path.exists(KNOWN_GAPS_FILE):
        for line in open(KNOWN_GAPS_FILE, encoding='utf-8'):
            if line.startswith('| `bad_inputs:'):
                gaps.add(line.split('`')[1].split(':', 1)[1])
    return gaps


class Runner:
    def __init__(self, server):
        self.server = server
        self.bc = common.client(server, identity=b'rel-bad-inputs')
        self.other = common.client(server, identity=b'rel-bystander')
        # Listens to everything published for the test client's identity (not b'': a wildcard
        # subscriber makes the server publish a new client's first config reply before that
        # client subscribed; see KNOWN_GAPS.md). Created after the client got its config.
        self.ctx = zmq.Context()
        self.spy = self.ctx.socket(zmq.SUB)
        self.spy.setsockopt(zmq.SUBSCRIBE, self.bc.identity)
        self.spy.connect('tcp://127.0.0.1:%d' % server.port_out)
        self.ref = self.bc.encode(GOOD_TEXTS)
        time.sleep(0.3)
        self.drain_spy()

    def drain_spy(self):
        n = 0
        while self.spy.poll(0):
            self.spy.recv_multipart()
            n += 1
        return n

    def check_healthy(self):
        if not self.server.alive():
            return 'server died (exit %s)' % self.server.proc.returncode
        for who, c in (('same client', self.bc), ('bystander', self.other)):
            try:
                v = c.encode(GOOD_TEXTS)
            except Exception as e:  # noqa: BLE001 - any failure is a finding
                return 'well-formed request from the %s failed afterwards: %r' % (who, e)
            if not common.close_vectors(v, self.ref):
                return 'well-formed request from the %s got wrong vectors afterwards' % who
        time.sleep(0.05)
        self.drain_spy()
        return None

    def run_case(self, kind, bound, build):
        self.drain_spy()
        rid_next = self.bc.request_id + 1
        self.bc.request_id = rid_next
        frames = build(self.bc.identity, b'%d' % rid_next)
        t0 = time.time()
        rid = common.send_raw(self.bc, frames)
        if kind == 'drop':
            got = []
            while time.time() - t0 < bound:
                if self.spy.poll(100):
                    got.append(self.spy.recv_multipart())
            self.bc.pending_request.discard(rid)
            if got:
                return 'expected a drop, got %d message(s), first %r' % (len(got), [f[:80] for f in got[0]])
            return None
        if rid is None:
            return 'internal: case of kind %s needs a numeric req_id' % kind
        try:
            v = common.recv_reply(self.bc, rid, int(bound * 1000))
            outcome = ('vector', v)
        except TypeError as e:
            outcome = ('error', str(e))
        except zmq.Again:
            outcome = ('timeout', None)
        except Exception as e:  # noqa: BLE001
            outcome = ('other', repr(e))
        dt = time.time() - t0
        self.bc.pending_request.discard(rid)
        what, detail = outcome
        if what == 'timeout':
            return 'no reply within %.1f s' % bound
        if what == 'other':
            return 'unexpected exception from the stock client: %s' % detail
        if what == 'error' and 'ERROR' not in detail:
            return 'TypeError without ERROR header: %s' % detail[:200]
        if dt > bound:
            return 'reply after %.2f s > %.1f s' % (dt, bound)
        if kind == 'error' and what != 'error':
            return 'expected an ERROR reply, got a vector of shape %s' % (detail.shape,)
        if kind == 'vector' and what != 'vector':
            return 'expected a vector, got %s' % detail[:200]
        if what == 'vector' and (detail.ndim != 2 or detail.shape[1] != self.ref.shape[1]):
            return 'vector of unexpected shape %s' % (detail.shape,)
        self.last_detail = '%s %.2fs %s' % (what, dt, (detail[:90] if what == 'error' else detail.shape))
        return None

    def run_identity(self, identity):
        try:
            c = common.client(self.server, identity=identity, timeout=5000)
            cfg = c.server_config
            if 'max_seq_len' not in cfg:
                return 'SHOW_CONFIG reply without max_seq_len'
            v = c.encode(GOOD_TEXTS)
            c.close()
        except Exception as e:  # noqa: BLE001
            return 'identity %r not answered: %r' % (identity[:20], e)
        if not common.close_vectors(v, self.ref):
            return 'wrong vectors for identity %r' % identity[:20]
        self.last_detail = 'config + vector'
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', default='')
    ap.add_argument('--skip-known-gaps', action='store_true',
                    help='do not run rows listed in KNOWN_GAPS.md (they are reported as GAP, not passed)')
    ap.add_argument('--passes', type=int, default=3)
    args = ap.parse_args()
    only = set(filter(None, args.only.split(',')))
    gaps = read_known_gaps() if args.skip_known_gaps else set()

    server = common.Server(offset=10)
    passed = failed = 0
    try:
        print('server ready in %.1f s (pid %d, ports %d/%d)' % (server.wait_ready(), server.pid, server.port, server.port_out))
        r = Runner(server)
        # warm baseline: the largest normal batch once
        r.bc.encode(['warm up the workspace with a long sentence ' * 4] * 256)
        # The spy's copy of that reply can land after the client's: let it arrive and drop it, or
        # the first drop case below sees it (seen: frames_1 "expected a drop", req_id 3).
        time.sleep(0.3)
        r.drain_spy()
        rss_base = server.rss_kb()
        rss_after = []
        rows = [(n, k, b, f) for n, k, b, f in cases()]
        rows += [(n, 'identity', 0, ident) for n, ident in IDENTITY_CASES]
        for p in range(args.passes):
            for name, kind, bound, build in rows:
                if only and name not in only:
                    continue
                if p > 0 and name in BIG_ROWS:
                    continue
                if name in gaps:
                    if p == 0:
                        print('GAP   %-26s (known gap, see KNOWN_GAPS.md)' % name, flush=True)
                    continue
                r.last_detail = ''
                t0 = time.time()
                err = r.run_identity(build) if kind == 'identity' else r.run_case(kind, bound, build)
                if err is None:
                    err = r.check_healthy()
                if p == 0 or err:
                    status = 'ok' if err is None else 'FAIL'
                    print('%-5s %-26s %-7s %6.2fs  %s' % (status, name, kind, time.time() - t0, err or r.last_detail),
                          flush=True)
                if err is None:
                    passed += p == 0
                else:
                    failed += 1
                    if not server.alive():
                        print('server died; log tail:\n' + server.log_text()[-2000:])
                        raise SystemExit(1)
            rss_after.append(server.rss_kb())
        print('RSS: warm baseline %d kB, after each pass %s kB' % (rss_base, rss_after))
        if len(rss_after) >= 2 and not only:
            growth = (rss_after[-1] - rss_after[-2]) / rss_after[-2]
            ok = growth < 0.05
            print('%-5s %-26s RSS growth over the last pass %.1f%% (< 5%%)' % ('ok' if ok else 'FAIL', 'memory_no_growth', 100 * growth))
            passed += ok
            failed += not ok
    finally:
        try:
            code = server.stop()
            print('server exit code %s' % code)
        finally:
            server.cleanup()
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
