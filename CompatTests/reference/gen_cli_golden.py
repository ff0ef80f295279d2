#!/usr/bin/env python
# Records how the ORIGINAL bert-serving-server 1.10.0 parses its command lines (Python 3.7 argparse),
# for the ArgparseCompat tests.
#
#   env -u COLUMNS $RIG/py37/bin/python CompatTests/reference/gen_cli_golden.py
#
# Writes Tests/ArgparseCompatTests/Resources/cli_golden.json and cli_golden.provenance.txt.
#
# Every case runs the original `helper.get_run_args(<parser fn>)` -- the function the three console
# scripts call -- with sys.argv patched, so stdout holds the printed argument table, stderr the
# usage/error text, and `exit` the SystemExit status (1 with `exception` for an uncaught exception).
# For each parsed namespace the case also stores its items in vars() order (typed), and the
# SHOW_CONFIG fragment the server builds from it (`status_args`, serialised by pyzmq's jsonapi).
# Per parser the file also stores the action table and how _parse_optional resolves every prefix
# of every option string (used to check that flags we add never break the original abbreviations).
import contextlib
import hashlib
import io
import json
import os
import platform
import sys

os.environ.pop('COLUMNS', None)
os.environ.pop('LINES', None)

import argparse  # noqa: E402
import textwrap  # noqa: E402

from zmq.utils import jsonapi  # noqa: E402
import zmq  # noqa: E402

import bert_serving.server as server_pkg  # noqa: E402
from bert_serving.server import helper  # noqa: E402
from bert_serving.server.graph import PoolingStrategy  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, '..', '..', 'Tests', 'ArgparseCompatTests', 'Resources')

PARSERS = {
    'start': (helper.get_args_parser, '/usr/local/bin/bert-serving-start'),
    'benchmark': (helper.get_benchmark_parser, '/usr/local/bin/bert-serving-benchmark'),
    'terminate': (helper.get_shutdown_parser, '/usr/local/bin/bert-serving-terminate'),
}

M = ['-model_dir', '/models/uncased_L-12_H-768_A-12']

