# Original README, "Getting ELMo-like contextual word embedding" (server: -pooling_strategy NONE,
# max_seq_len 25; the README's 768 is BERT-base, MiniLM has 384).
import numpy as np
from bert_serving.client import BertClient
# max_seq_len = 25
# pooling_strategy = NONE

bc = BertClient()
vec = bc.encode(['hey you', 'whats up?'])

assert vec.shape == (2, 25, 384), vec.shape   # vec # [2, 25, 768]
assert np.abs(vec[0][1]).sum() > 0            # vec[0][1]  word embedding for `hey`
assert np.abs(vec[0][4]).sum() == 0           # vec[0][4]  word embedding for padding symbol
try:
    vec[0][25]  # error, out of index!
    raise AssertionError('index 25 should be out of range')
except IndexError:
    pass
print('elmo_like: ok')
