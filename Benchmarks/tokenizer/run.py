#!/usr/bin/env python3
"""Tokenizer throughput: our WordPiece (Swift, release, 1 thread) vs HF `tokenizers` BertWordPieceTokenizer
(1 thread) vs the original tokenization.py (Python 3.7), uncased, same vocab, same seeded sentences.

usage: $RIG/py311/bin/python Benchmarks/tokenizer/run.py [--sentences 20000]
needs: `tokenizers` in the py311 venv (benchmark only, not a CI requirement), a swift toolchain.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RIG = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))
VOCAB = os.path.join(RIG, 'minilm-hf', 'vocab.txt')

ORIGINAL = r'''
import sys, time, json
from bert_serving.server.bert.tokenization import FullTokenizer
t = FullTokenizer(sys.argv[1], do_lower_case=True)
lines = [l for l in open(sys.argv[2], encoding='utf-8').read().split('\n') if l]
start = time.perf_counter(); n = 0
for l in lines:
    n += len(t.convert_tokens_to_ids(t.tokenize(l)))
print(json.dumps({'sentences': len(lines), 'tokens': n, 'seconds': time.perf_counter() - start}))
'''


def sentences(count, seed=7):
    rng = random.Random(seed)
    words = [w.strip() for w in open(VOCAB, encoding='utf-8') if w.strip().isalpha() and w.isascii()]
    extra = ['naïve', 'Café', 'Zürich', '北京', 'résumé', "don't", 'U.S.', '3.14', '(see', 'below)', '—']
    out = []
    for _ in range(count):
        n = rng.randint(5, 40)
        ws = [rng.choice(words) if rng.random() > 0.05 else rng.choice(extra) for _ in range(n)]
        ws[0] = ws[0].capitalize()
        out.append(' '.join(ws) + rng.choice(['.', '!', '?', '', ',']))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sentences', type=int, default=20000)
    args = ap.parse_args()
    os.environ['RAYON_NUM_THREADS'] = '1'
    os.environ['TOKENIZERS_PARALLELISM'] = 'false'
    texts = sentences(args.sentences)
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False, encoding='utf-8') as f:
        f.write('\n'.join(texts) + '\n')
        path = f.name

    scratch = os.path.join(HERE, '.build')
    subprocess.run(['swift', 'build', '-c', 'release', '--package-path', HERE, '--scratch-path', scratch],
                   check=True, stdout=subprocess.DEVNULL)
    binary = os.path.join(scratch, 'release', 'tokenizer-bench')
    ours = json.loads(subprocess.run([binary, VOCAB, path, '3'], check=True, stdout=subprocess.PIPE).stdout)

    from tokenizers import BertWordPieceTokenizer
    hf = BertWordPieceTokenizer(VOCAB, lowercase=True)
    hf.encode('warm up', add_special_tokens=False)
    start = time.perf_counter()
    n = sum(len(e.ids) for e in hf.encode_batch(texts, add_special_tokens=False))
    hf_batch = {'sentences': len(texts), 'tokens': n, 'seconds': time.perf_counter() - start}
    start = time.perf_counter()
    n = sum(len(hf.encode(t, add_special_tokens=False).ids) for t in texts)
    hf_loop = {'sentences': len(texts), 'tokens': n, 'seconds': time.perf_counter() - start}

    py37 = os.path.join(RIG, 'py37', 'bin', 'python')
    original = json.loads(subprocess.run([py37, '-c', ORIGINAL, VOCAB, path], check=True, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL).stdout)
    os.unlink(path)

    def rate(r):
        return r['tokens'] / r['seconds']

    print('sentences: %d (avg %.1f tokens)' % (len(texts), ours['tokens'] / ours['sentences']))
    for name, r in [('swift WordPiece (release, 1 thread)', ours), ('HF tokenizers encode_batch, 1 thread', hf_batch),
                    ('HF tokenizers encode() loop', hf_loop), ('original tokenization.py (py3.7)', original)]:
        print('%-40s %12.0f tokens/s %10.0f sentences/s' % (name, rate(r), r['sentences'] / r['seconds']))
    print('ratio swift / HF encode_batch: %.2f' % (rate(ours) / rate(hf_batch)))
    print('ratio swift / original: %.1f' % (rate(ours) / rate(original)))
    print('swift setup (vocab + Unicode tables): %.3f s' % ours['setup_seconds'])
    if ours['tokens'] // 3 != hf_batch['tokens']:
        print('note: token counts differ (swift %d, HF %d): HF strips accents/handles Unicode differently'
              % (ours['tokens'] // 3, hf_batch['tokens']))


if __name__ == '__main__':
    sys.exit(main())
