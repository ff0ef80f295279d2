"""A broken model makes OUR bert-serving-start exit non-zero BEFORE it opens any port, with one
line naming the file (and the tensor where one is involved); never a crash, never a server that
starts and then answers with wrong vectors.

Each case copies the rig's MiniLM (TF1 checkpoint or safetensors folder) into a temp dir and
breaks one thing. The test itself listens on the -port it passes: a server that reached its bind
would fail with "Address already in use" instead of the model error, so seeing the model error
proves the model was checked before any port was opened.
Run: $RIG/py311/bin/python broken_models.py   (closes with "N passed, N failed")
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

TF1 = os.path.join(common.RIG, 'minilm-tf1')
HF = os.path.join(common.RIG, 'minilm-hf')
SHARD = 'bert_model.ckpt.data-00000-of-00001'


def copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_safetensors(path, header, data):
    blob = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(blob)) + blob + data)


def edit_safetensors(path, fn):
    header, data = read_safetensors(path)
    fn(header)
    write_safetensors(path, header, data)


def first_tensor(header, suffix):
    return next(k for k in sorted(header) if k.endswith(suffix))


# Each case: (name, source model, how to break the copy -> list of strings the error must name).
def missing_vocab(d):
    os.remove(os.path.join(d, 'vocab.txt'))
    return ['vocab.txt']


def missing_index(d):
    os.remove(os.path.join(d, 'bert_model.ckpt.index'))
    return ['bert_model.ckpt']


def truncated_shard(d):
    p = os.path.join(d, SHARD)
    size = os.path.getsize(p)
    with open(p, 'r+b') as f:
        f.truncate(size // 2)
    return [SHARD, "tensor '"]


def crc_mismatch(d):
    p = os.path.join(d, SHARD)
    with open(p, 'r+b') as f:
        f.seek(os.path.getsize(p) // 3)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    return [SHARD, 'crc32c mismatch', "tensor 'bert/"]


def config_disagrees(d):
    p = os.path.join(d, 'bert_config.json')
    cfg = json.load(open(p))
    cfg['intermediate_size'] = cfg['intermediate_size'] * 2
    json.dump(cfg, open(p, 'w'))
    return ['bert_model.ckpt', "tensor 'bert/encoder/layer_0/intermediate/dense/kernel'", 'shape']


def hf_wrong_shape(d):
    p = os.path.join(d, 'model.safetensors')
    name = []

    def fn(h):
        k = first_tensor(h, 'attention.self.query.weight')
        r, c = h[k]['shape']
        h[k]['shape'] = [c // 2, r * 2]  # same byte size, wrong shape
        name.append(k)
    edit_safetensors(p, fn)
    return ['model.safetensors', "tensor '%s (as bert/" % name[0], 'shape']


def hf_unknown_dtype(d):
    p = os.path.join(d, 'model.safetensors')
    name = []

    def fn(h):
        k = first_tensor(h, 'attention.output.dense.bias')
        h[k]['dtype'] = 'I32'  # same byte size as F32
        name.append(k)
    edit_safetensors(p, fn)
    return ['model.safetensors', "tensor '%s (as bert/" % name[0], 'dtype I32']


def hf_truncated(d):
    p = os.path.join(d, 'model.safetensors')
    size = os.path.getsize(p)
    with open(p, 'r+b') as f:
        f.truncate(size - 4096)
    return ['model.safetensors', "tensor '"]


def hf_bad_header(d):
    p = os.path.join(d, 'model.safetensors')
    with open(p, 'r+b') as f:
        f.seek(8)
        f.write(b'#')  # the JSON header no longer parses
    return ['model.safetensors', 'malformed']


def hf_missing_config(d):
    os.remove(os.path.join(d, 'config.json'))
    return ['config.json']


CASES = [
    ('tf1 missing vocab.txt', TF1, missing_vocab),
    ('tf1 missing index', TF1, missing_index),
    ('tf1 truncated shard', TF1, truncated_shard),
    ('tf1 crc mismatch', TF1, crc_mismatch),
    ('tf1 config disagrees', TF1, config_disagrees),
    ('hf wrong shape', HF, hf_wrong_shape),
    ('hf unknown dtype', HF, hf_unknown_dtype),
    ('hf truncated file', HF, hf_truncated),
    ('hf malformed header', HF, hf_bad_header),
    ('hf missing config', HF, hf_missing_config),
]


def run_case(src, breaker, tmp):
    model = copy(src, os.path.join(tmp, 'model'))
    must_name = breaker(model)
    port, port_out = common.free_port_pair(120)
    guard = socket.socket()
    guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    guard.bind(('0.0.0.0', port))
    guard.listen(1)
    try:
        binary = os.path.join(common.BIN_DIR, 'bert-serving-start')
        t0 = time.time()
        try:
            p = subprocess.run([binary, '-model_dir', model, '-port', str(port), '-port_out', str(port_out),
                                '-num_worker', '1', '-cpu'], capture_output=True, timeout=60 * common.TIME_SCALE)
        except subprocess.TimeoutExpired:
            return 'still running after 60 s'
        out = (p.stdout + p.stderr).decode('utf-8', 'replace')
        if p.returncode <= 0:
            return 'exit status %d (expected a positive failure status)' % p.returncode
        if 'Address already in use' in out or 'bind all sockets' in out:
            return 'reached its sockets before refusing the model'
        errors = [line for line in out.splitlines() if line.startswith('E:')]
        if len(errors) != 1:
            return 'expected one error line, got %d:\n%s' % (len(errors), out[-1500:])
        missing = [m for m in must_name if m not in errors[0]]
        if missing:
            return 'error line does not name %s: %s' % (missing, errors[0])
        return None if time.time() - t0 < 30 * common.TIME_SCALE else 'took %.0f s' % (time.time() - t0)
    finally:
        guard.close()


def main():
    for d in (TF1, HF):
        if not os.path.isdir(d):
            common.fail_setup('no model %s (run CompatTests/reference/setup.sh)' % d)
    passed = failed = 0
    for name, src, breaker in CASES:
        tmp = tempfile.mkdtemp(prefix='bss-broken-')
        try:
            err = run_case(src, breaker, tmp)
        except Exception as e:  # noqa: BLE001 - a crash of the case is a failure, not an abort
            err = 'case raised %s: %s' % (type(e).__name__, e)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print('%-5s %-24s %s' % ('ok' if err is None else 'FAIL', name, err or ''), flush=True)
        passed += err is None
        failed += err is not None
    print('%d passed, %d failed' % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
