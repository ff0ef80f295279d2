#!/usr/bin/env python3
"""Run the ORIGINAL tokenizer live on a seeded random sample and print the results as JSON.

The Swift test WordPieceTests/LiveOriginalTests spawns this with the rig's Python 3.7 and compares.

usage: $RIG/py37/bin/python CompatTests/reference/tokenize_live.py --seed N --count 200
output: {"vocab": path, "texts": [...], "uncased": [[tokens]], "cased": [[tokens]],
         "features": {config: [[{"t","i","m","y"} per row] per batch of 8]}}  (features as gen_tokenizer_golden.py)
"""
import argparse
import json
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_corpus  # noqa: E402

RIG = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))
BATCH = 8
# name -> (max_seq_len, do_lower_case, mask_cls_sep, no_special_token); names as in gen_tokenizer_golden.py
CONFIGS = {'u25': (25, True, False, False), 'cNone': (None, False, False, False), 'u64-mask': (64, True, True, False)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--count', type=int, default=200)
    args = ap.parse_args()

    import tensorflow as tf
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    from bert_serving.server.bert import tokenization
    from bert_serving.server.bert.extract_features import convert_lst_to_features
    logger = logging.getLogger('live')
    logger.setLevel(logging.ERROR)

    vocab = os.path.join(RIG, 'minilm-hf', 'vocab.txt')
    tokenizers = {True: tokenization.FullTokenizer(vocab, do_lower_case=True),
                  False: tokenization.FullTokenizer(vocab, do_lower_case=False)}
    gen = tokenizer_corpus.Generator(args.seed)
    texts = []
    for _ in range(args.count):
        r = gen.rng.random()
        if r < 0.5:
            texts.append(gen.category_string(gen.rng.choice(tokenizer_corpus.CATEGORIES)))
        elif r < 0.85:
            texts.append(gen.mixed_string())
        else:
            texts.append(gen.rng.choice(tokenizer_corpus.ADVERSARIAL))
    texts = [t for t in texts if t]  # read_examples drops empty strings; keep rows aligned
    out = {'vocab': vocab, 'texts': texts,
           'uncased': [tokenizers[True].tokenize(t) for t in texts],
           'cased': [tokenizers[False].tokenize(t) for t in texts], 'features': {}}
    for name, (max_seq_len, lower, mask_cls_sep, nst) in sorted(CONFIGS.items()):
        batches = []
        for start in range(0, len(texts), BATCH):
            feats = convert_lst_to_features(texts[start:start + BATCH], max_seq_len, 512, tokenizers[lower], logger,
                                            False, mask_cls_sep, nst)
            rows = []
            for f in feats:
                ids = list(f.input_ids)
                while ids and ids[-1] == 0:
                    ids.pop()
                rows.append({'t': f.tokens, 'i': ids, 'm': ','.join('%d*1' % v for v in f.input_mask),
                             'y': ','.join('%d*1' % v for v in f.input_type_ids)})
            batches.append(rows)
        out['features'][name] = batches
    sys.stdout.write(json.dumps(out, ensure_ascii=True))
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
