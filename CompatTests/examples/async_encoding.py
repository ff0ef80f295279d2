# Original README, "Asynchronous encoding" (the README leaves lst_str to the reader; the
# stream is bounded by max_num_batch as in the example). Client 1.10.0 yields a Response
# (id, embedding, tokens), not the bare array the README prints: j.embedding.
from bert_serving.client import BertClient
lst_str = ['First do it', 'then do it right', 'then do it better'] * 20


# an endless data stream, generating data in an extremely fast speed
def text_gen():
    while True:
        yield lst_str  # yield a batch of text lines


bc = BertClient()

# get encoded vectors
n = 0
for j in bc.encode_async(text_gen(), max_num_batch=10):
    print('received %d x %d' % (j.embedding.shape[0], j.embedding.shape[1]))
    assert j.embedding.shape == (60, 384), j.embedding.shape
    n += 1
assert n == 10, n
print('async_encoding: ok')
