#!/usr/bin/env python3
# Regenerates the committed captures: scripted sessions of the stock bert-serving-client 1.10.0
# (rig py311) against the ORIGINAL bert-serving-server 1.10.0 (rig py37, -cpu, minilm-tf1),
# recorded through bss_capture.Proxy. One capture = one server lifetime (one flag set), so the
# SHOW_STATUS statistics of a replay start from the same zero.
#
#   $RIG/py311/bin/python CompatTests/capture/make_captures.py [--rig DIR] [--port 17700] [--only NAME ...]
#
# Writes CompatTests/capture/captures/<name>.msgpack and PROVENANCE.txt.
import argparse
import hashlib
import glob
import json
import os
import platform
import subprocess
import sys
import threading
import time
import warnings

import zmq
from bert_serving.client import BertClient

import bss_capture as bc_

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'captures')

TEXTS = [
    'hello world',
    'First do it',
    'then do it right',
    'then do it better',
    'The quick brown fox jumps over the lazy dog .',
    u'Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u4e2d\u6587 \U0001F600',
    'a ' * 40,
]
PAIRS = ['how old are you ||| I am fine thank you',
         'what is this ||| it is a test ||| with two separators']
TOKENIZED = [['hello', 'world'], ['unaffable', 'thing', '|||', 'second', 'part'], ['[MASK]', 'zzqqxx']]
CASED = ['Hello World', u'HELLO world CAF\u00c9 Na\u00efve']
# U+E0080 is unassigned in Unicode 11 (category Cn): the tokenizer deletes it, leaving only [CLS] [SEP].
VANISHING = [u'\U000E0080', 'hello world']
MANY = ['sentence number %d of a request larger than max_batch_size' % i for i in range(11)]


class Session:
    """What a scenario function gets: client ports, the proxy, and a way to mark expectations."""

    def __init__(self, proxy, front, back):
        self.proxy, self.front, self.back = proxy, front, back
        self.expects = {}  # (identity, req_id bytes) -> expect kind

    def client(self, **kw):
        kw.setdefault('timeout', 60000)
        return BertClient(port=self.front, port_out=self.back, **kw)

    def mark(self, text):
        self.proxy.mark(text)

    def expect(self, identity, req_id, kind):
        self.expects[(identity, b'%d' % req_id)] = kind

    def raw(self, identity):
        """A raw PUSH/SUB pair through the proxy, for frames the stock client cannot send."""
        return RawClient(self.front, self.back, identity)

    def replied(self, identity, req_id):
        with self.proxy.lock:
            return any(ev['dir'] == 's2c' and ev['frames'][0] == identity and ev['frames'][-1] == b'%d' % req_id
                       for ev in self.proxy.events)


class RawClient:
    def __init__(self, front, back, identity):
        self.ctx = zmq.Context()
        self.identity = identity
        self.push = self.ctx.socket(zmq.PUSH)
        self.push.setsockopt(zmq.LINGER, 0)
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, identity)
        self.push.connect('tcp://127.0.0.1:%d' % front)
        self.sub.connect('tcp://127.0.0.1:%d' % back)
        time.sleep(0.5)

    def send(self, frames):
        self.push.send_multipart(frames)

    def recv(self, timeout_ms):
        if self.sub.poll(timeout_ms):
            return self.sub.recv_multipart()
        return None

    def close(self):
        self.push.close()
        self.sub.close()
        self.ctx.term()


# ---- sessions ---------------------------------------------------------------------------------

def s_basic(s, show_tokens=False, texts=TEXTS):
    s.mark('handshake + config + status + encodes')
    c = s.client()  # handshake: SHOW_CONFIG on connect (version and length checks)
    c.server_config
    c.server_status
    c.encode(texts, show_tokens=show_tokens)
    c.encode(PAIRS, show_tokens=show_tokens)
    c.encode(TOKENIZED, is_tokenized=True, show_tokens=show_tokens)
    c.encode(texts[:1])
    c.server_status
    c.close()


def s_concurrent(s):
    s.mark('interleaved concurrent clients')
    clients = [s.client() for _ in range(3)]
    errors = []

    def work(c, k):
        try:
            for i in range(3):
                c.encode(TEXTS[(k + i) % len(TEXTS):][:3] or TEXTS[:2])
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(c, k)) for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    if errors:
        raise errors[0]


def s_async(s):
    s.mark('async API: encode_async generator, blocking=False + fetch_all')
    c = s.client()

    def gen():
        for i in range(4):
            yield TEXTS[i:i + 2]

    got = list(c.encode_async(gen(), max_num_batch=4, delay=0.5))
    for _ in range(20):
        if len(got) == 4:
            break
        got.extend(c.fetch())
    c.encode(TEXTS[:2], blocking=False)
    c.encode(TOKENIZED, blocking=False, is_tokenized=True)
    c.fetch_all(sort=True, concat=False)
    c.close()


