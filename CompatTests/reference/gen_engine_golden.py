"""Golden vectors for the BERT engine, produced by the ORIGINAL bert-serving-server 1.10.0.

For every case of CASES below, this script starts the rig's original server
($RIG/py37/bin/bert-serving-start -cpu, TensorFlow 1.15.5, model $RIG/minilm-tf1) with that
case's flags, encodes TEXTS and TOKENIZED through the stock bert-serving-client (this
interpreter, the rig's py311), and writes what the client returned. It also records the
input_ids / input_mask / input_type_ids that the original's own convert_lst_to_features
(bert_serving.server.bert.extract_features, run in a py37 subprocess) makes of the same inputs,
so the Swift engine test feeds ids directly and does not depend on our tokenizer.

Output (Tests/BertEngineTests/Resources/engine_golden/):
  manifest.json    cases, flags, input sets, output files and shapes
  inputs.json      the input sets (ids, mask, type ids; flat row-major [count, seq_len])
  <case>.<batch>.bin   raw little-endian float32, row-major, shape in the manifest
  provenance.json  Python / TF / pyzmq / numpy versions, wheel sha256, command line

usage: $RIG/py311/bin/python gen_engine_golden.py [--out DIR] [--only CASE ...]
       (BSS_RIG_DIR selects the rig, default ~/.cache/bert-serving-swift/rig;
        ports 17300-17399 are used, two per case)
"""
import argparse
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import zmq
from bert_serving.client import BertClient

RIG = os.environ.get('BSS_RIG_DIR', os.path.expanduser('~/.cache/bert-serving-swift/rig'))
PY37 = os.path.join(RIG, 'py37', 'bin', 'python')
START = os.path.join(RIG, 'py37', 'bin', 'bert-serving-start')
MODEL = os.path.join(RIG, 'minilm-tf1')
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, '..', '..', 'Tests', 'BertEngineTests', 'Resources',
                                            'engine_golden'))
BASE_PORT = 17300

# Plain sentences: short, long (> 25 word pieces), accents, CJK, other scripts, pairs, a text
# that tokenizes to nothing (U+200B is Cf and removed by _clean_text, but str.strip() keeps it,
# so the stock client accepts it).
ZERO_TOKEN_TEXT = '\u200b'
TEXTS = [
    'hello world',
    'The quick brown fox jumps over the lazy dog.',
    'In 1998, the researchers at the university published a remarkably comprehensive study on '
    'the migratory patterns of arctic terns, documenting flights of more than seventy thousand '
    'kilometres every single year.',
    'Caf\u00e9 d\u00e9j\u00e0 vu \u2014 na\u00efve r\u00e9sum\u00e9 fa\u00e7ade.',
    '\u5317\u4eac\u662f\u4e2d\u56fd\u7684\u9996\u90fd\u3002',
    '\u6771\u4eac\u30bf\u30ef\u30fc\u306f\u9ad8\u3044',
    'How old are you? ||| I am twenty-three years old.',
    'a',
    '!!!',
    'unbelievably uncharacteristic antidisestablishmentarianism',
    '\u00dcn\u00efc\u00f6d\u00e9 \u00c0\u00c9\u00ce\u00d5\u00dc stra\u00dfe',
    '1234567890 3.14159 $100',
    '\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4',
    'emoji \U0001F600 test \U0001F44D',
    'tab\tseparated\ttext',
    ZERO_TOKEN_TEXT,
    'first part ||| second part ||| third part',
    'This is a fairly long first segment of a sentence pair that goes on and on ||| and this is '
    'the second segment which is also not short at all',
    'THE CAPITALS ARE LOWERED',
    'bert-as-service maps sentences of variable length to fixed-length vectors',
    '\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430?',
    '\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645',
    'e-mail: someone@example.com, url: https://example.org/path?q=1',
    'Short.',
]

