"""The README's "Starting BertServer from Python" example, unchanged except model_dir and ports,
followed by a stock BertClient encode and the README's shutdown call.

    python readme_example.py MODEL_DIR PORT PORT_OUT

Exits 0 when the stock client got a (3, hidden) float32 matrix and the server thread ended after
BertServer.shutdown; prints the server child's pid as "child-pid N" for the process-table check.
"""
import sys

MODEL_DIR, PORT, PORT_OUT = sys.argv[1], sys.argv[2], sys.argv[3]

# --- README (bert-serving-server 1.10.0), "Starting BertServer from Python" ---
from bert_serving.server.helper import get_args_parser
from bert_serving.server import BertServer
args = get_args_parser().parse_args(['-model_dir', MODEL_DIR,
                                     '-port', PORT,
                                     '-port_out', PORT_OUT,
                                     '-max_seq_len', 'NONE',
                                     '-mask_cls_sep',
                                     '-cpu'])
server = BertServer(args)
server.start()
# --- end of README code ---

import time  # noqa: E402

from bert_serving.client import BertClient  # noqa: E402

try:
    for _ in range(100):  # run() appends the child right after it spawns it
        if server.processes:
            break
        time.sleep(0.05)
    print('child-pid %d' % server.processes[0].pid, flush=True)
    bc = BertClient(port=int(PORT), port_out=int(PORT_OUT), timeout=60000)
    vecs = bc.encode(['First do it', 'then do it right', 'then do it better'])
    assert vecs.shape[0] == 3 and vecs.ndim == 2 and str(vecs.dtype) == 'float32', (vecs.shape, vecs.dtype)
    assert server.is_ready.is_set()
    bc.close()

    # --- README: "To shutdown the server, you may call the static method in BertServer class via:" ---
    BertServer.shutdown(port=int(PORT))
    # --- end of README code ---

    server.join(60)
    assert not server.is_alive(), 'server thread still running 60 s after BertServer.shutdown'
    assert server.returncode == 0, 'bert-serving-start exited with %r' % server.returncode
    print('encoded %s, server exited 0' % (vecs.shape,))
except BaseException:
    # Fail fast: the server thread is not a daemon, so a live child would keep this test waiting.
    for process in server.processes:
        process.kill()
    raise
