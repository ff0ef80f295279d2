# Original README, "Getting Started" 3. Use Client to Get Sentence Encodes (+ the pair example).
from bert_serving.client import BertClient
bc = BertClient()
vecs = bc.encode(['First do it', 'then do it right', 'then do it better'])
assert vecs.shape == (3, 384), vecs.shape
pair = bc.encode(['First do it ||| then do it right'])
assert pair.shape == (1, 384), pair.shape
print('getting_started: ok', vecs.shape, pair.shape)
