# Original README, "Use BERT Service Remotely" (ip='xx.xx.xx.xx' -> this machine's loopback).
# on another CPU machine
from bert_serving.client import BertClient
bc = BertClient(ip='127.0.0.1')  # ip address of the GPU machine
vecs = bc.encode(['First do it', 'then do it right', 'then do it better'])
assert vecs.shape == (3, 384), vecs.shape
print('remote: ok', vecs.shape)