CASES = [
    # --- bert-serving-start: required, spellings of a value ------------------------------------
    ('start', []),
    ('start', M),
    ('start', ['-model_dir=/tmp/m']),
    ('start', ['-model_dir', '/tmp/m', '-num_worker', '4']),
    ('start', M + ['-num_worker=4']),
    ('start', M + ['-num_w', '2']),
    ('start', M + ['-num_w=2']),
    ('start', M + ['-mo', 'y']),
    ('start', ['-mo=/x']),
    ('start', ['-model_dir']),
    ('start', ['-model_dir', '-cpu']),
    ('start', ['-model_dir', '-4']),
    ('start', ['-model_dir', '-x y']),
    ('start', ['-model_dir', '-5.']),
    ('start', ['-model_dir', '-.5']),
    ('start', ['-model_dir', '-']),
    ('start', ['-model_dir=']),
    ('start', ['-model_dir=--']),
    ('start', ['-model_dir', '--', 'x']),
    ('start', ['-model_dir', 'a', '-model_dir', 'b']),
    ('start', M + ['-tuned_model_dir', '/t', '-ckpt_name', 'model.ckpt-100', '-config_name', 'c.json',
                   '-graph_tmp_dir', '/g']),
    ('start', ['-model_dir', 'caf\u00e9 \u4e2d\u6587']),
    # --- max_seq_len (check_max_seq_len) ----------------------------------------------------------
    ('start', M + ['-max_seq_len', 'NONE']),
    ('start', M + ['-max_seq_len', 'none']),
    ('start', M + ['-max_seq_len', 'None']),
    ('start', M + ['-max_seq_len', 'abc']),
    ('start', M + ['-max_seq_len', '3']),
    ('start', M + ['-max_seq_len', '4']),
    ('start', M + ['-max_seq_len', ' 30 ']),
    ('start', M + ['-max_seq_len', '1_000']),
    ('start', M + ['-max_seq_len', '1__000']),
    ('start', M + ['-max_seq_len', '+7']),
    ('start', M + ['-max_seq_len', '-5']),
    ('start', M + ['-max_seq_len', '\u0663\u0660']),
    ('start', M + ['-max_seq_len', '0x10']),
    ('start', M + ['-max_seq_len', '']),
    ('start', M + ['-max_seq_len', '3.5']),
    ('start', M + ['-max_seq_len', '007']),
    ('start', M + ['-max_seq_len=512']),
    # --- pooling_layer (nargs='+', negative numbers) ---------------------------------------------
    ('start', M + ['-pooling_layer', '-4', '-3', '-2', '-1']),
    ('start', M + ['-pooling_layer', '-1']),
    ('start', M + ['-pooling_layer=-4']),
    ('start', M + ['-pooling_layer=-4', '-3']),
    ('start', M + ['-pooling_layer']),
    ('start', M + ['-pooling_layer', '-4', 'x']),
    ('start', M + ['-pooling_layer', '-4', '-cpu', '-3']),
    ('start', M + ['-pooling_layer', '1', '2', '-cpu']),
    ('start', M + ['-pooling_layer', '-4.5']),
    # --- pooling_strategy (type=PoolingStrategy.from_string, choices=list(PoolingStrategy)) -------
    ('start', M + ['-pooling_strategy', 'NONE']),
    ('start', M + ['-pooling_strategy', 'CLS_TOKEN']),
    ('start', M + ['-pooling_strategy', 'SEP_TOKEN']),
    ('start', M + ['-pooling_strategy', 'FIRST_TOKEN']),
    ('start', M + ['-pooling_strategy', 'REDUCE_MEAN_MAX']),
    ('start', M + ['-pooling_strategy', 'REDUCE_MAX']),
    ('start', M + ['-pooling_strategy', 'CLS_POOLED']),
    ('start', M + ['-pooling_strategy', 'LAST_TOKEN']),
    ('start', M + ['-pooling_strategy', 'cls_token']),
    ('start', M + ['-pooling_strategy', 'xyz']),
    ('start', M + ['-pooling_strategy', '']),
    ('start', M + ['-pooling_s=NONE']),
    # --- store_true / store_false ------------------------------------------------------------------
    ('start', M + ['-cpu', '-xla', '-fp16', '-mask_cls_sep', '-no_special_token', '-show_tokens_to_client',
                   '-no_position_embeddings', '-fixed_embed_length', '-verbose', '-cased_tokenization']),
    ('start', M + ['-cased_t']),
    ('start', M + ['-cpu=1']),
    ('start', M + ['-cpu=h']),
    ('start', M + ['-cpu=hx']),
    ('start', M + ['-cpu=']),
    ('start', M + ['-cpu', 'x']),
    # --- ports, aliases, abbreviations -------------------------------------------------------------
    ('start', M + ['-port', '7000', '-port_out', '7001']),
    ('start', M + ['-port_in', '7000', '-port_result', '7001']),
    ('start', M + ['-port_data', '7000']),
    ('start', M + ['-port_', '7000']),
    ('start', M + ['-po', '7000']),
    ('start', M + ['-p', '7000']),
    ('start', M + ['-port_o', '7001']),
    ('start', M + ['-port', 'x']),
    ('start', M + ['-port', '1.5']),
    ('start', M + ['-port', ' 12 ']),
    ('start', M + ['-port', '']),
    ('start', M + ['-port', '-5']),
    ('start', M + ['-port', "a'b"]),
    ('start', M + ['-port', 'a\'"b']),
    ('start', M + ['-port', '\x01\t\u00e9\u200b\U0001F600']),
    ('start', M + ['-http_port', '8125']),
    ('start', M + ['-http_p', '8125']),
    ('start', M + ['-http_max', '5']),
    ('start', M + ['-http_max=5']),
    ('start', M + ['-hx']),
    ('start', M + ['-cors', 'http://a.b', '-num_worker', '2', '-max_batch_size', '64',
                   '-priority_batch_size', '4', '-prefetch_size', '0', '-http_max_connect', '3']),
    ('start', M + ['-cors', '']),
    ('start', M + ['-cors', "it's"]),
    # --- floats ---------------------------------------------------------------------------------------
    ('start', M + ['-gpu_memory_fraction', '0.3']),
    ('start', M + ['-gpu_memory_fraction', '1']),
    ('start', M + ['-gpu_memory_fraction', '1e-5']),
    ('start', M + ['-gpu_memory_fraction', '0.0001']),
    ('start', M + ['-gpu_memory_fraction', '1e16']),
    ('start', M + ['-gpu_memory_fraction', '1234567890123456.7']),
    ('start', M + ['-gpu_memory_fraction', '123456789.123456789']),
    ('start', M + ['-gpu_memory_fraction', 'inf']),
    ('start', M + ['-gpu_memory_fraction', '-Infinity']),
    ('start', M + ['-gpu_memory_fraction', 'nan']),
    ('start', M + ['-gpu_memory_fraction', '-0']),
    ('start', M + ['-gpu_memory_fraction', '1_0.5']),
    ('start', M + ['-gpu_memory_fraction', '.5']),
    ('start', M + ['-gpu_memory_fraction', '5.']),
    ('start', M + ['-gpu_memory_fraction', '1e']),
    ('start', M + ['-gpu_memory_fraction', 'x']),
    ('start', M + ['-gpu_memory_fraction', '-1e5']),
    ('start', M + ['-gpu_memory_fraction', '-.25']),
    ('start', M + ['-gpu_memory_fraction', '0x1p3']),
    ('start', M + ['-gpu_memory_fraction', '1e400']),
    ('start', M + ['-gpu_memory_fraction', '5e-324']),
    ('start', M + ['-gpu_memory_fraction', '0.1', '-device_map', '0', '1', '2']),
    ('start', M + ['-gpu_memory_fraction', '0.1', '-max_seq_len', '\u0661\u0662']),
    ('start', M + ['-gpu_memory_fraction', '0.1']),
    ('start', M + ['-gpu_memory_fraction', '1e22']),
    ('start', M + ['-gpu_memory_fraction', '1.5e-7']),
    ('start', M + ['-gpu_memory_fraction', '123.456']),
    ('start', M + ['-gpu_memory_fraction', '1e15']),
    ('start', M + ['-gpu_memory_fraction', '9007199254740993']),
    ('start', M + ['-gpu_memory_fraction', '2.5e-5']),
    ('start', M + ['-gpu_memory_fraction', '0.000123']),
    ('start', M + ['-gpu_memory_fraction', '100']),
    ('start', M + ['-gpu_memory_fraction', '1e-4']),
    ('start', M + ['-gpu_memory_fraction', '3.141592653589793']),
    ('start', M + ['-gpu_memory_fraction', '1.7976931348623157e308']),
    ('start', M + ['-gpu_memory_fraction', '2.2250738585072014e-308']),
    ('start', M + ['-gpu_memory_fraction', '  7.5\n']),
    ('start', M + ['-gpu_memory_fraction', '\u0663.\u0665']),
    ('start', M + ['-gpu_memory_fraction', 'infinity']),
    ('start', M + ['-gpu_memory_fraction', '+nan']),
    ('start', M + ['-gpu_memory_fraction', 'INF']),
    ('start', M + ['-gpu_memory_fraction', '1_000.000_1']),
    ('start', M + ['-gpu_memory_fraction', '1__0.5']),
    ('start', M + ['-gpu_memory_fraction', '_1.5']),
    ('start', M + ['-gpu_memory_fraction', '1.5_']),
    ('start', M + ['-gpu_memory_fraction', '1e1_0']),
    ('start', M + ['-gpu_memory_fraction', '1.e5']),
    ('start', M + ['-gpu_memory_fraction', 'e5']),
    ('start', M + ['-gpu_memory_fraction', '.']),
    ('start', M + ['-gpu_memory_fraction', '1e+']),
    ('start', M + ['-gpu_memory_fraction', '\u00a02.5\u00a0']),
    ('start', M + ['-gpu_memory_fraction', '1.5f']),
    ('start', M + ['-gpu_memory_fraction', '0.30000000000000004']),
    ('start', M + ['-gpu_memory_fraction', '1e-7']),
    ('start', M + ['-gpu_memory_fraction', '123456789012345678']),
    ('start', M + ['-num_worker', '\u00a012\u00a0']),
    ('start', M + ['-num_worker', '1 2']),
    ('start', M + ['-num_worker', '+-1']),
    ('start', M + ['-num_worker', '0b1']),
    ('start', M + ['-num_worker', '12_']),
    ('start', M + ['-num_worker', '\u0663_\u0660']),
    ('start', M + ['-num_worker', '\uff11\uff12']),
    ('start', M + ['-num_worker', '\u00b2']),
    ('start', M + ['-num_worker', '\u2167']),
    ('start', M + ['-num_worker', '0_7']),
    ('start', M + ['-num_worker', '00']),
    ('start', M + ['-num_worker', '-0']),
    ('start', M + ['-num_worker', '9223372036854775807']),
    ('start', M + ['-max_seq_len', 'NONE ']),
    ('start', M + ['-max_seq_len', '\uff2e\uff2f\uff2e\uff25']),
    ('start', ['-model_dir', '-5\n']),
    ('start', ['-model_dir', '-5\n\n']),
    ('start', ['-model_dir', 'a\nb\tc']),
    ('start', M + ['-cpu=hcpu']),
    ('start', M + ['-xla=h']),
    ('start', M + ['-cased_tokenization', '-verbose=x']),
    ('benchmark', M + ['-test_pooling_layer']),
    ('benchmark', M + ['-test_pooling_layer', '-3', '-test_client_batch_size', '7']),
    ('start', M + ['-device_map']),
    ('start', M + ['-device_map', '0', '-1']),
    # --- help / version / unknown ----------------------------------------------------------------------
    ('start', ['-h']),
    ('start', M + ['-h']),
    ('start', ['--help']),
    ('start', ['--he']),
    ('start', ['--h']),
    ('start', ['--help=1']),
    ('start', ['--he=1']),
    ('start', ['-num_worker', 'x', '-h']),
    ('start', ['-h', '-num_worker', 'x']),
    ('start', ['-version']),
    ('start', ['-vers']),
    ('start', ['-ver']),
    ('start', ['-v']),
    ('start', ['-version=1']),
    ('start', M + ['-foo']),
    ('start', M + ['--foo']),
    ('start', M + ['--foo=1', 'bar']),
    ('start', ['-foo']),
    ('start', M + ['foo']),
    ('start', M + ['foo', 'bar', '-cpu', 'baz']),
    ('start', M + ['--']),
    ('start', M + ['--', '-cpu']),
    ('start', ['-cpu']),
    ('start', ['-num_worker', 'x']),
    ('start', ['-m', 'x']),
    ('start', ['-c']),
    ('start', M + ['-']),
    ('start', M + ['-=x']),
    ('start', M + ['-1e5']),
    # --- bert-serving-benchmark ------------------------------------------------------------------------
    ('benchmark', []),
    ('benchmark', M),
    ('benchmark', M + ['-test_max_seq_len']),
    ('benchmark', M + ['-test_pooling_layer', '-1', '-2', '-test_num_client', '1', '2']),
    ('benchmark', M + ['-test_', '1']),
    ('benchmark', M + ['-test_c', '1', '16']),
    ('benchmark', M + ['-wait', '5', '-num_r', '3', '-client_vocab_file', 'v.txt']),
    ('benchmark', M + ['-num_', '3']),
    ('benchmark', M + ['-num_repeat', 'x']),
    ('benchmark', M + ['-cl', 'x']),
    ('benchmark', M + ['-test_max_seq_len', '-cpu']),
    ('benchmark', M + ['-test_max_batch_size', '8', 'x']),
    ('benchmark', ['-h']),
    ('benchmark', ['-version']),
    # --- bert-serving-terminate ------------------------------------------------------------------------
    ('terminate', []),
    ('terminate', ['-port', '5555']),
    ('terminate', ['-port_in', '5555']),
    ('terminate', ['-port_data=5555']),
    ('terminate', ['-ip', '1.2.3.4', '-port', '1', '-timeout', '100']),
    ('terminate', ['-t', '5', '-port', '1']),
    ('terminate', ['-i', 'host', '-port', '1']),
    ('terminate', ['-p', '5']),
    ('terminate', ['-port_', '5']),
    ('terminate', ['-port', 'x']),
    ('terminate', ['-h']),
    ('terminate', ['-version']),
    ('terminate', ['-port', '1', '-version']),
    ('terminate', ['-port', '1', '-cpu']),
]

