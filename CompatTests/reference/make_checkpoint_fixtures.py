"""Write the Checkpoint test fixtures: a tiny Google-BERT model (2 layers, hidden 32, 4 heads,
intermediate 64, ~100-token vocab, fixed-seed random weights) saved by TensorFlow 1.15.5's
tf.train.Saver AND as Hugging Face safetensors with the same values, plus float16 / bfloat16 /
optimizer-slot variants and one small malformed file per CheckpointError case.

usage: $RIG/py37/bin/python CompatTests/reference/make_checkpoint_fixtures.py [OUT_DIR]
       (OUT_DIR defaults to Tests/CheckpointTests/Resources; runs on the rig's TF 1.15.5)

The safetensors files are written by hand (8-byte LE header length, JSON header, raw LE data),
the TF1 bundles only ever by TensorFlow; malformed files are byte-level edits of TF's output.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

HIDDEN, LAYERS, HEADS, INTERMEDIATE, MAX_POS, TYPE_VOCAB = 32, 2, 4, 64, 64, 2
SEED = 20261125
EDGE = 'bert/embeddings/f16_edge_embeddings'

VOCAB = (['[PAD]'] + ['[unused%d]' % i for i in range(9)] + ['[UNK]', '[CLS]', '[SEP]', '[MASK]']
         + list('abcdefghijklmnopqrstuvwxyz') + ['##' + c for c in 'abcdefghijklmnopqrstuvwxyz']
         + ['the', 'of', 'and', 'to', 'in', 'is', 'it', 'that', 'hello', 'world', 'bert', 'serving',
            'fast', 'slow', 'model', 'vector', 'token', 'swift', 'python', '##ing', '##s', '##ed',
            '.', ',', '!', '?', "'", '-', '|', '(', ')', '中', '文'])


def google_config():
    return {
        'attention_probs_dropout_prob': 0.1, 'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1,
        'hidden_size': HIDDEN, 'initializer_range': 0.02, 'intermediate_size': INTERMEDIATE,
        'max_position_embeddings': MAX_POS, 'num_attention_heads': HEADS,
        'num_hidden_layers': LAYERS, 'type_vocab_size': TYPE_VOCAB, 'vocab_size': len(VOCAB),
    }


def hf_config():
    cfg = google_config()
    cfg.update({'architectures': ['BertModel'], 'model_type': 'bert', 'layer_norm_eps': 1e-12,
                'pad_token_id': 0, 'position_embedding_type': 'absolute'})
    return cfg


def weights():
    """Google name -> float32 array in Google layout ([in, out] kernels)."""
    rng = np.random.RandomState(SEED)

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def gamma():
        return (1.0 + rng.standard_normal(HIDDEN) * 0.1).astype(np.float32)

    w = {
        'bert/embeddings/word_embeddings': normal(len(VOCAB), HIDDEN),
        'bert/embeddings/token_type_embeddings': normal(TYPE_VOCAB, HIDDEN),
        'bert/embeddings/position_embeddings': normal(MAX_POS, HIDDEN),
        'bert/embeddings/LayerNorm/gamma': gamma(),
        'bert/embeddings/LayerNorm/beta': normal(HIDDEN),
    }
    for i in range(LAYERS):
        g = 'bert/encoder/layer_%d/' % i
        for part in ('query', 'key', 'value'):
            w[g + 'attention/self/%s/kernel' % part] = normal(HIDDEN, HIDDEN)
            w[g + 'attention/self/%s/bias' % part] = normal(HIDDEN)
        w[g + 'attention/output/dense/kernel'] = normal(HIDDEN, HIDDEN)
        w[g + 'attention/output/dense/bias'] = normal(HIDDEN)
        w[g + 'attention/output/LayerNorm/gamma'] = gamma()
        w[g + 'attention/output/LayerNorm/beta'] = normal(HIDDEN)
        w[g + 'intermediate/dense/kernel'] = normal(HIDDEN, INTERMEDIATE)
        w[g + 'intermediate/dense/bias'] = normal(INTERMEDIATE)
        w[g + 'output/dense/kernel'] = normal(INTERMEDIATE, HIDDEN)
        w[g + 'output/dense/bias'] = normal(HIDDEN)
        w[g + 'output/LayerNorm/gamma'] = gamma()
        w[g + 'output/LayerNorm/beta'] = normal(HIDDEN)
    w['bert/pooler/dense/kernel'] = normal(HIDDEN, HIDDEN)
    w['bert/pooler/dense/bias'] = normal(HIDDEN)
    return w


def hf_name(google):
    """Google variable name -> (HF name, transpose?), the inverse of transformers' mapping."""
    parts = google.split('/')
    assert parts[0] == 'bert'
    parts = parts[1:]
    out = []
    for p in parts:
        if p.startswith('layer_'):
            out += ['layer', p[len('layer_'):]]
        else:
            out.append(p)
    leaf = out[-1]
    transpose = False
    if leaf == 'gamma':
        out[-1] = 'weight'
    elif leaf == 'beta':
        out[-1] = 'bias'
    elif leaf == 'kernel':
        out[-1] = 'weight'
        transpose = True
    elif leaf.endswith('_embeddings'):
        out.append('weight')
    return '.'.join(out), transpose


