# The reply comparator of the replay runner: one captured reply of the original against one
# reply of the server under test. Returns a list of human-readable differences ([] = match).
#
# Rules (CompatTests/README.md):
#   - frame count, routing identity (frame 0) and req_id (last frame) byte for byte;
#   - encode replies [identity, header, payload, req_id]: header JSON byte for byte
#     (dtype, shape, tokens), payload decoded with the captured dtype, |a - b| <= FLOAT_TOL;
#   - config/status replies [identity, json, req_id]: field by field; only the fields named in
#     MAY_DIFFER (times, versions, paths, socket addresses, statistic timings) may differ, and
#     they must still be present;
#   - anything else byte for byte.
import json

import numpy as np

FLOAT_TOL = 1e-4
# -fp16: the original runs its whole graph in float16; we run the dense matrix products in
# bfloat16 where the CPU has AVX512-BF16 (float32 elsewhere) and cast the pooled output to float16
# on the wire, as it does. bfloat16 keeps 8 significant bits to float16's 11, so the two differ by
# more than float16 rounding (measured on cls_fp16: 0.0023 where the former float16 tolerance,
# 2e-3 + 1e-2 * |expected|, allows 0.0021), and an elementwise tolerance would have to be loose
# enough to hide real errors in small values. Float16 payloads are therefore compared by issue 7's criterion instead:
#   - every row (the last axis: one vector; for NONE one token) has cosine >= FP16_MIN_COSINE
#     with the original's (rows all-zero in both, masked tokens, match), AND
#   - every value is within FP16_ABS_BOUND of the original's: bfloat16 against the original's
#     float32 goldens differs by at most 0.064 on MiniLM (hidden values up to ~10; worst row cosine
#     0.99982, Tests/BertEngineTests/ReducedPrecisionTests), float16 against float32 by far less.
# A wrong formula or mask breaks the cosine, a few corrupted values the absolute bound.
FP16_MIN_COSINE = 0.999
FP16_ABS_BOUND = 0.1

# Fields of SHOW_CONFIG / SHOW_STATUS whose values may differ, by name; nothing else may.
MAY_DIFFER = frozenset([
    # times
    'server_start_time', 'server_current_time',
    # versions of the runtime (server_version must match: the client checks it)
    'python_version', 'tensorflow_version', 'pyzmq_version', 'zmq_version',
    # paths (the replay swaps model_dir; the original freezes a graph into a temp dir)
    'model_dir', 'graph_tmp_dir',
    # socket addresses and ports (the replay picks free ports; ours names inproc:// sockets)
    'ventilator -> worker', 'worker -> sink', 'ventilator <-> sink', 'port', 'port_out', 'http_port',
    # statistic timings
    'avg_last_two_interval', 'min_last_two_interval', 'max_last_two_interval',
    'num_min_last_two_interval', 'num_max_last_two_interval',
    'avg_request_per_second', 'min_request_per_second', 'max_request_per_second',
    'num_min_request_per_second', 'num_max_request_per_second',
])


