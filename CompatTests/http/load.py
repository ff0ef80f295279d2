"""Mixed load: N HTTP clients (POST /encode) and M stock ZeroMQ clients against one server, bounded in time.

  python load.py --base http://127.0.0.1:PORT --zmq-port P --zmq-port-out P2 [--http-clients 64] [--zmq-clients 16] [--seconds 60]

HTTP requests refused with the original's "Too many concurrent connections!" (more clients than -http_max_connect)
are counted apart, not as errors. Prints throughput and latency percentiles; exit 1 on any other error.
"""
import argparse
import threading
import time

import numpy as np
import requests
from bert_serving.client import BertClient


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--base', required=True)
    p.add_argument('--zmq-port', type=int, required=True)
    p.add_argument('--zmq-port-out', type=int, required=True)
    p.add_argument('--http-clients', type=int, default=64)
    p.add_argument('--zmq-clients', type=int, default=16)
    p.add_argument('--seconds', type=float, default=60)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--max-connect', type=int, default=10)
    a = p.parse_args()
    deadline = time.time() + a.seconds
    lock = threading.Lock()
    stats = {'http': [], 'zmq': [], 'refused': 0, 'errors': []}

    def http_client(k):
        s = requests.Session()
        i = 0
        while time.time() < deadline:
            texts = ['http client %d request %d sentence %d' % (k, i, j) for j in range(a.batch)]
            t0 = time.time()
            try:
                r = s.post(a.base + '/encode', json={'id': i, 'texts': texts}, timeout=120)
                dt = time.time() - t0
                if r.status_code == 200 and len(r.json()['result']) == a.batch:
                    with lock:
                        stats['http'].append(dt)
                elif r.status_code == 400 and 'Too many concurrent connections' in r.text:
                    with lock:
                        stats['refused'] += 1
                    time.sleep(0.01)
                else:
                    with lock:
                        stats['errors'].append('HTTP %d %s' % (r.status_code, r.text[:200]))
            except Exception as e:  # noqa: BLE001
                with lock:
                    stats['errors'].append(repr(e))
            i += 1

    def zmq_client(k):
        try:
            with BertClient(port=a.zmq_port, port_out=a.zmq_port_out, timeout=120000) as bc:
                i = 0
                while time.time() < deadline:
                    t0 = time.time()
                    v = bc.encode(['zmq client %d request %d sentence %d' % (k, i, j) for j in range(a.batch)])
                    assert v.shape[0] == a.batch
                    with lock:
                        stats['zmq'].append(time.time() - t0)
                    i += 1
        except Exception as e:  # noqa: BLE001
            with lock:
                stats['errors'].append('zmq %r' % e)

    threads = [threading.Thread(target=http_client, args=(k,)) for k in range(a.http_clients)]
    threads += [threading.Thread(target=zmq_client, args=(k,)) for k in range(a.zmq_clients)]
    t0 = time.time()
    [t.start() for t in threads]
    [t.join() for t in threads]
    wall = time.time() - t0
    for kind in ('http', 'zmq'):
        lat = np.array(stats[kind]) * 1000
        if len(lat):
            print('%-4s %6d requests %7.1f req/s %7.1f seq/s  latency ms p50 %.0f p90 %.0f p99 %.0f max %.0f' % (
                kind, len(lat), len(lat) / wall, len(lat) * a.batch / wall,
                np.percentile(lat, 50), np.percentile(lat, 90), np.percentile(lat, 99), lat.max()))
        else:
            print('%-4s no request completed' % kind)
    print('refused (over -http_max_connect %d): %d' % (a.max_connect, stats['refused']))
    print('errors: %d %s' % (len(stats['errors']), stats['errors'][:3]))
    ok = not stats['errors'] and stats['http'] and stats['zmq']
    print('%d passed, %d failed' % (1 if ok else 0, 0 if ok else 1))
    raise SystemExit(0 if ok else 1)


if __name__ == '__main__':
    main()
