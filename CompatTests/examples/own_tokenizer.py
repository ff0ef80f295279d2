# Original README, "Using your own tokenizer" (server: -pooling_strategy NONE -show_tokens_to_client).
import numpy as np
from bert_serving.client import BertClient
bc = BertClient()

texts = ['hello world!', 'good day']

# a naive whitespace tokenizer
texts2 = [s.split() for s in texts]

vecs = bc.encode(texts2, is_tokenized=True)
assert vecs.shape == (2, 25, 384), vecs.shape
# "only the first four elements have values, all the others are zeros"
assert np.abs(vecs[0][:4]).sum(axis=1).min() > 0 and np.abs(vecs[0][4:]).sum() == 0

vecs, tokens = bc.encode(['hello world!', 'thisis it'], show_tokens=True)
assert tokens == [['[CLS]', 'hello', 'world', '!', '[SEP]'], ['[CLS]', 'this', '##is', 'it', '[SEP]']], tokens

vecs, tokens = bc.encode([['hello', 'world!'], ['thisis', 'it']], show_tokens=True, is_tokenized=True)
assert tokens == [['[CLS]', 'hello', '[UNK]', '[SEP]'], ['[CLS]', '[UNK]', 'it', '[SEP]']], tokens
print('own_tokenizer: ok')