def _json_obj(b):
    try:
        v = json.loads(b.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return None
    return v if isinstance(v, dict) else None


def _short(b, n=60):
    r = repr(bytes(b[:n]))
    return r + ('...' if len(b) > n else '')


def compare_json(exp, act, path=''):
    """Field-by-field difference of two JSON objects (config/status replies)."""
    diffs = []
    for k in sorted(set(exp) | set(act)):
        name = '%s%s' % (path, k)
        if k not in act:
            diffs.append('json: missing key %r' % name)
        elif k not in exp:
            diffs.append('json: extra key %r' % name)
        elif k in MAY_DIFFER:
            continue
        elif isinstance(exp[k], dict) and isinstance(act[k], dict):
            diffs.extend(compare_json(exp[k], act[k], name + '.'))
        elif exp[k] != act[k] or type(exp[k]) is not type(act[k]):
            diffs.append('json: %r expected %r, got %r' % (name, exp[k], act[k]))
    return diffs


def compare_payload(header, exp, act):
    dtype = header.get('dtype')
    try:
        dt = np.dtype(str(dtype))
    except TypeError:
        return [] if exp == act else ['payload: bytes differ (dtype %r)' % dtype]
    if len(exp) != len(act):
        return ['payload: %d bytes expected, got %d' % (len(exp), len(act))]
    if len(exp) % dt.itemsize:
        return [] if exp == act else ['payload: bytes differ']
    a = np.frombuffer(exp, dtype=dt).astype(np.float64)
    b = np.frombuffer(act, dtype=dt).astype(np.float64)
    if dt == np.float16:
        return _compare_fp16(header, a, b)
    tol = FLOAT_TOL
    same = (a == b) | (np.abs(a - b) <= tol) | (np.isnan(a) & np.isnan(b))
    if same.all():
        return []
    bad = np.flatnonzero(~same)
    i = int(bad[0])
    return ['payload: %d of %d values differ by more than the %s tolerance (first at flat index %d: expected %r, got %r)'
            % (len(bad), a.size, dtype, i, a[i], b[i])]


def _compare_fp16(header, a, b):
    """Issue 7's criterion for -fp16 payloads: per-row cosine and an absolute bound (see above)."""
    shape = header.get('shape') or [a.size]
    width = int(shape[-1]) if shape and int(shape[-1]) > 0 else a.size
    if width == 0 or a.size % width:
        return [] if np.array_equal(a, b) else ['payload: float16 values differ (shape %r)' % (shape,)]
    diffs = []
    if np.isnan(a).any() or np.isnan(b).any() or np.isinf(b).any():
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            diffs.append('payload: NaN positions differ')
    far = np.flatnonzero(~(np.abs(a - b) <= FP16_ABS_BOUND) & ~(np.isnan(a) & np.isnan(b)))
    if far.size:
        i = int(far[0])
        diffs.append('payload: %d of %d values differ by more than %g (first at flat index %d: expected %r, got %r)'
                     % (far.size, a.size, FP16_ABS_BOUND, i, a[i], b[i]))
    ra, rb = a.reshape(-1, width), b.reshape(-1, width)
    na, nb = np.linalg.norm(ra, axis=1), np.linalg.norm(rb, axis=1)
    both_zero = (na == 0) & (nb == 0)
    with np.errstate(invalid='ignore', divide='ignore'):
        cos = np.where(both_zero, 1.0, np.sum(ra * rb, axis=1) / (na * nb))
    low = np.flatnonzero(~(cos >= FP16_MIN_COSINE))
    if low.size:
        r = int(low[0])
        diffs.append('payload: %d of %d rows have cosine < %g with the original (first: row %d, cosine %r)'
                     % (low.size, ra.shape[0], FP16_MIN_COSINE, r, float(cos[r])))
    return diffs


def compare_reply(exp, act):
    """Differences between a captured reply (list of frames) and the one received."""
    exp = [bytes(f) for f in exp]
    act = [bytes(f) for f in act]
    if len(exp) != len(act):
        return ['frame count: expected %d, got %d (%s)' % (len(exp), len(act), [_short(f, 30) for f in act])]
    diffs = []
    if exp[0] != act[0]:
        diffs.append('identity: expected %s, got %s' % (_short(exp[0]), _short(act[0])))
    if exp[-1] != act[-1]:
        diffs.append('req_id: expected %s, got %s' % (_short(exp[-1]), _short(act[-1])))
    if len(exp) == 4:
        if exp[1] != act[1]:
            diffs.append('encode header: expected %s, got %s' % (_short(exp[1], 200), _short(act[1], 200)))
        header = _json_obj(exp[1]) or {}
        diffs.extend(compare_payload(header, exp[2], act[2]))
    elif len(exp) == 3:
        e, a = _json_obj(exp[1]), _json_obj(act[1])
        if e is None:
            if exp[1] != act[1]:
                diffs.append('frame 1: expected %s, got %s' % (_short(exp[1]), _short(act[1])))
        elif a is None:
            diffs.append('frame 1: expected a JSON object, got %s' % _short(act[1]))
        else:
            diffs.extend(compare_json(e, a))
    else:
        for i in range(1, len(exp) - 1):
            if exp[i] != act[i]:
                diffs.append('frame %d: expected %s, got %s' % (i, _short(exp[i]), _short(act[i])))
    return diffs


def check_error_reply(identity, req_id, act):
    """Ours must answer a request that wedges the original with an error header the stock client raises."""
    act = [bytes(f) for f in act]
    if len(act) < 3 or act[0] != identity or act[-1] != req_id:
        return ['error reply: expected [identity, header, ..., req_id], got %s' % [_short(f, 30) for f in act]]
    header = _json_obj(act[1])
    if header is None or not str(header.get('dtype', '')).startswith('ERROR:'):
        return ['error reply: header dtype does not start with "ERROR:": %s' % _short(act[1], 120)]
    return []


def check_answer(identity, req_id, act):
    """Ours must answer a config request the original never answered (wedged or non-ASCII identity)."""
    act = [bytes(f) for f in act]
    if len(act) != 3 or act[0] != identity or act[-1] != req_id:
        return ['answer: expected [identity, json, req_id], got %s' % [_short(f, 30) for f in act]]
    body = _json_obj(act[1])
    if body is None or 'server_version' not in body:
        return ['answer: not a config reply: %s' % _short(act[1], 120)]
    return []