# One pre-tokenized batch (is_tokenized=True): unknown words become [UNK], the first '|||'
# token splits a pair.
TOKENIZED = [
    ['hello', 'world'],
    ['this', 'is', 'pre', '##tok', 'text', '.'],
    ['foo', '|||', 'bar', '|||', 'baz'],
    ['xyzzyunknownword', 'the', 'a'],
]

# name, pooling_strategy, pooling_layer, extra flags, {max_seq_len: int or None}
CASES = [
    ('reduce_mean_l2', 'REDUCE_MEAN', [-2], [], 25),
    ('reduce_max_l2', 'REDUCE_MAX', [-2], [], 25),
    ('reduce_mean_max_l2', 'REDUCE_MEAN_MAX', [-2], [], 25),
    ('first_token_l2', 'FIRST_TOKEN', [-2], [], 25),
    ('cls_token_l1', 'CLS_TOKEN', [-1], [], 25),
    ('last_token_l2', 'LAST_TOKEN', [-2], [], 25),
    ('sep_token_l6', 'SEP_TOKEN', [-6], [], 25),
    ('cls_pooled', 'CLS_POOLED', [-2], [], 25),
    ('none_l2', 'NONE', [-2], [], 25),
    ('reduce_mean_l1', 'REDUCE_MEAN', [-1], [], 25),
    ('reduce_mean_l6', 'REDUCE_MEAN', [-6], [], 25),
    ('reduce_mean_l1_l4', 'REDUCE_MEAN', [-1, -4], [], 25),
    ('reduce_max_l4_l1', 'REDUCE_MAX', [-4, -1], [], 25),
    ('reduce_mean_max_l3_l0', 'REDUCE_MEAN_MAX', [-3, 0], [], 25),
    ('mask_reduce_mean', 'REDUCE_MEAN', [-2], ['-mask_cls_sep'], 25),
    ('mask_reduce_max', 'REDUCE_MAX', [-2], ['-mask_cls_sep'], 25),
    ('mask_first_token', 'FIRST_TOKEN', [-2], ['-mask_cls_sep'], 25),
    ('mask_last_token', 'LAST_TOKEN', [-2], ['-mask_cls_sep'], 25),
    ('mask_cls_pooled', 'CLS_POOLED', [-2], ['-mask_cls_sep'], 25),
    ('seqnone_none', 'NONE', [-2], [], None),
    ('seqnone_reduce_mean', 'REDUCE_MEAN', [-2], [], None),
    ('nopos_reduce_mean', 'REDUCE_MEAN', [-2], ['-no_position_embeddings'], 25),
]

POOLING_ENUM = {'NONE': 0, 'REDUCE_MAX': 1, 'REDUCE_MEAN': 2, 'REDUCE_MEAN_MAX': 3,
                'FIRST_TOKEN': 4, 'LAST_TOKEN': 5, 'CLS_TOKEN': 4, 'SEP_TOKEN': 5, 'CLS_POOLED': 6}

# Run by the py37 interpreter: the original's tokenizer and convert_lst_to_features.
FEATURES_PY37 = r'''
import json, logging, os, sys
from bert_serving.server.bert.extract_features import convert_lst_to_features
from bert_serving.server.bert.tokenization import FullTokenizer
req = json.load(sys.stdin)
tok = FullTokenizer(vocab_file=os.path.join(req["model_dir"], "vocab.txt"), do_lower_case=True)
log = logging.getLogger("features"); log.addHandler(logging.NullHandler())
feats = list(convert_lst_to_features(req["texts"], req["max_seq_len"], req["max_position_embeddings"],
                                     tok, log, req["is_tokenized"], req["mask_cls_sep"], False))
json.dump([{"tokens": f.tokens, "input_ids": f.input_ids, "input_mask": f.input_mask,
            "input_type_ids": f.input_type_ids} for f in feats], sys.stdout)
'''


