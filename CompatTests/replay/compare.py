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
# -fp16: the original runs its whole graph in float16 while we compute in float32 and cast the
# pooled output (the wire dtype is float16 for both), so the two differ by float16 rounding
# accumulated over the layers: compare within |diff| <= FP16_ATOL + FP16_RTOL * |expected|.
FP16_ATOL, FP16_RTOL = 2e-3, 1e-2

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
    tol = FP16_ATOL + FP16_RTOL * np.abs(a) if dt == np.float16 else FLOAT_TOL
    same = (a == b) | (np.abs(a - b) <= tol) | (np.isnan(a) & np.isnan(b))
    if same.all():
        return []
    bad = np.flatnonzero(~same)
    i = int(bad[0])
    return ['payload: %d of %d values differ by more than the %s tolerance (first at flat index %d: expected %r, got %r)'
            % (len(bad), a.size, dtype, i, a[i], b[i])]


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
