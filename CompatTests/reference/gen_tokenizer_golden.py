#!/usr/bin/env python3
"""Regenerate the WordPiece golden files from the ORIGINAL tokenizer (bert-serving-server 1.10.0).

Runs bert/tokenization.py (FullTokenizer) and bert/extract_features.py (convert_lst_to_features),
imported from the wheel installed in the rig's Python 3.7 venv, over a seeded corpus
(tokenizer_corpus.py) and writes to Tests/WordPieceTests/Resources/:

  tokenizer_corpus.jsonl     one string a line: {"c": category, "s": text, "u": uncased tokens, "k": cased tokens}
  tokenizer_features_<config>.jsonl
                             one batch a line: {"in": corpus indices or token lists, "f": features}
                             (or "crash": the error the original raised for that batch)
  tokenizer_exhaustive.json  per block of 4096 code points, FNV-1a-64 of the original BasicTokenizer's
                             tokens (joined by U+001F) for exhaustive_text(block), uncased and cased
  tokenizer_provenance.txt   versions, hashes, command, per-category counts
  vocab.txt                  copy of the rig's MiniLM vocab (bert-base-uncased)

A feature is {"t": tokens (only in configs listed in WITH_TOKENS), "i": input_ids with trailing zeros
trimmed, "m": input_mask and "y": input_type_ids run-length encoded as "value*count,value*count"}; the
row length is the total count of m, and i is zero-padded to it. Configs with max_seq_len None run on
every batch whose strings are under LONG_TEXT characters (plus the first LONG_NONE longer ones), to keep
the files small.

usage: $RIG/py37/bin/python CompatTests/reference/gen_tokenizer_golden.py [--seed N] [--out DIR]
"""
import argparse
import collections
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_corpus  # noqa: E402

RIG = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(ROOT, 'Tests', 'WordPieceTests', 'Resources')
MAX_POSITION_EMBEDDINGS = 512  # MiniLM bert_config.json
PER_CATEGORY = 150
MIXED = 450
TOKEN_LISTS = 400
TEXT_BATCH = 8
TOKENIZED_BATCH = 4
WITH_TOKENS = {'u25', 'c25', 'u64', 't25', 't64', 'tNone', 't25-nst', 'tNone-nst'}
LONG_TEXT = 300
LONG_NONE = 6

# name -> (max_seq_len, do_lower_case, mask_cls_sep, no_special_token)
TEXT_CONFIGS = collections.OrderedDict([
    ('u25', (25, True, False, False)),
    ('u64', (64, True, False, False)),
    ('uNone', (None, True, False, False)),
    ('c25', (25, False, False, False)),
    ('c64', (64, False, False, False)),
    ('cNone', (None, False, False, False)),
    ('u25-mask', (25, True, True, False)),
    ('u25-nst', (25, True, False, True)),
    ('uNone-nst', (None, True, False, True)),
])
TOKENIZED_CONFIGS = collections.OrderedDict([
    ('t25', (25, True, False, False)),
    ('t64', (64, True, False, False)),
    ('tNone', (None, True, False, False)),
    ('t25-mask', (25, True, True, False)),
    ('t25-nst', (25, True, False, True)),
    ('tNone-nst', (None, True, False, True)),
    ('t25-mask-nst', (25, True, True, True)),
])


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def wheel_sha256(dist):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--disable-pip-version-check', '--no-deps',
                        '-d', tmp, dist], check=True, stdout=subprocess.DEVNULL)
        (name,) = os.listdir(tmp)
        return name, sha256(os.path.join(tmp, name))


def run_length(values):
    runs = []
    for v in values:
        if runs and runs[-1][0] == v:
            runs[-1][1] += 1
        else:
            runs.append([v, 1])
    return ','.join('%d*%d' % (v, n) for v, n in runs)


def encode_feature(f, with_tokens):
    ids = list(f.input_ids)
    while ids and ids[-1] == 0:
        ids.pop()
    rec = {'i': ids, 'm': run_length(f.input_mask), 'y': run_length(f.input_type_ids)}
    if with_tokens:
        rec['t'] = f.tokens
    return rec


EXHAUSTIVE_BLOCK = 4096


def exhaustive_text(start):
    """Every code point of [start, start + EXHAUSTIVE_BLOCK) but surrogates, each in a few contexts:
    alone between letters, before combining marks (canonical ordering, Mn stripping), next to capital sigma."""
    parts = []
    for cp in range(start, min(start + EXHAUSTIVE_BLOCK, 0x110000)):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        parts.append('Ab' + c + 'cD ' + c + '\u0316\u0301' + c + '\u03a3' + c + ' \u03a3' + c)
    return ' '.join(parts)


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return '%016x' % h


def run_features(convert, batch, name, cfg, tokenizers, logger, is_tokenized):
    max_seq_len, lower, mask_cls_sep, nst = cfg
    try:
        feats = list(convert(batch, max_seq_len, MAX_POSITION_EMBEDDINGS, tokenizers[lower], logger,
                             is_tokenized, mask_cls_sep, nst))
        return {'f': [encode_feature(f, name in WITH_TOKENS) for f in feats]}
    except Exception as e:  # the original's worker dies here; recorded, compared separately
        return {'crash': '%s: %s' % (type(e).__name__, e)}