def s_broadcast(s):
    s.mark('two clients sharing one identity (broadcast)')
    a = s.client(identity=b'shared-identity-0001')
    b = s.client(identity=b'shared-identity-0001', check_version=False, check_length=False,
                 check_token_info=False, ignore_all_checks=True)
    a.encode(TEXTS[:2])
    time.sleep(0.5)
    a.close()
    b.close()


def s_status_last(s):
    s.mark('final status')
    c = s.client(check_version=False)
    c.server_status
    c.close()


def s_terminate(s):
    s.mark('termination (bert-serving-terminate frames), then silence')
    r = s.raw(b'0')
    r.send([b'0', b'TERMINATION', b'0', b'0'])
    s.expect(b'0', 0, 'terminate')
    time.sleep(3)
    r.close()
    late = s.raw(b'late-client-after-termination')
    late.send([b'late-client-after-termination', b'SHOW_CONFIG', b'1', b'0'])
    late.recv(5000)
    s.expect(b'late-client-after-termination', 1, 'silence')
    late.close()


def probe(frames, kind):
    """A request that wedges the original: the original never answers; ours must (kind).
    kind None: a malformed request both drop (logged); the replay then requires that no reply comes."""
    def run(s):
        s.mark('probe: %r' % (frames[1][:40],))
        r = s.raw(frames[0])
        r.send(frames)
        r.recv(8000)
        if kind and not s.replied(frames[0], int(frames[2])):
            s.expect(frames[0], int(frames[2]), kind)
        r.close()
        s.mark('follow-up: a new client asks SHOW_CONFIG')
        f = s.raw(b'follow-up-client-0001')
        f.send([b'follow-up-client-0001', b'SHOW_CONFIG', b'1', b'0'])
        f.recv(8000)
        if not s.replied(b'follow-up-client-0001', 1):
            s.expect(b'follow-up-client-0001', 1, 'answer')
        f.close()
    return run


