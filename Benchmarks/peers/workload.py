"""The sentences every engine gets, and their word-piece ids for the in-process peers.

Sentences come from e2e_bench.make_sentences (distinct, seeded, whole words from the vocabulary),
so the server, our engine and onnxruntime see the same texts. The ids follow the original's
uncased tokenization (lower case, accents stripped, split on whitespace and punctuation,
greedy longest-match word pieces), then [CLS] … [SEP] cut to max_seq_len, as
convert_lst_to_features does; run.py checks the result against the server's vectors.
"""
import os
import sys
import unicodedata

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from e2e_bench import RIG, make_sentences  # noqa: E402

VOCAB = os.path.join(RIG, 'minilm-hf/vocab.txt')  # both models share it (make_random_bert.py copies it)


class WordPiece:
    def __init__(self, vocab_path=VOCAB):
        self.ids = {}
        with open(vocab_path, encoding='utf-8') as f:
            for i, line in enumerate(f):
                self.ids[line.rstrip('\n')] = i
        self.cls, self.sep, self.unk = self.ids['[CLS]'], self.ids['[SEP]'], self.ids['[UNK]']

    @staticmethod
    def basic(text):
        text = unicodedata.normalize('NFD', text.lower())
        text = ''.join(c for c in text if unicodedata.category(c) != 'Mn')
        out, word = [], ''
        for c in text:
            cat = unicodedata.category(c)
            if c.isspace():
                if word:
                    out.append(word)
                word = ''
            elif cat.startswith('P') or (33 <= ord(c) <= 47 or 58 <= ord(c) <= 64 or 91 <= ord(c) <= 96 or 123 <= ord(c) <= 126):
                if word:
                    out.append(word)
                out.append(c)
                word = ''
            else:
                word += c
        if word:
            out.append(word)
        return out

    def pieces(self, word):
        if len(word) > 100:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                sub = word[start:end] if start == 0 else '##' + word[start:end]
                if sub in self.ids:
                    out.append(self.ids[sub])
                    break
                end -= 1
            if end == start:
                return [self.unk]
            start = end
        return out

    def encode(self, text, max_seq_len):
        ids = [i for w in self.basic(text) for i in self.pieces(w)][:max_seq_len - 2]
        return [self.cls] + ids + [self.sep]


def sentences_for(seq, n, seed=1234):
    """seq 25: 15-20 words (as e2e_bench and issue 7); seq 128: 90-126 words, so that max_seq_len
    128 is actually used (most rows are 92-128 tokens)."""
    lo, hi = (15, 20) if seq <= 32 else (90, 126)
    return make_sentences(VOCAB, n, seed=seed, lo=lo, hi=hi), (lo, hi)


def pad_batch(rows):
    """int64 input_ids, attention_mask, token_type_ids padded to the longest row."""
    longest = max(len(r) for r in rows)
    ids = np.zeros((len(rows), longest), np.int64)
    mask = np.zeros((len(rows), longest), np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return ids, mask, np.zeros_like(ids)
