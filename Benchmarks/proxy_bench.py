"""Throughput of bert-serving-proxy with 1, 2 and 3 backends, stock clients only (issue 11).

For each configuration: N backends (our bert-serving-start, MiniLM from the rig, -num_worker 1,
OPENBLAS_NUM_THREADS = max(1, cores // N) so every configuration can use the whole machine), the
proxy in front, and C stock BertClients (bert-serving-client 1.10.0, Python 3.11, one process
each) encoding batches of B sentences for D seconds. A direct run (one server, no proxy) gives the
proxy's overhead. Per process CPU comes from /proc/PID/stat (utime + stime) over the measured window.

Usage: <rig>/py311/bin/python Benchmarks/proxy_bench.py [--clients 8] [--batch 16] [--seconds 15]
       [--json out.json]
Env: BSS_BIN_DIR (default .build/release), BSS_RIG_DIR.
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'CompatTests', 'proxy'))
import common  # noqa: E402


def client_loop(port, port_out, batch, start_at, stop_at, seed, queue):
    from bert_serving.client import BertClient
    bc = BertClient(port=port, port_out=port_out, timeout=120000)
    texts = ['sentence %d of client %d: the quick brown fox jumps over the lazy dog' % (i, seed) for i in range(batch)]
    while time.time() < start_at:
        bc.encode(texts)  # warm-up until the window opens
    done = 0
    while time.time() < stop_at:
        bc.encode(texts)
        done += batch
    bc.close()
    queue.put((done, os.getpid(), common.proc_cpu_seconds(os.getpid())))


def run(n_backends, use_proxy, args):
    cores = os.cpu_count() or 1
    threads = max(1, cores // n_backends)
    ports = common.free_ports(2 * n_backends + 3)
    backends = [(ports[2 * i], ports[2 * i + 1]) for i in range(n_backends)]
    procs = []
    try:
        servers = [common.start_backend(p, q, name='bench%d' % i, threads=threads) for i, (p, q) in enumerate(backends)]
        procs += servers
        for s in servers:
            s.wait_for_line('all set, ready to serve request!', 180)
        if use_proxy:
            proxy = common.start_proxy(ports[-3], ports[-2], ports[-1], backends)
            procs.append(proxy)
            proxy.wait_for_line('all set, ready to serve request!', 30)
            if common.wait_backends_up(ports[-1], n_backends, 30) is None:
                raise RuntimeError('backends not up behind the proxy')
            port, port_out = ports[-3], ports[-2]
        else:
            port, port_out = backends[0]
        queue = mp.Queue()
        start_at = time.time() + 3
        stop_at = start_at + args.seconds
        clients = [mp.Process(target=client_loop, args=(port, port_out, args.batch, start_at, stop_at, i, queue))
                   for i in range(args.clients)]
        for c in clients:
            c.start()
        time.sleep(max(0, start_at - time.time()))
        cpu0 = {p.name: common.proc_cpu_seconds(p.proc.pid) for p in procs}
        t0 = time.time()
        time.sleep(max(0, stop_at - time.time()))
        cpu1 = {p.name: common.proc_cpu_seconds(p.proc.pid) for p in procs}
        wall = time.time() - t0
        results = [queue.get(timeout=300) for _ in clients]
        for c in clients:
            c.join(60)
        sentences = sum(r[0] for r in results)
        cpu = {name: (cpu1[name] - cpu0[name]) / wall for name in cpu0}
        backend_cpu = [cpu['bench%d' % i] for i in range(n_backends)]
        return {
            'backends': n_backends, 'proxy': use_proxy, 'blas_threads_per_backend': threads,
            'clients': args.clients, 'batch': args.batch, 'seconds': round(wall, 2),
            'sentences_per_second': round(sentences / wall, 1),
            'backend_cores': [round(c, 3) for c in backend_cpu],
            'backend_cpu_share': [round(c / sum(backend_cpu), 3) if sum(backend_cpu) else 0 for c in backend_cpu],
            'proxy_cores': round(cpu.get('proxy', 0.0), 3),
            # Client CPU over the whole client life (warm-up included), per second of window: an upper bound.
            'client_cores_upper_bound': round(sum(r[2] for r in results) / (wall + 3), 3),
        }
    finally:
        for p in procs:
            p.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--clients', type=int, default=8)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--seconds', type=float, default=15)
    ap.add_argument('--json', default=None)
    args = ap.parse_args()
    rows = [run(1, False, args)] + [run(n, True, args) for n in (1, 2, 3)]
    print('cores: %d, clients: %d x batch %d, %.0f s per run, MiniLM, max_seq_len 25' % (
        os.cpu_count(), args.clients, args.batch, args.seconds))
    print('%-22s %10s %14s %26s %12s %12s' % ('setup', 'sent/s', 'BLAS thr/bkd', 'backend cores (share)', 'proxy cores', 'client cores'))
    for r in rows:
        setup = '%d backend%s %s' % (r['backends'], 's' if r['backends'] > 1 else '', 'via proxy' if r['proxy'] else 'direct')
        shares = ' '.join('%.2f(%.0f%%)' % (c, 100 * s) for c, s in zip(r['backend_cores'], r['backend_cpu_share']))
        print('%-22s %10.1f %14d %26s %12.2f %12.2f' % (setup, r['sentences_per_second'], r['blas_threads_per_backend'],
                                                        shares, r['proxy_cores'], r['client_cores_upper_bound']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)


if __name__ == '__main__':
    main()