# ---- captures: (name, description, server flags, sessions) ------------------------------------
CAPTURES = [
    ('default', 'default flags (max_seq_len 25, REDUCE_MEAN, layer -2): handshake, config, status, '
     'texts, pairs, pre-tokenized, concurrent clients, async API, broadcast, termination',
     [], [s_basic, s_concurrent, s_async, s_broadcast, s_status_last, s_terminate]),
    ('reduce_max_split', 'REDUCE_MAX, max_seq_len 64, a request larger than -max_batch_size 4',
     ['-pooling_strategy', 'REDUCE_MAX', '-max_seq_len', '64', '-max_batch_size', '4'],
     [s_basic, lambda s: (s.mark('11 texts, max_batch_size 4'), s.client().encode(MANY))]),
    ('none_tokens', 'NONE pooling at max_seq_len 25, -show_tokens_to_client',
     ['-pooling_strategy', 'NONE', '-show_tokens_to_client'],
     [lambda s: s_basic(s, show_tokens=True)]),
    ('seqlen_none_split', 'max_seq_len NONE, NONE pooling, tokens, max_batch_size 3 (dynamic length per request)',
     ['-max_seq_len', 'NONE', '-pooling_strategy', 'NONE', '-show_tokens_to_client', '-max_batch_size', '3'],
     [lambda s: s_basic(s, show_tokens=True, texts=TEXTS[:6])]),
    ('fixed_embed_length', 'max_seq_len NONE, NONE pooling, -fixed_embed_length (pads to 512)',
     ['-max_seq_len', 'NONE', '-pooling_strategy', 'NONE', '-fixed_embed_length'],
     [lambda s: (s.mark('one short text, padded to 512'), s.client().encode(['hello world']))]),
    ('mean_max_layers', 'REDUCE_MEAN_MAX over -pooling_layer -1 -2 -6',
     ['-pooling_strategy', 'REDUCE_MEAN_MAX', '-pooling_layer', '-1', '-2', '-6'], [s_basic]),
    ('reduce_max_mask', 'REDUCE_MAX + -mask_cls_sep (an all-masked row gives -1e30)',
     ['-pooling_strategy', 'REDUCE_MAX', '-mask_cls_sep'],
     [s_basic, lambda s: (s.mark('a text that tokenizes to nothing'), s.client().encode(VANISHING))]),
    ('reduce_mean_mask', 'REDUCE_MEAN + -mask_cls_sep (an all-masked row gives 0)',
     ['-mask_cls_sep', '-max_seq_len', '64'],
     [lambda s: (s.mark('a text that tokenizes to nothing'), s.client().encode(VANISHING + TEXTS))]),
    ('first_token', 'FIRST_TOKEN', ['-pooling_strategy', 'FIRST_TOKEN'], [s_basic]),
    ('last_cased', 'LAST_TOKEN, -cased_tokenization, -show_tokens_to_client',
     ['-pooling_strategy', 'LAST_TOKEN', '-cased_tokenization', '-show_tokens_to_client'],
     [lambda s: s_basic(s, show_tokens=True, texts=CASED + TEXTS)]),
    ('cls_fp16', 'CLS_TOKEN alias, -fp16 (wire dtype float16)',
     ['-pooling_strategy', 'CLS_TOKEN', '-fp16'], [s_basic]),
    ('sep_mask', 'SEP_TOKEN alias + -mask_cls_sep (pools the last word piece), max_seq_len 64',
     ['-pooling_strategy', 'SEP_TOKEN', '-mask_cls_sep', '-max_seq_len', '64'], [s_basic]),
    # probes that wedge the original, each on a fresh server
    ('probe_bad_json', 'wedge probe: body is not JSON',
     [], [probe([b'probe-bad-json', b'["hello", ', b'1', b'1'], 'error')]),
    ('probe_mixed_types', 'wedge probe: a list mixing strings and numbers',
     [], [probe([b'probe-mixed-types', b'["hello", 3]', b'1', b'2'], 'error')]),
    ('probe_empty_string', 'wedge probe: an empty string',
     [], [probe([b'probe-empty-string', b'[""]', b'1', b'1'], 'error')]),
    ('probe_msg_len_mismatch', 'wedge probe: msg_len says 3, the list has 2',
     [], [probe([b'probe-msg-len', b'["hello", "world"]', b'1', b'3'], 'error')]),
    ('probe_non_ascii_identity', 'wedge probe: SHOW_CONFIG from a non-ASCII identity',
     [], [probe([u'caf\u00e9-client'.encode('utf-8'), b'SHOW_CONFIG', b'1', b'0'], 'answer')]),
    # malformed frames that name no usable request: both servers log and drop them (same behaviour)
    ('probe_wrong_frame_count', 'dropped by both: 3 frames instead of 4, then a follow-up client',
     [], [probe([b'probe-three-frames', b'["hello"]', b'1'], None)]),
    ('probe_non_digit_req_id', 'dropped by both: req_id "abc", then a follow-up client',
     [], [probe([b'probe-non-digit-req-id', b'["hello"]', b'abc', b'1'], None)]),
]


