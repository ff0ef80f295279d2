"""Parses a table of command lines with whichever bert_serving.server this interpreter imports.

    python parse_table.py CASES.json OUT.json

CASES.json: [{"name", "parser": "start"|"benchmark"|"shutdown", "argv": [...]}]. For each case,
OUT.json gets the exit code, stdout/stderr of argparse, and the namespace in a comparable form
(enum members as {"enum", "name", "value"}). When the package has `namespace_to_argv` (ours),
also the command line it rebuilds from the namespace, which the ORIGINAL parser must parse back
into the same namespace. Runs on Python 3.7..3.13, stdlib only.
"""
import contextlib
import enum
import io
import json
import sys


def comparable(value):
    if isinstance(value, enum.Enum):
        return {'enum': type(value).__name__, 'name': value.name, 'value': value.value}
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return {'type': type(value).__name__, 'value': value}
    return {'type': type(value).__name__, 'repr': repr(value)}


def main():
    from bert_serving.server import helper
    parsers = {'start': helper.get_args_parser, 'benchmark': helper.get_benchmark_parser,
               'shutdown': helper.get_shutdown_parser}
    rebuild = getattr(helper, 'namespace_to_argv', None)
    cases_path, out_path = sys.argv[1], sys.argv[2]
    with open(cases_path) as fp:
        cases = json.load(fp)
    results = []
    for case in cases:
        sys.argv = ['bert-serving-%s' % {'start': 'start', 'benchmark': 'benchmark', 'shutdown': 'terminate'}[case['parser']]]
        out, err = io.StringIO(), io.StringIO()
        result = {'name': case['name'], 'exit': None, 'namespace': None}
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                ns = parsers[case['parser']]().parse_args(case['argv'])
            result['namespace'] = {k: comparable(v) for k, v in sorted(vars(ns).items())}
            if rebuild is not None:
                result['rebuilt'] = rebuild(ns, parsers[case['parser']])
        except SystemExit as stop:
            result['exit'] = stop.code
        result['stdout'] = out.getvalue()
        result['stderr'] = err.getvalue()
        results.append(result)
    with open(out_path, 'w') as fp:
        json.dump(results, fp, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
