# Original README FAQ "Can I start multiple clients and send requests to one server
# simultaneously?" and the client pool of "Using BertClient with tf.data API": one BertClient per
# thread, and ConcurrentBertClient.
import threading
from bert_serving.client import BertClient, ConcurrentBertClient

num_clients = 8
bc_clients = [BertClient(show_server_config=False) for _ in range(num_clients)]
results = {}


def work(i):
    bc_client = bc_clients.pop()
    results[i] = bc_client.encode(['sentence %d of thread %d' % (k, i) for k in range(i + 1)]).shape
    bc_clients.append(bc_client)


threads = [threading.Thread(target=work, args=(i,)) for i in range(num_clients)]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
assert results == {i: (i + 1, 384) for i in range(num_clients)}, results

cbc = ConcurrentBertClient()  # max_concurrency=10: more threads than that raise in the client itself
shapes = []
threads = [threading.Thread(target=lambda: shapes.append(cbc.encode(['hello world', 'good day']).shape))
           for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
assert shapes == [(2, 384)] * 8, shapes
print('concurrent_clients: ok')