def run_capture(rig, port, name, description, flags, sessions):
    model_dir = os.path.join(rig, 'minilm-tf1')
    server_port, server_port_out, front, back = port, port + 1, port + 2, port + 3
    argv = ['-cpu', '-model_dir', model_dir, '-num_worker', '1', '-port', str(server_port),
            '-port_out', str(server_port_out)] + flags
    program = os.path.join(rig, 'py37', 'bin', 'bert-serving-start')
    server = bc_.OriginalServer(program, argv, os.path.join('/tmp', 'bss-replay-capture-%s.log' % name))
    t0 = time.time()
    server.start()
    startup = time.time() - t0
    proxy = bc_.Proxy(front, back, server_port, server_port_out)
    proxy.start()
    proxy.ready.wait()
    s = Session(proxy, front, back)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for fn in sessions:
                fn(s)
                time.sleep(0.3)
        proxy.stop()
        exited = server.exited(wait=5.0)
    finally:
        server.stop()
    events = proxy.events
    for ev in events:
        if ev['dir'] == 'c2s' and len(ev['frames']) == 4:
            kind = s.expects.get((ev['frames'][0], ev['frames'][2]))
            if kind:
                ev['expect'] = kind
    cap = bc_.make_capture(name, description,
                           bc_.server_info(argv, server_port, server_port_out, model_dir,
                                           exited=exited), events)
    n = bc_.write_capture(os.path.join(OUT, name + '.msgpack'), cap)
    sys.stderr.write('[capture] %-26s %3d events %8d bytes (server start %.1fs)\n' % (name, len(events), n, startup))


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def provenance(rig, argv, wheel_dir=None):
    py37 = os.path.join(rig, 'py37', 'bin', 'python')
    info = subprocess.check_output([py37, '-c', (
        'import sys, unicodedata, zmq, numpy, tensorflow as tf, bert_serving.server as s\n'
        'print("server python: " + sys.version.split()[0])\n'
        'print("server unicodedata: " + unicodedata.unidata_version)\n'
        'print("server tensorflow: " + tf.__version__)\n'
        'print("server numpy: " + numpy.__version__)\n'
        'print("server pyzmq: %s (libzmq %s)" % (zmq.pyzmq_version(), zmq.zmq_version()))\n'
        'print("bert-serving-server: " + s.__version__)\n')], stderr=subprocess.DEVNULL).decode()
    import bert_serving.client as cl
    import msgpack
    lines = [info.rstrip(),
             'client python: %s' % platform.python_version(),
             'client pyzmq: %s (libzmq %s)' % (zmq.pyzmq_version(), zmq.zmq_version()),
             'bert-serving-client: %s' % cl.__version__,
             'msgpack: %s' % '.'.join(map(str, msgpack.version))]
    caches = glob.glob(os.path.expanduser('~/.cache/pip/**/bert_serving_*1.10.0*.whl'), recursive=True)
    if wheel_dir:  # `pip download --no-deps -d DIR bert-serving-server==1.10.0 bert-serving-client==1.10.0`
        caches += glob.glob(os.path.join(wheel_dir, 'bert_serving_*1.10.0*.whl'))
    for w in sorted(caches):
        lines.append('wheel %s sha256 %s' % (os.path.basename(w), sha256(w)))
    for d in ('py37', 'py311'):
        for rec in glob.glob(os.path.join(rig, d, 'lib', 'python*', 'site-packages',
                                          'bert_serving_*-1.10.0.dist-info', 'RECORD')):
            lines.append('%s %s RECORD sha256 %s' % (d, os.path.basename(os.path.dirname(rec)), sha256(rec)))
    lines.append('model: %s (minilm-tf1, all-MiniLM-L6-v2 as a TF1 checkpoint, see CompatTests/reference)' % '$RIG')
    lines.append('command: $RIG/py311/bin/python CompatTests/capture/make_captures.py --wheel-dir DIR %s' % ' '.join(a for a in argv if a != '--index-only'))
    newest = max([os.path.getmtime(f) for f in glob.glob(os.path.join(OUT, '*.msgpack'))] or [time.time()])
    lines.append('captures generated: %s UTC' % time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(newest)))
    return '\n'.join(lines) + '\n'


def fnv1a64(chunks):
    h = 0xcbf29ce484222325
    for c in chunks:
        for byte in c:
            h = ((h ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    return h


def write_index():
    """INDEX.json: per capture, what a reader must find (the Swift CaptureFormat tests check it)."""
    index = {}
    for f in sorted(os.listdir(OUT)):
        if not f.endswith('.msgpack'):
            continue
        cap = bc_.read_capture(os.path.join(OUT, f))
        counts = {}
        frames = []
        for ev in cap['events']:
            counts[ev['dir']] = counts.get(ev['dir'], 0) + 1
            if 'frames' in ev:
                frames.extend(ev['frames'])
        index[cap['name']] = {
            'argv': cap['server']['argv'], 'events': counts, 'frames': len(frames),
            'frame_bytes': sum(len(x) for x in frames),
            'frames_fnv1a64': '%016x' % fnv1a64(frames),
            'expects': sorted(ev['expect'] for ev in cap['events'] if 'expect' in ev),
            'bytes': os.path.getsize(os.path.join(OUT, f)),
        }
    with open(os.path.join(OUT, 'INDEX.json'), 'w') as fh:
        json.dump(index, fh, indent=1, sort_keys=True)
        fh.write('\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rig', default=os.environ.get('BSS_RIG_DIR',
                                                    os.path.expanduser('~/.cache/bert-serving-swift/rig')))
    ap.add_argument('--port', type=int, default=17700)
    ap.add_argument('--only', nargs='*', default=None)
    ap.add_argument('--index-only', action='store_true',
                    help='only rewrite captures/INDEX.json and PROVENANCE.txt for the captures there')
    ap.add_argument('--wheel-dir', default=None, help='dir with the 1.10.0 wheels, to record their sha256')
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if args.index_only:
        write_index()
        with open(os.path.join(HERE, 'PROVENANCE.txt'), 'w') as f:
            f.write(provenance(args.rig, [], args.wheel_dir))
        return
    for name, description, flags, sessions in CAPTURES:
        if args.only and name not in args.only:
            continue
        run_capture(args.rig, args.port, name, description, flags, sessions)
    write_index()
    with open(os.path.join(HERE, 'PROVENANCE.txt'), 'w') as f:
        f.write(provenance(args.rig, sys.argv[1:], args.wheel_dir))


if __name__ == '__main__':
    main()
