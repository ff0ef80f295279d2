# Original README, "Broadcasting to multiple clients" (the README's last loop body is the one of
# its example/example4.py: encode a batch). Client 1.10.0 has no listen(), and both fetch() and
# _recv() only accept replies to requests the same object sent, so a clone reads the replies
# published to the shared identity from its result socket and decodes them as the client does.
# Each clone signals once it is connected, so no reply is published before it subscribed.
import json
import threading

import numpy as np
from bert_serving.client import BertClient

lst_str = ['First do it', 'then do it right', 'then do it better']
received = {0: 0, 1: 0}
connected = [threading.Event(), threading.Event()]


# clone a client by reusing the identity
def client_clone(id, idx):
    bc = BertClient(identity=id)
    connected[idx].set()
    while received[idx] < 3:
        frames = bc.receiver.recv_multipart()
        if len(frames) != 4:
            continue  # a config reply to a clone's handshake: the identity is shared, so it comes here too
        header = json.loads(frames[1].decode('utf-8'))
        j = np.frombuffer(frames[2], dtype=str(header['dtype'])).reshape(header['shape'])
        print('clone-client-%d: received %d x %d' % (idx, j.shape[0], j.shape[1]))
        received[idx] += 1


bc = BertClient()
# start two cloned clients sharing the same identity as bc
threads = [threading.Thread(target=client_clone, args=(bc.identity, j)) for j in range(2)]
for t in threads:
    t.daemon = True
    t.start()
for e in connected:
    assert e.wait(60)

for _ in range(3):
    vec = bc.encode(lst_str)
    print('bc received %d x %d' % (vec.shape[0], vec.shape[1]))
for t in threads:
    t.join(60)
assert received == {0: 3, 1: 3}, received
print('broadcasting: ok')
