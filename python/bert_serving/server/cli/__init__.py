"""Console scripts: each replaces this Python process with the Swift executable of the same name.

The executable gets this process's argv unchanged (argv[0] included), so `-h`, the
`usage: ...` argument table, exit codes and signals are the Swift program's own.
"""
import os
import sys

from .._binary import find_binary


def _exec(name):
    try:
        path = find_binary(name)
    except FileNotFoundError as error:
        sys.stderr.write('%s: %s\n' % (name, error))
        sys.exit(127)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(path, [sys.argv[0]] + sys.argv[1:])


def main():
    """bert-serving-start"""
    _exec('bert-serving-start')


def benchmark():
    """bert-serving-benchmark"""
    _exec('bert-serving-benchmark')


def terminate():
    """bert-serving-terminate"""
    _exec('bert-serving-terminate')