def features(texts, is_tokenized, max_seq_len, mask_cls_sep):
    with open(os.path.join(MODEL, 'bert_config.json')) as f:
        max_pos = json.load(f)['max_position_embeddings']
    req = {'model_dir': MODEL, 'texts': texts, 'is_tokenized': is_tokenized, 'max_seq_len': max_seq_len,
           'mask_cls_sep': mask_cls_sep, 'max_position_embeddings': max_pos}
    out = subprocess.run([PY37, '-c', FEATURES_PY37], input=json.dumps(req).encode(), stdout=subprocess.PIPE,
                         check=True)
    return json.loads(out.stdout)


class OriginalServer:
    """The original bert-serving-start in its own process group, stopped by pid on exit."""

    def __init__(self, args, port, work_dir):
        # The original leaks its frozen graph (-graph_tmp_dir) and its ipc socket directories
        # (ZEROMQ_SOCK_TMP_DIR, else the working directory): keep both in work_dir.
        self.cmd = [START, '-cpu', '-model_dir', MODEL, '-num_worker', '1', '-port', str(port),
                    '-port_out', str(port + 1), '-graph_tmp_dir', work_dir] + args
        self.port = port
        self.work_dir = work_dir
        self.log_path = os.path.join(work_dir, 'server.log')
        self.proc = None

    def __enter__(self):
        self.log = open(self.log_path, 'wb')
        env = dict(os.environ, ZEROMQ_SOCK_TMP_DIR=self.work_dir)
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=self.work_dir, env=env)
        deadline = time.time() + 240
        while time.time() < deadline:
            time.sleep(0.5)
            with open(self.log_path, 'rb') as f:
                if b'all set, ready to serve request!' in f.read():
                    return self
            if self.proc.poll() is not None:
                break
        self.__exit__(None, None, None)
        with open(self.log_path, 'rb') as f:
            sys.exit('server did not start: %s\n%s' % (' '.join(self.cmd), f.read().decode('utf-8', 'replace')[-3000:]))

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def versions():
    code = ('import json, sys, unicodedata, tensorflow as tf, zmq, numpy;'
            'json.dump({"python": sys.version.split()[0], "unicodedata": unicodedata.unidata_version,'
            '"tensorflow": tf.__version__, "pyzmq": zmq.__version__, "numpy": numpy.__version__}, sys.stdout)')
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
    server = json.loads(subprocess.run([PY37, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       env=env, check=True).stdout)
    import bert_serving.client
    client = {'python': platform.python_version(), 'pyzmq': zmq.__version__, 'numpy': np.__version__,
              'bert_serving_client': bert_serving.client.__version__}
    return server, client


def wheel_sha256(dist):
    """sha256 of the wheel pip downloads for `dist` (pip's cache makes this offline after setup)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([PY37, '-m', 'pip', 'download', '-q', '--disable-pip-version-check', '--no-deps', '-d', tmp,
                        dist], check=True, stdout=subprocess.DEVNULL)
        (name,) = os.listdir(tmp)
        with open(os.path.join(tmp, name), 'rb') as f:
            return name, hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--only', nargs='*', help='regenerate only these cases (others are kept from the manifest)')
    opts = ap.parse_args()
    os.makedirs(opts.out, exist_ok=True)
    manifest_path = os.path.join(opts.out, 'manifest.json')
    inputs_path = os.path.join(opts.out, 'inputs.json')
    old_cases = {}
    inputs = {}
    if opts.only and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            old_cases = {c['name']: c for c in json.load(f)['cases']}
        with open(inputs_path) as f:
            inputs = json.load(f)

    def input_set(kind, texts, is_tokenized, max_seq_len, mask_cls_sep):
        feats = features(texts, is_tokenized, max_seq_len, mask_cls_sep)
        seq_len = len(feats[0]['input_ids'])
        key = '%s_len%s%s_n%d' % (kind, max_seq_len if max_seq_len else 'NONE', '_mask' if mask_cls_sep else '',
                                  len(texts))
        inputs[key] = {
            'count': len(feats), 'seq_len': seq_len,
            'input_ids': [i for f in feats for i in f['input_ids']],
            'input_mask': [i for f in feats for i in f['input_mask']],
            'input_type_ids': [i for f in feats for i in f['input_type_ids']],
            'tokens': [f['tokens'] for f in feats],
        }
        return key

    cases = []
    for idx, (name, strategy, layers, extra, max_seq_len) in enumerate(CASES):
        if opts.only and name not in opts.only:
            if name in old_cases:
                cases.append(old_cases[name])
            continue
        mask_cls_sep = '-mask_cls_sep' in extra
        # gather_nd at index sum(mask)-1 = -1 makes the original's worker fail on a text with no
        # word piece under -mask_cls_sep LAST_TOKEN/SEP_TOKEN; that text is left out there.
        texts = [t for t in TEXTS if not (mask_cls_sep and strategy in ('LAST_TOKEN', 'SEP_TOKEN')
                                          and t == ZERO_TOKEN_TEXT)]
        args = ['-pooling_strategy', strategy, '-pooling_layer'] + [str(l) for l in layers] + \
               ['-max_seq_len', str(max_seq_len) if max_seq_len else 'NONE'] + extra
        port = BASE_PORT + 2 * idx
        print('[%s] bert-serving-start %s' % (name, ' '.join(args)), file=sys.stderr, flush=True)
        batches = []
        with tempfile.TemporaryDirectory() as tmp, OriginalServer(args, port, tmp):
            bc = BertClient(port=port, port_out=port + 1, timeout=120000, check_length=False)
            for kind, data, is_tok in (('plain', texts, False), ('tokenized', TOKENIZED, True)):
                vec = np.ascontiguousarray(bc.encode(list(data), is_tokenized=is_tok), dtype='<f4')
                key = input_set(kind, list(data), is_tok, max_seq_len, mask_cls_sep)
                fname = '%s.%s.bin' % (name, kind)
                with open(os.path.join(opts.out, fname), 'wb') as f:
                    f.write(vec.tobytes())
                batches.append({'input': key, 'output': fname, 'shape': list(vec.shape)})
            bc.close()
        cases.append({
            'name': name, 'pooling_strategy': strategy, 'pooling_enum': POOLING_ENUM[strategy],
            'pooling_layer': layers, 'max_seq_len': max_seq_len, 'mask_cls_sep': mask_cls_sep,
            'no_position_embeddings': '-no_position_embeddings' in extra, 'server_args': args,
            'batches': batches,
        })

    used = {b['input'] for c in cases for b in c['batches']}
    inputs = {k: v for k, v in sorted(inputs.items()) if k in used}
    with open(inputs_path, 'w') as f:
        json.dump(inputs, f, ensure_ascii=True, separators=(',', ':'))
    with open(manifest_path, 'w') as f:
        json.dump({'model': 'minilm-tf1 (all-MiniLM-L6-v2 as a Google TF1 checkpoint)', 'dtype': 'float32-le',
                   'cases': cases}, f, indent=1, ensure_ascii=True)

    server, client = versions()
    wheel, sha = wheel_sha256('bert-serving-server==1.10.0')
    with open(os.path.join(opts.out, 'provenance.json'), 'w') as f:
        json.dump({
            'generator': 'CompatTests/reference/gen_engine_golden.py',
            'command': '$RIG/py311/bin/python CompatTests/reference/gen_engine_golden.py' +
                       (' --only ' + ' '.join(opts.only) if opts.only else ''),
            'server_command': '$RIG/py37/bin/bert-serving-start -cpu -model_dir $RIG/minilm-tf1 -num_worker 1 '
                              '-port P -port_out P+1 -graph_tmp_dir TMP <case server_args>',
            'server_side': server, 'client_side': client,
            'server_wheel': wheel, 'server_wheel_sha256': sha,
            'generated_utc': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        }, f, indent=1)
    print('wrote %d cases to %s' % (len(cases), opts.out), file=sys.stderr)


if __name__ == '__main__':
    main()