# -h under other terminal widths (argparse reads COLUMNS).
COLUMNS_CASES = [
    ('start', ['-h'], '120'),
    ('start', ['-h'], '40'),
    ('terminate', ['-h'], '60'),
    ('benchmark', ['-num_worker', 'x'], '100'),
    ('terminate', ['-h'], 'abc'),
]


def typed(v):
    """A JSON encoding of a namespace value that keeps its Python type."""
    if v is None:
        return {'none': None}
    if isinstance(v, bool):
        return {'bool': v}
    if isinstance(v, int):
        return {'int': v}
    if isinstance(v, float):
        return {'float': repr(v)}
    if isinstance(v, str):
        return {'str': v}
    if isinstance(v, PoolingStrategy):
        return {'enum': [type(v).__name__, v.name, v.value]}
    if isinstance(v, list):
        return {'list': [typed(x) for x in v]}
    raise TypeError('unexpected namespace value %r' % (v,))


def run(name, args, columns=None):
    fn, argv0 = PARSERS[name]
    if columns is None:
        os.environ.pop('COLUMNS', None)
    else:
        os.environ['COLUMNS'] = columns
    sys.argv = [argv0] + list(args)
    out, err = io.StringIO(), io.StringIO()
    result = {'parser': name, 'argv0': argv0, 'args': list(args)}
    if columns is not None:
        result['columns'] = columns
    parsed = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            parsed = helper.get_run_args(fn)
            result['exit'] = 0
        except SystemExit as e:
            result['exit'] = e.code if isinstance(e.code, int) else 1
        except Exception as e:  # the original crashes with a traceback
            result['exit'] = 1
            result['exception'] = '%s: %s' % (type(e).__name__, e)
    os.environ.pop('COLUMNS', None)
    result['stdout'] = out.getvalue()
    result['stderr'] = err.getvalue()
    if parsed is not None:
        result['namespace'] = [[k, typed(v)] for k, v in vars(parsed).items()]
        # bert_serving/server/__init__.py BertServer.__init__: status_args
        status_args = {k: (v if k != 'pooling_strategy' else v.value) for k, v in sorted(vars(parsed).items())}
        result['status_args_json'] = jsonapi.dumps(status_args).decode('utf8')
    return result


