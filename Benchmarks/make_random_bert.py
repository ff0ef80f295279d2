"""Write a BERT-base-sized model with seeded random weights as an HF folder (config.json,
model.safetensors, vocab.txt copied from all-MiniLM-L6-v2), for benchmarks only.
Convert it to a TF1 checkpoint with CompatTests/reference/convert_minilm.py (rig py37).

usage: make_random_bert.py OUT_DIR [--layers 12 --hidden 768 --heads 12 --intermediate 3072]
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

RIG = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--layers', type=int, default=12)
    ap.add_argument('--hidden', type=int, default=768)
    ap.add_argument('--heads', type=int, default=12)
    ap.add_argument('--intermediate', type=int, default=3072)
    ap.add_argument('--seed', type=int, default=7)
    a = ap.parse_args()
    vocab = os.path.join(RIG, 'minilm-hf/vocab.txt')
    n_vocab = sum(1 for _ in open(vocab, encoding='utf-8'))
    rng = np.random.default_rng(a.seed)
    H, I = a.hidden, a.intermediate

    def w(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    t = {
        'embeddings.word_embeddings.weight': w(n_vocab, H),
        'embeddings.position_embeddings.weight': w(512, H),
        'embeddings.token_type_embeddings.weight': w(2, H),
        'embeddings.LayerNorm.weight': np.ones(H, np.float32),
        'embeddings.LayerNorm.bias': np.zeros(H, np.float32),
        'pooler.dense.weight': w(H, H), 'pooler.dense.bias': w(H),
    }
    for i in range(a.layers):
        p = 'encoder.layer.%d.' % i
        for n in ('query', 'key', 'value'):
            t[p + 'attention.self.%s.weight' % n] = w(H, H)
            t[p + 'attention.self.%s.bias' % n] = w(H)
        t[p + 'attention.output.dense.weight'] = w(H, H)
        t[p + 'attention.output.dense.bias'] = w(H)
        t[p + 'attention.output.LayerNorm.weight'] = np.ones(H, np.float32)
        t[p + 'attention.output.LayerNorm.bias'] = np.zeros(H, np.float32)
        t[p + 'intermediate.dense.weight'] = w(I, H)
        t[p + 'intermediate.dense.bias'] = w(I)
        t[p + 'output.dense.weight'] = w(H, I)
        t[p + 'output.dense.bias'] = w(H)
        t[p + 'output.LayerNorm.weight'] = np.ones(H, np.float32)
        t[p + 'output.LayerNorm.bias'] = np.zeros(H, np.float32)
    header, offset, blobs = {}, 0, []
    for name in sorted(t):
        b = t[name].tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t[name].shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    hb = json.dumps(header).encode()
    hb += b' ' * (-len(hb) % 8)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, 'model.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    cfg = {'attention_probs_dropout_prob': 0.1, 'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1,
           'hidden_size': H, 'initializer_range': 0.02, 'intermediate_size': I,
           'max_position_embeddings': 512, 'num_attention_heads': a.heads, 'num_hidden_layers': a.layers,
           'type_vocab_size': 2, 'vocab_size': n_vocab, 'model_type': 'bert'}
    with open(os.path.join(a.out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    shutil.copyfile(vocab, os.path.join(a.out, 'vocab.txt'))
    print('wrote', a.out)


if __name__ == '__main__':
    main()
