"""`with BertServer(args) as server:` against our server: __enter__ returns once it is ready,
a stock client encodes, and leaving the block (close(): TERMINATION on -port) ends the child
with exit 0 well before close()'s SIGTERM fallback (30 s).

    python context_manager.py MODEL_DIR PORT PORT_OUT
"""
import sys
import time

from bert_serving.client import BertClient
from bert_serving.server import BertServer
from bert_serving.server.helper import get_args_parser

MODEL_DIR, PORT, PORT_OUT = sys.argv[1], sys.argv[2], sys.argv[3]
args = get_args_parser().parse_args(['-model_dir', MODEL_DIR, '-port', PORT, '-port_out', PORT_OUT,
                                     '-pooling_strategy', 'CLS_TOKEN', '-cpu'])
server = BertServer(args)
try:
    with server:
        assert server.is_ready.is_set(), '__enter__ returned before the server was ready'
        bc = BertClient(port=int(PORT), port_out=int(PORT_OUT), timeout=60000)
        vecs = bc.encode(['hello world', 'the same client keeps working'])
        assert vecs.shape[0] == 2, vecs.shape
        bc.close()
        left_at = time.time()
    took = time.time() - left_at
    assert not server.is_alive(), 'thread alive after the with block'
    assert server.returncode == 0, 'bert-serving-start exited with %r' % server.returncode
    assert took < 20, 'close() took %.1f s: TERMINATION was not obeyed, SIGTERM fallback used' % took
    print('with-block: encoded %s, closed in %.2f s, exit 0' % (vecs.shape, took))
except BaseException:
    for process in server.processes:
        process.kill()
    raise
