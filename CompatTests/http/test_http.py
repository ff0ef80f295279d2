"""HTTP front checks against a running server (ours, started by run_all.sh; or any base URL).

  python test_http.py --base http://127.0.0.1:PORT --zmq-port P --zmq-port-out P2 [--vec-tol 1e-4] [--only NAME]

Prints one line per test and a last line `N passed, N failed`; exit status 1 when any failed.
Goldens: golden/original_http.json, recorded from the original Flask proxy (CompatTests/reference/http_record_golden.py).
"""
import argparse
import base64
import gzip
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

import msgpack
import numpy as np
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases import CASES, VOLATILE, call  # noqa: E402

GOLDEN = json.load(open(os.path.join(HERE, 'golden', 'original_http.json'), encoding='utf-8'))
ARGS = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def same(a, b, tol, path='$'):
    """Deep equality, floats within `tol` (absolute). Returns a list of differences."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
            if type(a) is not type(b) and path.endswith('.id'):
                return ['%s: %r vs %r (type)' % (path, a, b)]
            return [] if abs(a - b) <= tol else ['%s: %r vs %r' % (path, a, b)]
        return ['%s: %r vs %r' % (path, a, b)]
    if type(a) is not type(b):
        return ['%s: %r vs %r (type)' % (path, a, b)]
    if isinstance(a, dict):
        if set(a) != set(b):
            return ['%s: keys %s vs %s' % (path, sorted(a), sorted(b))]
        out = []
        for k in a:
            out += same(a[k], b[k], tol, path + '.' + k)
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return ['%s: length %d vs %d' % (path, len(a), len(b))]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += same(x, y, tol, '%s[%d]' % (path, i))
            if len(out) > 5:
                break
        return out
    return [] if a == b else ['%s: %r vs %r' % (path, a, b)]


def shape_of(x):
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items() if k != 'statistic'}
    return type(x).__name__


def make_golden_test(name):
    def run():
        want = GOLDEN['cases'][name]
        got = call(requests.Session(), ARGS.base, name)
        assert got['status'] == want['status'], 'status %s, original %s: %s' % (got['status'], want['status'], got['body'])
        assert got['kind'] == want['kind'], 'body kind %s, original %s' % (got['kind'], want['kind'])
        for h, v in want['headers'].items():
            if name == 'preflight' and h == 'Content-Encoding':
                continue  # flask-compress gzips even the empty preflight body; ours sends it as is
            assert got['headers'].get(h) == v, 'header %s: %r, original %r' % (h, got['headers'].get(h), v)
        if name in VOLATILE:
            if name == 'status_server':
                assert isinstance(got['body'].get('statistic'), dict), 'no statistic'
                missing = set(want['body']['statistic']) - set(got['body']['statistic'])
                assert not missing, 'statistic lacks %s' % sorted(missing)
            missing = set(want['body']) - set(got['body'])
            assert not missing, 'keys missing: %s' % sorted(missing)
            return
        diffs = same(want['body'], got['body'], ARGS.vec_tol)
        assert not diffs, '; '.join(diffs[:5])
    run.__name__ = 'golden_' + name
    return run


for _name in CASES:
    TESTS.append(make_golden_test(_name))


@test
def encode_gzip_body_decodes():
    r = requests.post(ARGS.base + '/encode', json={'id': 1, 'texts': ['hello world'] * 4}, headers={'Accept-Encoding': 'gzip'}, stream=True)
    raw = r.raw.read()
    assert r.headers['Content-Encoding'] == 'gzip'
    body = json.loads(gzip.decompress(raw))
    assert len(body['result']) == 4 and body['status'] == 200
    r = requests.post(ARGS.base + '/encode', json={'id': 1, 'texts': ['hello world'] * 4}, headers={'Accept-Encoding': 'deflate'}, stream=True)
    assert r.headers['Content-Encoding'] == 'deflate'
    assert json.loads(zlib.decompress(r.raw.read()))['id'] == 1


@test
def encode_msgpack_matches_json():
    texts = ['hello world', 'good day!']
    j = requests.post(ARGS.base + '/encode', json={'id': 5, 'texts': texts}).json()
    r = requests.post(ARGS.base + '/encode', data=msgpack.packb({'id': 5, 'texts': texts}),
                      headers={'Content-Type': 'application/msgpack', 'Accept': 'application/msgpack'})
    assert r.status_code == 200, r.text
    assert r.headers['Content-Type'] == 'application/msgpack'
    m = msgpack.unpackb(r.content, raw=False)
    assert m['id'] == 5 and m['status'] == 200
    assert np.allclose(np.array(m['result'], dtype=np.float32), np.array(j['result'], dtype=np.float32), atol=0)


@test
def too_many_concurrent_connections():
    n = ARGS.max_connect * 3
    results = []
    barrier = threading.Barrier(n)

    def go():
        barrier.wait()
        r = requests.post(ARGS.base + '/encode', json={'id': 1, 'texts': ['concurrent request number %d' % i for i in range(128)]})
        results.append((r.status_code, r.json()))
    ts = [threading.Thread(target=go) for _ in range(n)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    ok = [b for s, b in results if s == 200]
    refused = [b for s, b in results if s == 400]
    assert len(ok) + len(refused) == n, results
    assert ok and refused, 'expected both served and refused requests, got %d ok %d refused' % (len(ok), len(refused))
    want = 'Too many concurrent connections!Try to increase the value of "max_concurrency", currently =%d' % ARGS.max_connect
    assert all(b == {'description': want, 'status': 400, 'type': 'RuntimeError'} for b in refused), refused[0]


@test
def request_limits():
    big = 'x' * (ARGS.max_body + 10)
    r = requests.post(ARGS.base + '/encode', data=json.dumps({'id': 1, 'texts': [big]}), headers={'Content-Type': 'application/json'})
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert 'request body larger than' in r.json()['description']


@test
def openai_string_list_and_base64():
    from openai import OpenAI
    client = OpenAI(base_url=ARGS.base + '/v1', api_key='unused', max_retries=0)
    ref = requests.post(ARGS.base + '/encode', json={'id': 0, 'texts': ['hello world', 'good day!']}).json()['result']
    one = client.embeddings.create(model='bert-base', input='hello world', encoding_format='float')
    assert len(one.data) == 1 and one.model == 'bert-base'
    assert np.allclose(one.data[0].embedding, ref[0], atol=1e-6)
    many = client.embeddings.create(model='bert-base', input=['hello world', 'good day!'], encoding_format='float')
    assert [d.index for d in many.data] == [0, 1]
    assert np.allclose([d.embedding for d in many.data], ref, atol=1e-6)
    b64 = client.embeddings.create(model='bert-base', input=['hello world', 'good day!'], encoding_format='base64')
    # asked for explicitly, the client hands back the base64 text: little-endian float32
    vecs = [np.frombuffer(base64.b64decode(d.embedding), dtype='<f4') for d in b64.data]
    assert np.allclose(vecs, ref, atol=0)
    default = client.embeddings.create(model='bert-base', input='good day!')  # the client asks for base64 itself
    assert np.allclose(default.data[0].embedding, ref[1], atol=0)


@test
def openai_usage_counts_tokens_like_the_original_tokenizer():
    tc = GOLDEN['token_counts']
    r = requests.post(ARGS.base + '/v1/embeddings', json={'model': 'm', 'input': tc['texts']})
    assert r.status_code == 200, r.text
    assert r.json()['usage'] == {'prompt_tokens': sum(tc['counts']), 'total_tokens': sum(tc['counts'])}, (r.json()['usage'], tc['counts'])


@test
def openai_errors():
    from openai import OpenAI, BadRequestError
    client = OpenAI(base_url=ARGS.base + '/v1', api_key='unused', max_retries=0)
    for kwargs, param in [(dict(input='hello', dimensions=64), 'dimensions'), (dict(input=[1, 2, 3]), 'input'),
                          (dict(input=''), 'input'), (dict(input=[]), 'input'), (dict(input='x', encoding_format='int8'), 'encoding_format')]:
        try:
            client.embeddings.create(model='m', **kwargs)
        except BadRequestError as e:
            err = e.body if isinstance(e.body, dict) else {}
            assert err.get('param') == param and err.get('type') == 'invalid_request_error' and err.get('message'), e.body
        else:
            raise AssertionError('no error for %r' % kwargs)
    r = requests.post(ARGS.base + '/v1/embeddings', data=b'nope', headers={'Content-Type': 'application/json'})
    assert r.status_code == 400 and set(r.json()['error']) == {'message', 'type', 'param', 'code'}


@test
def openai_pretokenized_input():
    r = requests.post(ARGS.base + '/v1/embeddings', json={'model': 'm', 'input': [['hello', 'world']], 'encoding_format': 'float'})
    assert r.status_code == 200, r.text
    ref = requests.post(ARGS.base + '/encode', json={'id': 0, 'texts': [['hello', 'world']], 'is_tokenized': True}).json()['result']
    assert np.allclose(r.json()['data'][0]['embedding'], ref[0], atol=1e-6)


def scrape():
    from prometheus_client.parser import text_string_to_metric_families
    text = requests.get(ARGS.base + '/metrics').text
    values = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


def total(values, name, **labels):
    return sum(v for (n, ls), v in values.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items()))


@test
def metrics_parse_and_move():
    before = scrape()
    requests.post(ARGS.base + '/encode', json={'id': 1, 'texts': ['a b c', 'd e f', 'g']})
    requests.post(ARGS.base + '/encode', json={'id': 1, 'texts': 'not a list'})
    requests.post(ARGS.base + '/v1/embeddings', json={'model': 'm', 'input': 'hello world'})
    after = scrape()
    assert total(after, 'bss_encoded_sequences_total') - total(before, 'bss_encoded_sequences_total') == 4
    assert total(after, 'bss_http_requests_total', route='/encode', code='200') - total(before, 'bss_http_requests_total', route='/encode', code='200') == 1
    assert total(after, 'bss_http_errors_total', kind='bad_request') - total(before, 'bss_http_errors_total', kind='bad_request') == 1
    assert total(after, 'bss_prompt_tokens_total') - total(before, 'bss_prompt_tokens_total') == 4
    assert total(after, 'bss_http_request_duration_seconds_count', route='/encode') - total(before, 'bss_http_request_duration_seconds_count', route='/encode') == 2
    assert total(after, 'bss_request_batch_size_sequences_count') - total(before, 'bss_request_batch_size_sequences_count') == 2
    assert ('bss_bridge_queue_depth_requests', ()) in after
    assert total(after, 'bss_bridge_round_trip_seconds_count', kind='encode') > total(before, 'bss_bridge_round_trip_seconds_count', kind='encode')


@test
def health_and_ready():
    assert requests.get(ARGS.base + '/health').json() == {'status': 'ok'}
    r = requests.get(ARGS.base + '/ready')
    assert r.status_code == 200 and r.json() == {'ready': True}


@test
def zeromq_clients_are_served_alongside_http():
    from bert_serving.client import BertClient
    errors = []

    def http_loop():
        try:
            for i in range(10):
                r = requests.post(ARGS.base + '/encode', json={'id': i, 'texts': ['http sentence %d' % i]})
                if r.status_code != 200:
                    errors.append(r.text)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    ts = [threading.Thread(target=http_loop) for _ in range(2)]
    [t.start() for t in ts]
    with BertClient(port=ARGS.zmq_port, port_out=ARGS.zmq_port_out, timeout=60000) as bc:
        for i in range(10):
            v = bc.encode(['zmq sentence %d' % i])
            assert v.shape[0] == 1
        via_zmq = bc.encode(['hello world'])
    [t.join() for t in ts]
    assert not errors, errors[:3]
    via_http = requests.post(ARGS.base + '/encode', json={'id': 0, 'texts': ['hello world']}).json()['result']
    assert np.allclose(via_zmq, via_http, atol=1e-6)


def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError('headless Chromium not found (Debian package "chromium"); the dashboard test needs it')


def dump_dom(url):
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--user-data-dir=' + profile,
                              '--virtual-time-budget=4000', '--dump-dom', url],
                             capture_output=True, text=True, timeout=120)
    return out.stdout


@test
def dashboard_shows_live_status():
    url = ARGS.base + '/?interval=500'
    html = requests.get(ARGS.base + '/').text
    assert '<canvas id="throughput"' in html and 'http' not in re.findall(r'src="([^"]*)"', html), 'external resources'
    dom1 = dump_dom(url)
    m1 = re.search(r'id="statistic-num_data_request">(\d+)<', dom1)
    assert m1, 'num_data_request not rendered: %s' % dom1[:500]
    for i in range(3):
        requests.post(ARGS.base + '/encode', json={'id': i, 'texts': ['dashboard %d' % i]})
    dom2 = dump_dom(url)
    m2 = re.search(r'id="statistic-num_data_request">(\d+)<', dom2)
    assert m2 and int(m2.group(1)) >= int(m1.group(1)) + 3, (m1.group(1), m2 and m2.group(1))
    assert 'serving' in dom2 and 'server_version">1.10.0<' in dom2


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument('--base', required=True)
    p.add_argument('--zmq-port', type=int, required=True)
    p.add_argument('--zmq-port-out', type=int, required=True)
    p.add_argument('--max-connect', type=int, default=3)
    p.add_argument('--max-body', type=int, default=16 << 20)
    p.add_argument('--vec-tol', type=float, default=1e-4)
    p.add_argument('--only', action='append')
    ARGS = p.parse_args()
    passed = failed = 0
    for t in TESTS:
        if ARGS.only and not any(o in t.__name__ for o in ARGS.only):
            continue
        start = time.time()
        try:
            t()
        except Exception as e:  # noqa: BLE001
            failed += 1
            print('FAIL %s (%.1fs): %s' % (t.__name__, time.time() - start, e))
            if not isinstance(e, AssertionError):
                traceback.print_exc()
        else:
            passed += 1
            print('ok   %s (%.1fs)' % (t.__name__, time.time() - start))
        sys.stdout.flush()
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
