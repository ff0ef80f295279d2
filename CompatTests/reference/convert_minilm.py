"""Convert an HF BERT folder (config.json, model.safetensors, vocab.txt) into a Google-BERT TF1
checkpoint directory that bert-serving-start 1.10.0 loads: bert_model.ckpt.{index,data,meta},
bert_config.json and vocab.txt. Variable names follow google-research/bert modeling.py; dense
kernels are the HF (out, in) weights transposed to TF's (in, out).

usage: convert_minilm.py HF_DIR OUT_DIR        (runs on the rig's Python 3.7 + TensorFlow 1.15.5)
"""
import json
import os
import shutil
import struct
import sys

import numpy as np


def read_safetensors(path):
    """Minimal safetensors reader (8-byte LE header size, JSON header, raw little-endian data)."""
    with open(path, 'rb') as f:
        size = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(size).decode('utf-8'))
        data = f.read()
    dtypes = {'F32': '<f4', 'F16': '<f2', 'I64': '<i8'}
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        begin, end = meta['data_offsets']
        out[name] = np.frombuffer(data[begin:end], dtype=dtypes[meta['dtype']]).reshape(meta['shape'])
    return out


def google_name_map(num_layers):
    """HF tensor name -> (Google variable name, transpose?)."""
    m = {
        'embeddings.word_embeddings.weight': ('bert/embeddings/word_embeddings', False),
        'embeddings.token_type_embeddings.weight': ('bert/embeddings/token_type_embeddings', False),
        'embeddings.position_embeddings.weight': ('bert/embeddings/position_embeddings', False),
        'embeddings.LayerNorm.weight': ('bert/embeddings/LayerNorm/gamma', False),
        'embeddings.LayerNorm.bias': ('bert/embeddings/LayerNorm/beta', False),
        'pooler.dense.weight': ('bert/pooler/dense/kernel', True),
        'pooler.dense.bias': ('bert/pooler/dense/bias', False),
    }
    for i in range(num_layers):
        hf, g = 'encoder.layer.%d.' % i, 'bert/encoder/layer_%d/' % i
        for part in ('query', 'key', 'value'):
            m[hf + 'attention.self.%s.weight' % part] = (g + 'attention/self/%s/kernel' % part, True)
            m[hf + 'attention.self.%s.bias' % part] = (g + 'attention/self/%s/bias' % part, False)
        m[hf + 'attention.output.dense.weight'] = (g + 'attention/output/dense/kernel', True)
        m[hf + 'attention.output.dense.bias'] = (g + 'attention/output/dense/bias', False)
        m[hf + 'attention.output.LayerNorm.weight'] = (g + 'attention/output/LayerNorm/gamma', False)
        m[hf + 'attention.output.LayerNorm.bias'] = (g + 'attention/output/LayerNorm/beta', False)
        m[hf + 'intermediate.dense.weight'] = (g + 'intermediate/dense/kernel', True)
        m[hf + 'intermediate.dense.bias'] = (g + 'intermediate/dense/bias', False)
        m[hf + 'output.dense.weight'] = (g + 'output/dense/kernel', True)
        m[hf + 'output.dense.bias'] = (g + 'output/dense/bias', False)
        m[hf + 'output.LayerNorm.weight'] = (g + 'output/LayerNorm/gamma', False)
        m[hf + 'output.LayerNorm.bias'] = (g + 'output/LayerNorm/beta', False)
    return m


def main(hf_dir, out_dir):
    import tensorflow as tf  # TF 1.15.5 from the rig's py37 venv

    with open(os.path.join(hf_dir, 'config.json')) as f:
        hf_cfg = json.load(f)
    keys = ['attention_probs_dropout_prob', 'hidden_act', 'hidden_dropout_prob', 'hidden_size',
            'initializer_range', 'intermediate_size', 'max_position_embeddings',
            'num_attention_heads', 'num_hidden_layers', 'type_vocab_size', 'vocab_size']
    google_cfg = {k: hf_cfg[k] for k in keys}

    tensors = read_safetensors(os.path.join(hf_dir, 'model.safetensors'))
    tensors = {k[len('bert.'):] if k.startswith('bert.') else k: v for k, v in tensors.items()}
    names = google_name_map(hf_cfg['num_hidden_layers'])
    missing = sorted(set(names) - set(tensors))
    if missing:
        sys.exit('missing tensors in %s: %s' % (hf_dir, missing))

    os.makedirs(out_dir, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        # Values are fed through placeholders so the .meta graph stays small (a constant
        # initializer would embed every weight in the graph a second time).
        variables, feed = [], {}
        for hf_name in sorted(names):
            g_name, transpose = names[hf_name]
            value = np.ascontiguousarray(tensors[hf_name].T if transpose else tensors[hf_name]).astype(np.float32)
            ph = tf.placeholder(tf.float32, shape=value.shape)
            variables.append(tf.Variable(ph, name=g_name))
            feed[ph] = value
        saver = tf.train.Saver(variables)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer(), feed_dict=feed)
            saver.save(sess, os.path.join(out_dir, 'bert_model.ckpt'), write_meta_graph=True)

    with open(os.path.join(out_dir, 'bert_config.json'), 'w') as f:
        json.dump(google_cfg, f, indent=2, sort_keys=True)
    shutil.copyfile(os.path.join(hf_dir, 'vocab.txt'), os.path.join(out_dir, 'vocab.txt'))
    # tf.train.Saver writes a 'checkpoint' state file; keep it: the original does not need it
    # but users' folders usually have one.
    print('wrote %s (%d variables)' % (out_dir, len(names)))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
