"""One stock BertClient (bert-serving-client 1.10.0) driving the proxy, for Python 3.11 and 2.7.

Usage: client_worker.py PORT PORT_OUT IDENTITY SEED CORPUS_JSON REFERENCE_NPY STOP_FILE OUT_JSON MAX_REQUESTS

Encodes 1..8 sentences of the corpus per request (chosen by SEED) until STOP_FILE exists or
MAX_REQUESTS were sent. Each reply is compared with the single-server reference vectors (rows of
REFERENCE_NPY, one per corpus sentence). Writes OUT_JSON: per request the number of texts, the
max abs difference or the error text, and the req_id the client used; plus the replies the client
received that it was not waiting for (a duplicate would land there).
"""
from __future__ import print_function

import json
import os
import random
import sys
import time
import traceback

import numpy as np
from bert_serving.client import BertClient


def main():
    port, port_out, identity, seed = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    corpus_path, ref_path, stop_file, out_path, max_requests = sys.argv[5:10]
    max_requests = int(max_requests)
    with open(corpus_path) as f:
        corpus = json.load(f)
    reference = np.load(ref_path)
    rnd = random.Random(seed)
    records = []
    started = time.time()
    # check_version (the default) runs SHOW_CONFIG through the proxy in the constructor.
    # The stock client wants the identity as bytes (str is bytes on 2.7).
    bc = BertClient(port=port, port_out=port_out, identity=identity.encode('ascii'), timeout=120000)
    config_ok = bc.server_config.get('server_version') == '1.10.0'
    while len(records) < max_requests and not os.path.exists(stop_file):
        idx = [rnd.randrange(len(corpus)) for _ in range(rnd.randint(1, 8))]
        texts = [corpus[i] for i in idx]
        rec = {'n': len(texts), 't': round(time.time() - started, 3)}
        try:
            vec = bc.encode(texts)
            rec['req_id'] = bc.request_id
            rec['max_diff'] = float(np.max(np.abs(np.asarray(vec, dtype=np.float32) - reference[idx])))
        except Exception as e:  # the stock client raises on an error reply: record, go on
            rec['req_id'] = bc.request_id
            rec['error'] = '%s: %s' % (type(e).__name__, e)
        records.append(rec)
    stray = sorted(int(k) for k in bc.pending_response.keys())
    bc.close()
    with open(out_path, 'w') as f:
        json.dump({'identity': identity, 'python': sys.version.split()[0], 'config_ok': config_ok,
                   'records': records, 'stray_replies': stray}, f)


if __name__ == '__main__':
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