def build(seed):
    gen = tokenizer_corpus.Generator(seed)
    corpus = tokenizer_corpus.category_corpus(gen, PER_CATEGORY)
    corpus += [('adversarial', s) for s in tokenizer_corpus.ADVERSARIAL]
    corpus += [('mixed', gen.mixed_string()) for _ in range(MIXED)]
    token_lists = [gen.token_list() for _ in range(TOKEN_LISTS)]
    token_lists += [[], ['|||'], ['|||', 'a'], ['a', '|||'], ['a', '|||', '|||', 'b'], ['[CLS]', '|||', '[SEP]'],
                    ['hello'] * 30 + ['|||'] + ['world'] * 30, ['x'] * 600]
    return corpus, token_lists


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=20261125)
    ap.add_argument('--out', default=DEFAULT_OUT)
    args = ap.parse_args()
    assert sys.version_info[:2] == (3, 7) and unicodedata.unidata_version == '11.0.0'

    import tensorflow as tf
    from bert_serving.server.bert import tokenization
    from bert_serving.server.bert.extract_features import convert_lst_to_features
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    logger = logging.getLogger('golden')
    logger.setLevel(logging.ERROR)

    vocab = os.path.join(RIG, 'minilm-hf', 'vocab.txt')
    tokenizers = {True: tokenization.FullTokenizer(vocab, do_lower_case=True),
                  False: tokenization.FullTokenizer(vocab, do_lower_case=False)}
    corpus, token_lists = build(args.seed)
    os.makedirs(args.out, exist_ok=True)
    shutil.copyfile(vocab, os.path.join(args.out, 'vocab.txt'))

    with open(os.path.join(args.out, 'tokenizer_corpus.jsonl'), 'w', encoding='utf-8') as out:
        for cat, text in corpus:
            rec = {'c': cat, 's': text, 'u': tokenizers[True].tokenize(text), 'k': tokenizers[False].tokenize(text)}
            out.write(json.dumps(rec, ensure_ascii=False, separators=(',', ':')) + '\n')

    crashes = collections.Counter()
    for name in os.listdir(args.out):
        if name.startswith('tokenizer_features'):
            os.remove(os.path.join(args.out, name))
    configs = [(name, cfg, False) for name, cfg in TEXT_CONFIGS.items()]
    configs += [(name, cfg, True) for name, cfg in TOKENIZED_CONFIGS.items()]
    for name, cfg, is_tokenized in configs:
        path = os.path.join(args.out, 'tokenizer_features_%s.jsonl' % name)
        size = TOKENIZED_BATCH if is_tokenized else TEXT_BATCH
        total = len(token_lists) if is_tokenized else len(corpus)
        long_batches = 0
        with open(path, 'w', encoding='utf-8') as out:
            for start in range(0, total, size):
                if is_tokenized:
                    batch = token_lists[start:start + size]
                    rec = {'in': batch}
                else:
                    indices = list(range(start, min(start + size, total)))
                    batch = [corpus[i][1] for i in indices]
                    if cfg[0] is None and max(len(t) for t in batch) >= LONG_TEXT:
                        long_batches += 1
                        if long_batches > LONG_NONE:
                            continue
                    rec = {'in': indices}
                rec.update(run_features(convert_lst_to_features, batch, name, cfg, tokenizers, logger,
                                        is_tokenized))
                if 'crash' in rec:
                    crashes[name] += 1
                out.write(json.dumps(rec, ensure_ascii=False, separators=(',', ':')) + '\n')

    exhaustive = {'block': EXHAUSTIVE_BLOCK}
    for lower in (True, False):
        basic = tokenization.BasicTokenizer(do_lower_case=lower)
        exhaustive['uncased' if lower else 'cased'] = [
            fnv1a64('\x1f'.join(basic.tokenize(exhaustive_text(start))).encode('utf-8'))
            for start in range(0, 0x110000, EXHAUSTIVE_BLOCK)]
    with open(os.path.join(args.out, 'tokenizer_exhaustive.json'), 'w') as out:
        json.dump(exhaustive, out, indent=0)

    counts = collections.Counter(cat for cat, _ in corpus)
    wheel, wheel_sha = wheel_sha256('bert-serving-server==1.10.0')
    with open(os.path.join(args.out, 'tokenizer_provenance.txt'), 'w') as f:
        f.write('generated by: %s CompatTests/reference/gen_tokenizer_golden.py --seed %d\n'
                % (sys.executable.replace(RIG, '$RIG'), args.seed))
        f.write('python: %s\n' % sys.version.split()[0])
        f.write('unicodedata.unidata_version: %s\n' % unicodedata.unidata_version)
        f.write('tensorflow: %s\n' % tf.__version__)
        f.write('wheel: %s sha256 %s\n' % (wheel, wheel_sha))
        f.write('tokenization.py sha256: %s\n' % sha256(tokenization.__file__))
        f.write('extract_features.py sha256: %s\n' % sha256(sys.modules[convert_lst_to_features.__module__].__file__))
        f.write('vocab: %s sha256 %s\n' % (vocab.replace(RIG, '$RIG'), sha256(vocab)))
        f.write('max_position_embeddings: %d\n' % MAX_POSITION_EMBEDDINGS)
        f.write('strings: %d; token lists: %d\n' % (len(corpus), len(token_lists)))
        f.write('per category: %s\n' % ', '.join('%s=%d' % kv for kv in sorted(counts.items())))
        f.write('batches where the original raised: %s\n' % (dict(crashes) or 'none'))
    print('strings: %d, token lists: %d' % (len(corpus), len(token_lists)))
    print('per category: %s' % ', '.join('%s=%d' % kv for kv in sorted(counts.items())))
    print('batches where the original raised: %s' % dict(crashes))


if __name__ == '__main__':
    main()
