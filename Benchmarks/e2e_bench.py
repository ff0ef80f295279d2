"""End-to-end benchmark: a server driven through the stock bert-serving-client 1.10.0.

Starts each server command in turn (ours, ours-fp16, the original on TF 1.15.5 from the rig), measures
  * start-up: process start -> first correct encode answered (and -> first SHOW_CONFIG),
  * throughput (sentences/s) of `encode` at a client batch size, with 1..N concurrent clients,
  * latency p50/p99 per encode call,
  * peak RSS of the whole server process tree (sampled from /proc every 50 ms),
on the same distinct sentences for everyone, and prints a table with the ratios.

usage (from the repo root, rig built):
  ~/.cache/bert-serving-swift/rig/py311/bin/python Benchmarks/e2e_bench.py \
      --servers ours,original --model minilm --batch 256 --clients 1 --seq 25 --out Benchmarks/results
--words LO-HI sets the sentence length (default 15-20 words); --model_format hf serves ours from
the safetensors folder instead of the TF1 twin. Benchmarks/peers/run.py reuses RunningServer.
"""
import argparse
import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
from bert_serving.client import BertClient

RIG = os.path.abspath(os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig')))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def make_sentences(vocab_path, n, seed=1234, lo=15, hi=20):
    """n distinct sentences of lo..hi whole words drawn from the vocabulary (seeded)."""
    words = [w.strip() for w in open(vocab_path, encoding='utf-8')]
    words = [w for w in words if w.isalpha() and w.isascii() and len(w) > 1]
    rng = random.Random(seed)
    out = set()
    while len(out) < n:
        out.add(' '.join(rng.choice(words) for _ in range(rng.randint(lo, hi))))
    return sorted(out)


def children_of(pid):
    """pid's child processes from /proc/PID/task/*/children (cheap: no walk over all of /proc);
    None where the kernel lacks that file."""
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return []
    out = []
    for t in tasks:
        try:
            with open('/proc/%d/task/%s/children' % (pid, t)) as f:
                out.extend(int(c) for c in f.read().split())
        except FileNotFoundError:
            if not os.path.exists('/proc/%d/task/%s' % (pid, t)):
                continue  # the thread ended meanwhile
            return None
        except OSError:
            pass
    return out


def tree_rss_kb(pid):
    """RSS of pid and all its descendants, in KiB."""
    direct = children_of(pid)
    if direct is not None:
        total, stack = 0, [pid]
        while stack:
            p = stack.pop()
            stack.extend(children_of(p) or [])
            total += rss_kb(p)
        return total
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                parts = f.read().rsplit(')', 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(d))
        except (OSError, IndexError):
            pass
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        total += rss_kb(p)
    return total


def rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Peak RSS of a process tree over its life (`peak`) and since the last `reset_window`
    (`window_peak`, so one workload's peak can be told from the start-up's), in KiB."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.window_peak, self.stop = pid, 0, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            rss = tree_rss_kb(self.pid)
            self.peak = max(self.peak, rss)
            self.window_peak = max(self.window_peak, rss)
            time.sleep(0.05)

    def reset_window(self):
        self.window_peak = tree_rss_kb(self.pid)


MODEL_DIRS = {('minilm', 'tf1'): 'minilm-tf1', ('base', 'tf1'): 'bertbase-tf1',
              ('minilm', 'hf'): 'minilm-hf', ('base', 'hf'): 'bertbase-hf'}


def model_dir(model, fmt='tf1'):
    return os.path.join(RIG, MODEL_DIRS[(model, fmt)])


def server_command(kind, model, port, port_out, args):
    flags = ['-port', str(port), '-port_out', str(port_out), '-max_seq_len', str(args.seq),
             '-pooling_layer', '-1', '-num_worker', str(args.num_worker),
             '-max_batch_size', str(max(256, args.batch))]
    if kind in ('ours', 'ours-fp16'):
        bin_dir = os.path.abspath(os.environ.get('BSS_BIN_DIR', os.path.join(ROOT, '.build/release')))
        mdir = model_dir(model, getattr(args, 'model_format', 'tf1'))
        precision = ['-fp16'] if kind == 'ours-fp16' else []
        return [os.path.join(bin_dir, 'bert-serving-start'), '-model_dir', mdir] + flags + precision
    if kind == 'original':
        return [os.path.join(RIG, 'py37/bin/bert-serving-start'), '-cpu', '-model_dir', model_dir(model)] + flags
    raise ValueError(kind)


def connect_client(port, port_out, timeout):
    """A stock BertClient whose SHOW_CONFIG was answered within timeout ms. When it was not, the
    half-made client's sockets and context are closed here: left to the garbage collector, the
    context's finalizer can block the whole process in zmq_ctx_term."""
    client = BertClient.__new__(BertClient)
    try:
        BertClient.__init__(client, port=port, port_out=port_out, timeout=timeout)
        return client
    except BaseException:
        for name in ('sender', 'receiver'):
            sock = getattr(client, name, None)
            if sock is not None:
                sock.close(linger=0)
        context = getattr(client, 'context', None)
        if context is not None:
            context.term()
        raise


# The start-up ends when this sentence's vector is answered (callers may check it).
FIRST_SENTENCE = 'a first sentence'


class RunningServer:
    """A server process started for measuring, its ports, RSS sampler and start-up times."""

    def __init__(self, kind, model, args, log_path=None):
        self.kind, self.model = kind, model
        self.port, self.port_out = free_port(), free_port()
        cmd = server_command(kind, model, self.port, self.port_out, args)
        # Its own working directory: the original binds its ipc:// sockets in a temporary directory
        # made in the current one (helper.auto_bind, "ipc://*") and leaves them behind.
        self.workdir = tempfile.mkdtemp(prefix='bss-bench-server-')
        self.t0 = time.time()
        self.log = open(log_path, 'wb') if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, start_new_session=True, cwd=self.workdir)
        self.sampler = RssSampler(self.proc.pid)
        self.sampler.start()
        self.client = None
        try:
            deadline = self.t0 + args.startup_timeout
            while self.client is None:
                if self.proc.poll() is not None:
                    raise RuntimeError('%s exited with %s during start-up' % (kind, self.proc.returncode))
                try:
                    self.client = connect_client(self.port, self.port_out, 2000)
                except Exception:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
            self.startup_config_s = time.time() - self.t0
            self.client.timeout = 600000  # the short timeout was only for polling the start-up
            self.first_vector = self.client.encode([FIRST_SENTENCE])
            self.startup_encode_s = time.time() - self.t0
            self.startup_peak_rss_mb = self.sampler.peak / 1024.0
        except BaseException:
            self.stop()
            raise

    def encode(self, sentences):
        return self.client.encode(sentences)

    def measure(self, sentences, batch, clients=1, warm_up=True):
        """Every client encodes its own share of distinct sentences, batch by batch."""
        if warm_up:
            self.client.encode(sentences[:batch])
        self.sampler.reset_window()
        lat = []
        lock = threading.Lock()
        per_client = [sentences[i::clients] for i in range(clients)]

        def work(share):
            c = BertClient(port=self.port, port_out=self.port_out, timeout=600000)
            for i in range(0, len(share), batch):
                s = time.time()
                v = c.encode(share[i:i + batch])
                assert v.shape[0] == len(share[i:i + batch])
                with lock:
                    lat.append(time.time() - s)
            c.close()

        threads = [threading.Thread(target=work, args=(s,)) for s in per_client]
        t1 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - t1
        return {'sent_per_s': len(sentences) / elapsed, 'p50_ms': float(np.percentile(lat, 50) * 1000),
                'p99_ms': float(np.percentile(lat, 99) * 1000), 'peak_rss_mb': self.sampler.peak / 1024.0,
                'cell_peak_rss_mb': self.sampler.window_peak / 1024.0}

    def stop(self):
        self.sampler.stop.set()
        if self.client is not None:
            self.client.close()
            self.client = None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def run_server(kind, model, sentences, args):
    result = {'server': kind, 'model': model, 'batch': args.batch, 'clients': args.clients,
              'seq': args.seq, 'num_worker': args.num_worker}
    server = RunningServer(kind, model, args)
    try:
        result['startup_config_s'] = server.startup_config_s
        result['startup_encode_s'] = server.startup_encode_s
        result.update(server.measure(sentences, args.batch, args.clients))
    finally:
        server.stop()
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--servers', default='ours,original')
    ap.add_argument('--model', default='minilm', choices=['minilm', 'base'])
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--clients', type=int, default=1)
    ap.add_argument('--seq', type=int, default=25)
    ap.add_argument('--num_worker', type=int, default=1)
    ap.add_argument('--sentences', type=int, default=4096)
    ap.add_argument('--words', default='15-20', help='words per sentence, LO-HI')
    ap.add_argument('--model_format', default='tf1', choices=['tf1', 'hf'], help='model folder ours serves')
    ap.add_argument('--startup_timeout', type=float, default=120)
    ap.add_argument('--out', default=None, help='directory for CSV/JSON results')
    args = ap.parse_args()
    lo, hi = (int(x) for x in args.words.split('-'))
    sentences = make_sentences(os.path.join(RIG, 'minilm-hf/vocab.txt'), args.sentences, lo=lo, hi=hi)
    results = [run_server(k, args.model, sentences, args) for k in args.servers.split(',')]
    base = results[-1]
    print('%-9s %-6s %6s %7s %10s %9s %9s %10s %10s %9s %7s' % (
        'server', 'model', 'batch', 'clients', 'sent/s', 'p50 ms', 'p99 ms', 'start cfg', 'start enc',
        'RSS MB', 'ratio'))
    for r in results:
        print('%-9s %-6s %6d %7d %10.1f %9.1f %9.1f %9.2fs %9.2fs %9.0f %6.2fx' % (
            r['server'], r['model'], r['batch'], r['clients'], r['sent_per_s'], r['p50_ms'], r['p99_ms'],
            r['startup_config_s'], r['startup_encode_s'], r['peak_rss_mb'], r['sent_per_s'] / base['sent_per_s']))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, 'e2e-%s-b%d-c%d-s%d-w%d.csv' % (
            args.model, args.batch, args.clients, args.seq, args.num_worker))
        with open(path, 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=sorted(results[0]))
            w.writeheader()
            w.writerows(results)
        print('wrote', path)


if __name__ == '__main__':
    main()