def describe_parser(name):
    fn, argv0 = PARSERS[name]
    sys.argv = [argv0]
    parser = fn()
    group_of = {}
    for group in parser._action_groups:
        for action in group._group_actions:
            group_of[id(action)] = group.title
    actions = []
    for a in parser._actions:
        actions.append({
            'option_strings': a.option_strings,
            'dest': a.dest,
            'kind': type(a).__name__,
            'nargs': a.nargs,
            'default': None if a.default is argparse.SUPPRESS else typed(a.default),
            'suppress_default': a.default is argparse.SUPPRESS,
            'type': None if a.type is None else a.type.__name__,
            'choices': None if a.choices is None else [str(c) for c in a.choices],
            'required': a.required,
            'help': a.help,
            'group': group_of.get(id(a)),
        })
    groups = [{'title': g.title, 'description': g.description} for g in parser._action_groups]
    prefixes = {}
    for option in parser._option_string_actions:
        for n in range(1, len(option) + 1):
            for candidate in (option[:n], option[:n] + '=v'):
                if candidate in prefixes:
                    continue
                err = io.StringIO()
                with contextlib.redirect_stderr(err):
                    try:
                        tup = parser._parse_optional(candidate)
                    except SystemExit as e:
                        prefixes[candidate] = {'error': err.getvalue(), 'exit': e.code}
                        continue
                if tup is None:
                    prefixes[candidate] = {'positional': True}
                else:
                    action, option_string, explicit = tup
                    prefixes[candidate] = {
                        'dest': None if action is None else action.dest,
                        'option_string': option_string,
                        'explicit': explicit,
                    }
    return {
        'prog': parser.prog,
        'description': parser.description,
        'defaults': [[k, typed(v)] for k, v in parser._defaults.items()],
        'groups': groups,
        'actions': actions,
        'option_strings': list(parser._option_string_actions),
        'prefixes': prefixes,
    }


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    golden = {
        'parsers': {name: describe_parser(name) for name in PARSERS},
        'cases': [run(name, args) for name, args in CASES]
                 + [run(name, args, columns) for name, args, columns in COLUMNS_CASES],
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, 'cli_golden.json'), 'w', encoding='utf8') as f:
        json.dump(golden, f, indent=1, ensure_ascii=True, sort_keys=False)
        f.write('\n')
    srv_dir = os.path.dirname(server_pkg.__file__)
    record = os.path.join(os.path.dirname(srv_dir), '..', 'bert_serving_server-1.10.0.dist-info', 'RECORD')
    with open(os.path.join(OUT_DIR, 'cli_golden.provenance.txt'), 'w') as f:
        f.write('generated by: env -u COLUMNS $RIG/py37/bin/python CompatTests/reference/gen_cli_golden.py\n')
        f.write('python: %s\n' % sys.version.replace('\n', ' '))
        f.write('platform: %s\n' % platform.platform())
        f.write('bert-serving-server: %s\n' % server_pkg.__version__)
        f.write('pyzmq: %s, libzmq: %s\n' % (zmq.pyzmq_version(), zmq.zmq_version()))
        f.write('argparse.py sha256: %s\n' % sha256(argparse.__file__))
        f.write('textwrap.py sha256: %s\n' % sha256(textwrap.__file__))
        f.write('server/helper.py sha256: %s\n' % sha256(helper.__file__))
        f.write('server/graph.py sha256: %s\n' % sha256(os.path.join(srv_dir, 'graph.py')))
        if os.path.exists(record):
            f.write('server wheel RECORD sha256: %s\n' % sha256(record))
        f.write('cases: %d\n' % len(golden['cases']))


if __name__ == '__main__':
    main()
