"""Compares our parsers' results with the original's (outputs of parse_table.py).

    python compare.py ORIG.json OURS37.json [OURS311.json OURS313.json ...]

ORIG.json: the original 1.10.0 on Python 3.7, for the table AND for the command lines our
namespace_to_argv rebuilt (cases named '<name>#rebuilt'). Checks, one line per check:
  ours on 3.7  == original on 3.7: exit code, namespace, stdout, stderr (help and error texts);
  ours on later Pythons == original: exit code and namespace (3.10+ argparse words help
  differently); each later file is labelled by its name (ours311.json -> py311);
  original parse of our rebuilt command line == original parse of the case (BertServer's argv).
Prints "ok <check>" / "FAIL <check>: ..." and returns the number of failures.
"""
import json
import os
import sys


def load(path):
    with open(path) as fp:
        return {r['name']: r for r in json.load(fp)}


def main():
    orig, ours37 = load(sys.argv[1]), load(sys.argv[2])
    later = [(os.path.basename(p).replace('ours', 'py').replace('.json', ''), load(p)) for p in sys.argv[3:]]
    passed = failed = 0

    def check(name, ok, detail=''):
        nonlocal passed, failed
        if ok:
            passed += 1
            print('ok   %s' % name)
        else:
            failed += 1
            print('FAIL %s %s' % (name, detail))

    for name, want in sorted(orig.items()):
        if name.endswith('#rebuilt'):
            continue
        got = ours37.get(name)
        if got is None:
            check('py37 %s' % name, False, 'missing from our results')
            continue
        for key in ('exit', 'namespace', 'stdout', 'stderr'):
            check('py37 %s %s' % (name, key), got[key] == want[key],
                  '\n  want: %r\n  got:  %r' % (want[key], got[key]))
        for label, results in later:
            got = results.get(name)
            for key in ('exit', 'namespace'):
                check('%s %s %s' % (label, name, key), got is not None and got[key] == want[key],
                      '\n  want: %r\n  got:  %r' % (want[key], got and got[key]))
        if want['namespace'] is not None and name.startswith('start-'):
            back = orig.get(name + '#rebuilt')
            check('argv-roundtrip %s' % name,
                  back is not None and back['exit'] is None and back['namespace'] == want['namespace'],
                  '\n  rebuilt: %r\n  parsed:  %r' % (ours37[name].get('rebuilt'), back and (back['exit'], back['stderr'])))
    print('%d passed, %d failed' % (passed, failed))
    return failed


if __name__ == '__main__':
    sys.exit(1 if main() else 0)
