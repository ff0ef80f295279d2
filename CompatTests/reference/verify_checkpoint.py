"""Proves the rig's TF1 checkpoint is the HF model: the ORIGINAL server (TF 1.15.5) serving
minilm-tf1 with REDUCE_MEAN on the last layer must agree with all-MiniLM-L6-v2's own mean
pooling, computed here from model.safetensors by an independent numpy forward pass (HF
semantics: erf GELU, LayerNorm eps from config.json), cosine > 0.9999 per sentence.

usage: py311/bin/python verify_checkpoint.py      (env BSS_RIG_DIR; prints "N passed, N failed")
"""
import json
import math
import os
import socket
import struct
import subprocess
import sys
import time

import numpy as np
from bert_serving.client import BertClient

RIG = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))
SENTENCES = ['the quick brown fox jumps over the lazy dog',
             'A man is eating food.',
             'Embeddings map sentences to vectors of real numbers',
             'hello world']


def load_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, m in header.items():
        if k == '__metadata__' or m['dtype'] != 'F32':
            continue
        a, b = m['data_offsets']
        out[k] = np.frombuffer(data[a:b], '<f4').reshape(m['shape'])
    return out


def hf_mean_pooling(ids, mask, w, cfg):
    erf = np.vectorize(math.erf)
    H, nh = cfg['hidden_size'], cfg['num_attention_heads']
    eps = cfg.get('layer_norm_eps', 1e-12)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[p + '.weight'] + w[p + '.bias']

    def lin(x, p):
        return x @ w[p + '.weight'].T + w[p + '.bias']

    T = len(ids)
    x = w['embeddings.word_embeddings.weight'][ids] + w['embeddings.position_embeddings.weight'][:T] \
        + w['embeddings.token_type_embeddings.weight'][0]
    x = ln(x, 'embeddings.LayerNorm')
    adder = (1.0 - mask) * -10000.0
    for i in range(cfg['num_hidden_layers']):
        p = 'encoder.layer.%d.' % i
        q, k, v = (lin(x, p + 'attention.self.' + n).reshape(T, nh, -1).transpose(1, 0, 2)
                   for n in ('query', 'key', 'value'))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(H // nh) + adder
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(T, H)
        x = ln(lin(ctx, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
        h = lin(x, p + 'intermediate.dense')
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = ln(lin(h, p + 'output.dense') + x, p + 'output.LayerNorm')
    return (x * mask[:, None]).sum(0) / mask.sum()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    hf = os.path.join(RIG, 'minilm-hf')
    cfg = json.load(open(os.path.join(hf, 'config.json')))
    w = load_safetensors(os.path.join(hf, 'model.safetensors'))
    port, port_out = free_port(), free_port()
    server = subprocess.Popen(
        [os.path.join(RIG, 'py37/bin/bert-serving-start'), '-cpu', '-model_dir', os.path.join(RIG, 'minilm-tf1'),
         '-num_worker', '1', '-port', str(port), '-port_out', str(port_out), '-pooling_layer', '-1',
         '-max_seq_len', '64', '-show_tokens_to_client'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    passed = failed = 0
    try:
        bc = BertClient(port=port, port_out=port_out, timeout=120000)
        vecs, tokens = bc.encode(SENTENCES, show_tokens=True)
        vocab = {t.rstrip('\n'): i for i, t in enumerate(open(os.path.join(hf, 'vocab.txt'), encoding='utf-8'))}
        for s, v, toks in zip(SENTENCES, vecs, tokens):
            ids = np.array([vocab[t] for t in toks])
            ref = hf_mean_pooling(ids, np.ones(len(ids), np.float32), w, cfg)
            cos = float(np.dot(v, ref) / np.linalg.norm(v) / np.linalg.norm(ref))
            ok = cos > 0.9999
            passed, failed = passed + ok, failed + (not ok)
            print('%s cosine %.7f  %r' % ('ok  ' if ok else 'FAIL', cos, s))
        bc.close()
    finally:
        os.killpg(server.pid, 9)  # the original has no clean shutdown; its workers share the group
        server.wait()
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
