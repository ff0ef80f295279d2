"""Latency of one request of ONE sentence through the stock bert-serving-client, against one or
more running servers, with requests alternated between them so every server sees the same
machine load (the 2-core CI machine is shared; runs minutes apart differ by 2x), and optionally
onnxruntime in-process at batch 1 as the reference (issue 7: server p50 <= onnxruntime p50 + 1 ms).

usage (the bench venv has the client, pyzmq and onnxruntime):
    ~/.cache/bert-serving-swift/bench/venv/bin/python Benchmarks/latency/one_request.py \
        --what sentence -n 300 A=5555 B=5565 ort=minilm.onnx

A server is LABEL=PORT (its -port_out must be PORT+1); `ort=FILE` is onnxruntime on
BENCH_DIR/onnx/FILE (made by Benchmarks/peers/run.py), 2 intra-op threads, on the word-piece
count the sentence has on a -max_seq_len 25 server (25; 3 for --what word). Prints p50/p90/min
in ms per label. Each request follows a 5 ms pause (idle threads go to sleep as they would
between real requests) and the order of the labels is reversed every other round.
"""
import argparse
import os
import sys
import time

from bert_serving.client import BertClient

SENTENCE = ('the quick brown fox jumps over the lazy dog while the old cat sleeps on the warm mat '
            'in the late afternoon sun near the open kitchen window')
BENCH_DIR = os.environ.get('BENCH_DIR', os.path.expanduser('~/.cache/bert-serving-swift/bench'))


class OrtBatchOne:
    """onnxruntime in-process, one row of `seq` word pieces per call."""

    def __init__(self, path, seq):
        import numpy as np
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'peers'))
        from inprocess import OrtPeer
        self.peer = OrtPeer(path, threads=2)
        ids = np.full((1, seq), 2000, dtype=np.int64)
        ids[0, 0], ids[0, -1] = 101, 102
        self.inputs = (ids, np.ones((1, seq), np.int64), np.zeros((1, seq), np.int64))

    def encode(self, _texts):
        return self.peer.pooled(*self.inputs)

    def close(self):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--what', choices=['sentence', 'word'], default='sentence')
    p.add_argument('-n', type=int, default=300, help='timed requests per label')
    p.add_argument('--pause-ms', type=float, default=5)
    p.add_argument('targets', nargs='+', help='LABEL=PORT or ort=FILE.onnx')
    a = p.parse_args()
    texts = [SENTENCE if a.what == 'sentence' else 'hello']
    seq = 25 if a.what == 'sentence' else 3
    peers = []
    for t in a.targets:
        label, _, value = t.partition('=')
        if label.startswith('ort'):
            peers.append((label, OrtBatchOne(os.path.join(BENCH_DIR, 'onnx', value), seq)))
        else:
            port = int(value)
            peers.append((label, BertClient(port=port, port_out=port + 1, check_length=False)))
    for _ in range(20):
        for _, peer in peers:
            peer.encode(texts)
    times = {label: [] for label, _ in peers}
    for i in range(a.n):
        for label, peer in (peers if i % 2 == 0 else peers[::-1]):
            time.sleep(a.pause_ms / 1000)
            start = time.perf_counter()
            peer.encode(texts)
            times[label].append((time.perf_counter() - start) * 1000)
    for label, v in times.items():
        v.sort()
        print('%-10s %-8s p50 %6.2f ms  p90 %6.2f ms  min %6.2f ms' % (
            label, a.what, v[len(v) // 2], v[int(0.9 * len(v))], v[0]))
    for _, peer in peers:
        peer.close()


if __name__ == '__main__':
    main()
