"""Where the Swift executables are: $BERT_SERVING_SWIFT_BIN, else the `bin/` folder of this package."""
import os

__all__ = ['ENV_BIN_DIR', 'BINARY_NAMES', 'find_binary']

ENV_BIN_DIR = 'BERT_SERVING_SWIFT_BIN'
BINARY_NAMES = ('bert-serving-start', 'bert-serving-terminate', 'bert-serving-benchmark')
_PACKAGE_BIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bin')


def find_binary(name):
    """Absolute path of the Swift executable `name`.

    Looks in the directory named by $BERT_SERVING_SWIFT_BIN when it is set (and only there, so a
    stale bundled copy is never picked by mistake), otherwise in the `bin/` folder bundled in the wheel.

    Raises:
        FileNotFoundError: the executable is missing or not executable; the message says where
            it looked and how to fix it.
    """
    override = os.environ.get(ENV_BIN_DIR)
    directory = override if override else _PACKAGE_BIN_DIR
    path = os.path.join(directory, name)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    if override:
        where = '$%s=%s' % (ENV_BIN_DIR, override)
    else:
        where = '%s (bundled with the package; $%s is not set)' % (directory, ENV_BIN_DIR)
    problem = 'is not executable' if os.path.isfile(path) else 'was not found'
    raise FileNotFoundError(
        'the Swift executable %r %s in %s. This wheel was built without bundled binaries, or they '
        'were removed: build them with `swift build -c release --static-swift-stdlib` in the '
        'bert-serving-swift repository and set %s to the directory holding them '
        '(the output of `swift build -c release --show-bin-path`), or install a wheel built by '
        'python/build_wheel.sh.' % (name, problem, where, ENV_BIN_DIR))
