#!/usr/bin/env python
# Records the wire golden of the ORIGINAL bert-serving-server 1.10.0 (run by the rig's py37 venv)
# with a raw pyzmq PUSH/SUB pair, so every frame is kept byte for byte.
#
#   $RIG/py37/bin/python CompatTests/reference/gen_wire_golden.py [--rig DIR] [--port 17500]
#
# Writes CompatTests/reference/wire_golden.json and wire_golden.provenance.txt.
# Each scenario starts the original server with its own flags, sends the listed requests, and
# stores the reply frames: text frames as `text`, binary frames (embeddings) as base64 `b64`.
import argparse
import base64
import hashlib
import glob
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))

# Sentences shared with CompatTests/clients (they compare our vectors against these).
SENTENCES = [
    'hello world',
    'First do it',
    'then do it right',
    'then do it better',
    'The quick brown fox jumps over the lazy dog .',
    'how old are you ||| I am fine thank you',
    u'Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u4e2d\u6587 \U0001F600',
    'a ' * 40,
]
TOKENIZED = [['hello', 'world'], ['unaffable', 'thing', '|||', 'second', 'part'], ['[MASK]', 'zzqqxx']]

SCENARIOS = [
    # name, extra server flags, requests: (kind, payload)
    ('default', [], [
        ('SHOW_CONFIG', None),
        ('encode', SENTENCES),
        ('encode', TOKENIZED),
        ('encode', ['one']),
        ('SHOW_STATUS', None),
    ]),
    ('tokens_none', ['-max_seq_len', 'NONE', '-pooling_strategy', 'NONE', '-show_tokens_to_client',
                     '-max_batch_size', '3'], [
        ('SHOW_CONFIG', None),
        ('encode', SENTENCES[:7]),
    ]),
    ('split_fp16', ['-max_batch_size', '3', '-fp16', '-pooling_strategy', 'CLS_TOKEN',
                    '-pooling_layer', '-1', '-4'], [
        ('encode', SENTENCES),
    ]),
]


def frame_repr(b):
    try:
        t = b.decode('ascii')
        if all(32 <= ord(c) < 127 for c in t):
            return {'text': t}
    except UnicodeDecodeError:
        pass
    return {'b64': base64.b64encode(b).decode('ascii')}


def wait_ready(proc, log_path, timeout=180):
    t0 = time.time()
    while time.time() - t0 < timeout:
        with open(log_path, 'rb') as f:
            if b'all set, ready to serve request!' in f.read():
                return
        if proc.poll() is not None:
            raise RuntimeError('original server exited early, see %s' % log_path)
        time.sleep(0.5)
    raise RuntimeError('original server not ready after %ds' % timeout)


def run_scenario(rig, port, name, flags, requests):
    port_out = port + 1
    log_path = os.path.join(rig, 'gen_wire_golden.%s.log' % name)
    cmd = [os.path.join(rig, 'py37', 'bin', 'bert-serving-start'), '-cpu', '-model_dir',
           os.path.join(rig, 'minilm-tf1'), '-num_worker', '1', '-port', str(port),
           '-port_out', str(port_out)] + flags
    # auto_bind() creates its ipc:// socket directories in the working directory: use a scratch one
    workdir = tempfile.mkdtemp(prefix='gen_wire_golden.')
    with open(log_path, 'wb') as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir)
    try:
        wait_ready(proc, log_path)
        ctx = zmq.Context()
        push = ctx.socket(zmq.PUSH)
        push.setsockopt(zmq.LINGER, 0)
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVTIMEO, 60000)
        identity = b'golden-client-0001'
        sub.setsockopt(zmq.SUBSCRIBE, identity)
        push.connect('tcp://127.0.0.1:%d' % port)
        sub.connect('tcp://127.0.0.1:%d' % port_out)
        time.sleep(1.0)
        out = []
        for req_id, (kind, payload) in enumerate(requests, 1):
            if kind == 'encode':
                body = json.dumps(payload, separators=(', ', ': '), ensure_ascii=True).encode('ascii')
                frames = [identity, body, b'%d' % req_id, b'%d' % len(payload)]
            else:
                frames = [identity, kind.encode('ascii'), b'%d' % req_id, b'0']
            push.send_multipart(frames)
            reply = sub.recv_multipart()
            out.append({'request': [frame_repr(f) for f in frames], 'payload': payload,
                        'reply': [frame_repr(f) for f in reply]})
        push.close()
        sub.close()
        ctx.term()
        return {'name': name, 'flags': flags, 'requests': out}
    finally:
        # the sink and worker processes are forked children: end the whole session
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rig', default=os.environ.get('BSS_RIG_DIR',
                                                    os.path.expanduser('~/.cache/bert-serving-swift/rig')))
    ap.add_argument('--port', type=int, default=17500)
    ap.add_argument('--only', default=None)
    args = ap.parse_args()
    result = {'sentences': SENTENCES, 'tokenized': TOKENIZED, 'scenarios': []}
    for i, (name, flags, requests) in enumerate(SCENARIOS):
        if args.only and name != args.only:
            continue
        sys.stderr.write('[golden] scenario %s\n' % name)
        result['scenarios'].append(run_scenario(args.rig, args.port + 2 * i, name, flags, requests))
    with open(os.path.join(HERE, 'wire_golden.json'), 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write('\n')
    import bert_serving.server as srv
    import tensorflow as tf
    import numpy as np
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(srv.__file__), '..', '..',
                                           'bert_serving_server-*.dist-info', 'RECORD')))
    with open(os.path.join(HERE, 'wire_golden.provenance.txt'), 'w') as f:
        f.write('generated by: %s gen_wire_golden.py --port %d\n' % (sys.executable, args.port))
        f.write('date: %s\n' % time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()))
        f.write('python: %s\n' % platform.python_version())
        f.write('unicodedata: %s\n' % unicodedata.unidata_version)
        f.write('tensorflow: %s\nnumpy: %s\n' % (tf.__version__, np.__version__))
        f.write('pyzmq: %s  libzmq: %s\n' % (zmq.pyzmq_version(), zmq.zmq_version()))
        f.write('bert-serving-server: %s\n' % srv.__version__)
        for rec in wheels:
            f.write('server RECORD sha256: %s\n' % sha256(rec))
        f.write('server __init__.py sha256: %s\n' % sha256(srv.__file__))
        f.write('model: %s/minilm-tf1 (all-MiniLM-L6-v2, converted by convert_minilm.py)\n' % args.rig)
        f.write('bert_model.ckpt.data sha256: %s\n' % sha256(
            os.path.join(args.rig, 'minilm-tf1', 'bert_model.ckpt.data-00000-of-00001')))


if __name__ == '__main__':
    main()
