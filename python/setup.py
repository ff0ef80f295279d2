"""Build hooks: bundle the Swift executables into the wheel when $BSS_WHEEL_BIN_DIR names them.

With the executables inside, the wheel is tagged py3-none-<platform> (any Python 3, this OS and
CPU); without them it is a pure py3-none-any wheel that finds them through $BERT_SERVING_SWIFT_BIN.
Metadata lives in pyproject.toml.
"""
import os
import shutil
import sysconfig

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

BIN_DIR_ENV = 'BSS_WHEEL_BIN_DIR'
EXECUTABLES = ('bert-serving-start', 'bert-serving-terminate', 'bert-serving-benchmark')


def bundled_bin_dir():
    return os.environ.get(BIN_DIR_ENV) or None


class BuildPyWithExecutables(build_py):
    """Copies the release executables into bert_serving/server/bin/ of the build tree."""

    def run(self):
        super().run()
        source = bundled_bin_dir()
        if source is None:
            return
        target = os.path.join(self.build_lib, 'bert_serving', 'server', 'bin')
        os.makedirs(target, exist_ok=True)
        for name in EXECUTABLES:
            path = os.path.join(source, name)
            if not os.path.isfile(path):
                raise SystemExit('%s=%s has no %s: build it with swift build -c release' % (BIN_DIR_ENV, source, name))
            shutil.copyfile(path, os.path.join(target, name))
            os.chmod(os.path.join(target, name), 0o755)


class BdistWheelPlatform(bdist_wheel):
    """Platform-tagged, Python-independent wheel when executables are bundled."""

    def finalize_options(self):
        super().finalize_options()
        if bundled_bin_dir() is not None:
            self.root_is_pure = False

    def get_tag(self):
        if bundled_bin_dir() is None:
            return super().get_tag()
        return 'py3', 'none', sysconfig.get_platform().replace('-', '_').replace('.', '_')


setup(cmdclass={'build_py': BuildPyWithExecutables, 'bdist_wheel': BdistWheelPlatform})