# ---- safetensors, by hand -------------------------------------------------------------------

ST_DTYPES = {np.dtype('<f4'): 'F32', np.dtype('<f2'): 'F16', np.dtype('<i8'): 'I64', np.dtype('<f8'): 'F64'}


def write_safetensors(path, tensors, dtypes=None):
    """tensors: list of (name, array); dtypes: optional name -> safetensors dtype override
    (used for BF16, whose array holds the raw uint16 bits)."""
    dtypes = dtypes or {}
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name, arr in tensors:
        data = np.ascontiguousarray(arr).tobytes()
        header[name] = {'dtype': dtypes.get(name) or ST_DTYPES[arr.dtype.newbyteorder('<')],
                        'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
    raw += b' ' * (-len(raw) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def hf_tensors(w, prefix='', convert=lambda a: a):
    out = []
    for g in sorted(w):
        name, transpose = hf_name(g)
        arr = w[g].T if transpose else w[g]
        out.append((prefix + name, convert(np.ascontiguousarray(arr))))
    return out


def bf16_bits(a):
    """float32 -> bfloat16 bit patterns (round to nearest even), as uint16."""
    bits = a.astype('<f4').view('<u4').astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype('<u2')


# ---- TF1 bundles, written by TensorFlow ------------------------------------------------------

def save_tf1(prefix, variables):
    """variables: list of (name, numpy array) saved with tf.train.Saver under exactly these names.
    Variables start from zeros and are assigned through placeholders, so the graph holds no
    copies of the values."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        tf_vars, feeds, assigns = {}, {}, []
        for name, arr in variables:
            v = tf.Variable(tf.zeros(arr.shape, dtype=tf.as_dtype(arr.dtype)), name=name, trainable=False)
            ph = tf.placeholder(tf.as_dtype(arr.dtype), arr.shape)
            assigns.append(tf.assign(v, ph))
            feeds[ph] = arr
            tf_vars[name] = v
        saver = tf.train.Saver(var_list=tf_vars)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(assigns, feed_dict=feeds)
            saver.save(sess, prefix, write_meta_graph=False)
    checkpoint_state = os.path.join(os.path.dirname(prefix), 'checkpoint')
    if os.path.exists(checkpoint_state):
        os.remove(checkpoint_state)


def save_tf1_two_shards(prefix, variables):
    """Like save_tf1, but with variables alternately placed on two CPU devices and a sharded
    Saver, so TensorFlow writes <prefix>.data-00000-of-00002 and -00001-of-00002."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        tf_vars, feeds, assigns = {}, {}, []
        for i, (name, arr) in enumerate(variables):
            with tf.device('/cpu:%d' % (i % 2)):
                v = tf.Variable(tf.zeros(arr.shape, dtype=tf.as_dtype(arr.dtype)), name=name, trainable=False)
                ph = tf.placeholder(tf.as_dtype(arr.dtype), arr.shape)
                assigns.append(tf.assign(v, ph))
            feeds[ph] = arr
            tf_vars[name] = v
        saver = tf.train.Saver(var_list=tf_vars, sharded=True)
        config = tf.ConfigProto(device_count={'CPU': 2})
        with tf.Session(graph=graph, config=config) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(assigns, feed_dict=feeds)
            saver.save(sess, prefix, write_meta_graph=False)
    checkpoint_state = os.path.join(os.path.dirname(prefix), 'checkpoint')
    if os.path.exists(checkpoint_state):
        os.remove(checkpoint_state)


def write_model_dir(d, config_name='bert_config.json', config=None):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, config_name), 'w') as f:
        json.dump(config or google_config(), f, indent=2, sort_keys=True)
    with open(os.path.join(d, 'vocab.txt'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(VOCAB) + '\n')


# ---- byte-level helpers for malformed bundles ------------------------------------------------

def crc32c(data):
    table = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    c = 0xFFFFFFFF
    for b in bytearray(data):
        c = (c >> 8) ^ table[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def mask(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    result, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def first_data_block(index):
    """(offset, size) of the first data block of a LevelDB table."""
    footer = index[-48:]
    _, p = varint(footer, 0)
    _, p = varint(footer, p)
    index_off, p = varint(footer, p)
    # first entry of the index block: shared=0, non_shared, value_len, key, value = handle
    _, q = varint(index, index_off)
    non_shared, q = varint(index, q)
    _, q = varint(index, q)
    q += non_shared
    off, q = varint(index, q)
    size, q = varint(index, q)
    return off, size


def reseal_block(buf, off, size, type_byte=None):
    """Recompute the masked crc32c trailer of the block at off (optionally changing its type)."""
    if type_byte is not None:
        buf[off + size] = type_byte
    struct.pack_into('<I', buf, off + size + 1, mask(crc32c(bytes(buf[off:off + size + 1]))))


def copy_bundle(src_prefix, dst_dir, edit_index=None, edit_data=None, keep_data=True):
    os.makedirs(dst_dir, exist_ok=True)
    with open(src_prefix + '.index', 'rb') as f:
        index = bytearray(f.read())
    with open(src_prefix + '.data-00000-of-00001', 'rb') as f:
        data = bytearray(f.read())
    if edit_index:
        index = edit_index(index)
    if edit_data:
        data = edit_data(data)
    dst = os.path.join(dst_dir, 'bert_model.ckpt')
    with open(dst + '.index', 'wb') as f:
        f.write(index)
    if keep_data:
        with open(dst + '.data-00000-of-00001', 'wb') as f:
            f.write(data)


def main(out):
    import tensorflow as tf
    w = weights()
    names = sorted(w)
    if os.path.isdir(out):
        for entry in os.listdir(out):
            p = os.path.join(out, entry)
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif entry not in ('.keep', 'README.md'):
                os.remove(p)
    os.makedirs(out, exist_ok=True)

    # 1. the twins: TF1 float32 and HF safetensors float32 (with the 'bert.' prefix, a
    #    position_ids buffer and an MLM head bias that the reader must skip).
    d = os.path.join(out, 'tiny-tf1')
    write_model_dir(d)
    save_tf1(os.path.join(d, 'bert_model.ckpt'), [(n, w[n]) for n in names])

    d = os.path.join(out, 'tiny-hf')
    write_model_dir(d, 'config.json', hf_config())
    extra = [('bert.embeddings.position_ids', np.arange(MAX_POS, dtype='<i8').reshape(1, MAX_POS)),
             ('cls.predictions.bias', np.zeros(len(VOCAB), dtype='<f4'))]
    write_safetensors(os.path.join(d, 'model.safetensors'), hf_tensors(w, 'bert.') + extra)

    # 2. half precision: a TF1 DT_HALF bundle and HF F16 / BF16 files, plus references holding
    #    numpy's own conversion back to float32. f16 edge values (subnormals, inf, NaN) ride along
    #    as an extra embedding table, so both readers' name mappings carry them.
    edge = np.array([0.0, -0.0, 1.0, -2.0, 65504.0, 6e-08, 6.1e-05, -3e-07, np.inf, -np.inf, np.nan],
                    dtype=np.float16)
    w16 = {n: w[n].astype(np.float16) for n in names}
    d = os.path.join(out, 'tiny-tf1-fp16')
    write_model_dir(d)
    save_tf1(os.path.join(d, 'bert_model.ckpt'), [(n, w16[n]) for n in names] + [(EDGE, edge)])
    ref = {n: w16[n].astype(np.float32) for n in names}
    write_safetensors(os.path.join(out, 'reference-f16-as-f32.safetensors'),
                      hf_tensors(ref) + [(hf_name(EDGE)[0], edge.astype(np.float32))])
    d = os.path.join(out, 'tiny-hf-f16')
    write_model_dir(d, 'config.json', hf_config())
    write_safetensors(os.path.join(d, 'model.safetensors'), hf_tensors(w, convert=lambda a: a.astype('<f2')))
    d = os.path.join(out, 'tiny-hf-bf16')
    write_model_dir(d, 'config.json', hf_config())
    bf = hf_tensors(w, convert=bf16_bits)
    write_safetensors(os.path.join(d, 'model.safetensors'), bf, {n: 'BF16' for n, _ in bf})
    write_safetensors(os.path.join(out, 'reference-bf16-as-f32.safetensors'),
                      [(n, (a.astype(np.uint32) << 16).view('<f4')) for n, a in bf])

    # 3. a training checkpoint: adam_m / adam_v slots and global_step next to the weights, and a
    #    copy whose slot bytes are overwritten (loading the model must never read them).
    rng = np.random.RandomState(SEED + 1)
    train = [(n, w[n]) for n in names]
    for n in names:
        train.append((n + '/adam_m', (rng.standard_normal(w[n].shape) * 1e-3).astype(np.float32)))
        train.append((n + '/adam_v', (rng.standard_normal(w[n].shape) ** 2 * 1e-6).astype(np.float32)))
    train.append(('global_step', np.array(1000, dtype=np.int64)))
    d = os.path.join(out, 'tiny-tf1-adam')
    write_model_dir(d)
    save_tf1(os.path.join(d, 'bert_model.ckpt'), train)

    def garble_slots(data):
        for n, arr in train:
            if n.endswith('/adam_m') or n.endswith('/adam_v'):
                raw = arr.tobytes()
                at = data.find(raw)
                assert at >= 0 and data.find(raw, at + 1) < 0, n
                data[at:at + len(raw)] = b'\xff' * len(raw)
        return data
    d = os.path.join(out, 'tiny-tf1-adam-garbled-slots')
    write_model_dir(d)
    copy_bundle(os.path.join(out, 'tiny-tf1-adam', 'bert_model.ckpt'), d, edit_data=garble_slots)

    # 3a. the float32 weights in a bundle of two data shards.
    d = os.path.join(out, 'tiny-tf1-two-shards')
    write_model_dir(d)
    save_tf1_two_shards(os.path.join(d, 'bert_model.ckpt'), [(n, w[n]) for n in names])
    shards = sorted(f for f in os.listdir(d) if '.data-' in f)
    assert shards == ['bert_model.ckpt.data-00000-of-00002', 'bert_model.ckpt.data-00001-of-00002'], shards

    # 3b. an index larger than TensorFlow's 256 KiB table block, so it has several data blocks
    #     and restart points: 7000 scalars whose names start with unrelated hex digests.
    import hashlib
    many = [('%s/v%05d' % (hashlib.md5(str(i).encode()).hexdigest()[:24], i), np.array(i, dtype=np.float32))
            for i in range(7000)]
    d = os.path.join(out, 'many-blocks')
    os.makedirs(d)
    save_tf1(os.path.join(d, 'bert_model.ckpt'), many)

    # 4. malformed files, one per CheckpointError case, derived from a 3-variable micro bundle.
    bad = os.path.join(out, 'malformed')
    micro_dir = os.path.join(bad, 'micro')
    micro = [('bert/embeddings/LayerNorm/beta', w['bert/embeddings/LayerNorm/beta']),
             ('bert/embeddings/LayerNorm/gamma', w['bert/embeddings/LayerNorm/gamma']),
             ('bert/pooler/dense/bias', w['bert/pooler/dense/bias'])]
    os.makedirs(micro_dir)
    save_tf1(os.path.join(micro_dir, 'bert_model.ckpt'), micro)
    micro_prefix = os.path.join(micro_dir, 'bert_model.ckpt')

    # missing files: config + vocab but no checkpoint; an index whose data shard is gone;
    # an HF folder without model.safetensors.
    write_model_dir(os.path.join(bad, 'no-checkpoint'))
    copy_bundle(micro_prefix, os.path.join(bad, 'missing-shard'), keep_data=False)
    write_model_dir(os.path.join(bad, 'hf-no-safetensors'), 'config.json', hf_config())

    # wrong shape: the config says hidden_size 48, the weights are 32 wide.
    cfg = google_config()
    cfg['hidden_size'] = 48
    write_model_dir(os.path.join(bad, 'wrong-shape'), config=cfg)
    copy_bundle(micro_prefix, os.path.join(bad, 'wrong-shape'))

    # dtypes: a DT_DOUBLE weight (supported by TF, not by us) and an enum value TF doesn't define.
    os.makedirs(os.path.join(bad, 'float64-weight'))
    save_tf1(os.path.join(bad, 'float64-weight', 'bert_model.ckpt'),
             [('bert/embeddings/LayerNorm/gamma', w['bert/embeddings/LayerNorm/gamma'].astype(np.float64))])

    def unknown_dtype(index):
        off, size = first_data_block(index)
        key = b'bert/embeddings/LayerNorm/beta'
        at = index.find(key, off, off + size)
        assert at >= 0 and index[at + len(key):at + len(key) + 2] == b'\x08\x01'
        index[at + len(key) + 1] = 0x63  # DataType 99
        reseal_block(index, off, size)
        return index
    copy_bundle(micro_prefix, os.path.join(bad, 'unknown-dtype'), edit_index=unknown_dtype)

    # data shard cut short; one flipped byte in the data; one flipped byte in an index block.
    copy_bundle(micro_prefix, os.path.join(bad, 'truncated-shard'), edit_data=lambda d: d[:len(d) - 20])

    def flip_last(data):
        data[-1] ^= 0x40
        return data
    copy_bundle(micro_prefix, os.path.join(bad, 'crc-mismatch'), edit_data=flip_last)

    def flip_index(index):
        off, size = first_data_block(index)
        key = b'bert/embeddings/LayerNorm/beta'
        at = index.find(key, off, off + size)
        index[at] ^= 0x01
        return index
    copy_bundle(micro_prefix, os.path.join(bad, 'index-crc-mismatch'), edit_index=flip_index)

    # index cut to 30 bytes (shorter than the footer); index with its footer cut off; garbage.
    copy_bundle(micro_prefix, os.path.join(bad, 'truncated-index'), edit_index=lambda i: i[:30])
    copy_bundle(micro_prefix, os.path.join(bad, 'index-no-footer'), edit_index=lambda i: i[:len(i) - 48])
    copy_bundle(micro_prefix, os.path.join(bad, 'garbled-index'),
                edit_index=lambda i: bytearray(np.random.RandomState(7).bytes(len(i))))

    def compressed(index):
        off, size = first_data_block(index)
        reseal_block(index, off, size, type_byte=1)  # claims snappy
        return index
    copy_bundle(micro_prefix, os.path.join(bad, 'compressed-block'), edit_index=compressed)

    # safetensors: header shorter than 8 bytes; header length past the end; offsets past the
    # end; offsets that disagree with the shape; not JSON; an unknown dtype.
    small = [('embeddings.LayerNorm.weight', w['bert/embeddings/LayerNorm/gamma']),
             ('embeddings.LayerNorm.bias', w['bert/embeddings/LayerNorm/beta'])]
    good = os.path.join(bad, 'good.safetensors')
    write_safetensors(good, small)
    with open(good, 'rb') as f:
        blob = f.read()
    (hlen,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + hlen].decode('utf-8'))

    def with_header(name, hdr, tail=None):
        raw = json.dumps(hdr, separators=(',', ':')).encode('utf-8')
        with open(os.path.join(bad, name), 'wb') as f:
            f.write(struct.pack('<Q', len(raw)) + raw + (blob[8 + hlen:] if tail is None else tail))

    with open(os.path.join(bad, 'short-header.safetensors'), 'wb') as f:
        f.write(blob[:5])
    with open(os.path.join(bad, 'header-past-end.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', 1 << 40) + blob[8:100])
    h = json.loads(json.dumps(header))
    h['embeddings.LayerNorm.bias']['data_offsets'] = [128, 128 + 4 * HIDDEN + 4096]
    with_header('offsets-past-end.safetensors', h)
    h = json.loads(json.dumps(header))
    h['embeddings.LayerNorm.bias']['data_offsets'] = [128, 252]
    with_header('offsets-wrong-length.safetensors', h)
    with open(os.path.join(bad, 'not-json.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', 16) + b'{"a": [1, 2, 3 ' + b'\0' * 8)
    h = json.loads(json.dumps(header))
    h['embeddings.LayerNorm.weight']['dtype'] = 'X9'
    with_header('unknown-dtype.safetensors', h)

    with open(os.path.join(out, 'PROVENANCE.txt'), 'w') as f:
        f.write('generated by CompatTests/reference/make_checkpoint_fixtures.py\n')
        f.write('python %s, tensorflow %s, numpy %s, seed %d\n' % (
            sys.version.split()[0], tf.__version__, np.__version__, SEED))


if __name__ == '__main__':
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, '..', '..', 'Tests', 'CheckpointTests', 'Resources')
    main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else default))
