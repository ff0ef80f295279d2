"""Helpers of the proxy suite: free ports, our backends and proxy as processes, /metrics parsing.

Env: BSS_BIN_DIR (bert-serving-start and bert-serving-proxy), BSS_RIG_DIR (rig; MiniLM HF
folder, stock clients), BSS_PROXY_PORT_BASE (first port tried, default 18600).
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

try:
    from urllib.request import urlopen
except ImportError:  # Python 2.7
    from urllib2 import urlopen

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RIG = os.environ.get('BSS_RIG_DIR') or os.path.expanduser('~/.cache/bert-serving-swift/rig')
BIN_DIR = os.environ.get('BSS_BIN_DIR') or os.path.join(REPO, '.build', 'release')
MODEL = os.path.join(RIG, 'minilm-hf')
PORT_BASE = int(os.environ.get('BSS_PROXY_PORT_BASE', '18600'))
_taken = set()


def fail_setup(msg):
    print('setup error: %s' % msg, flush=True)
    print('0 passed, 1 failed', flush=True)
    sys.exit(1)


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_ports(n):
    """n free loopback ports from PORT_BASE on (never the same one twice in a run)."""
    out = []
    p = PORT_BASE
    while len(out) < n:
        if p > PORT_BASE + 400:
            raise RuntimeError('no %d free ports from %d' % (n, PORT_BASE))
        if p not in _taken and port_free(p):
            out.append(p)
            _taken.add(p)
        p += 1
    return out


class Process:
    """A child process with its output in a temp file."""

    def __init__(self, name, cmd, env=None):
        self.name, self.cmd = name, cmd
        self.log = tempfile.NamedTemporaryFile(prefix='bss-proxy-%s-' % name, suffix='.log', delete=False)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def log_text(self):
        with open(self.log.name, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_for_line(self, text, timeout):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                fail_setup('%s exited with %s during startup:\n%s' % (self.name, self.proc.returncode, self.log_text()[-3000:]))
            if text in self.log_text():
                return time.time() - t0
            time.sleep(0.05)
        fail_setup('%s not ready after %d s:\n%s' % (self.name, timeout, self.log_text()[-3000:]))

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        self.kill()
        if os.environ.get('BSS_PROXY_KEEP_LOGS'):
            print('%s log kept: %s' % (self.name, self.log.name))
            return
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


def backend_env(threads=1):
    """Backends share 2 cores: one BLAS thread each, unless the caller set OPENBLAS_NUM_THREADS."""
    env = dict(os.environ)
    env.setdefault('OPENBLAS_NUM_THREADS', str(threads))
    return env


def start_backend(port, port_out, name='backend', threads=1):
    binary = os.path.join(BIN_DIR, 'bert-serving-start')
    if not os.access(binary, os.X_OK):
        fail_setup('no executable %s (set BSS_BIN_DIR)' % binary)
    if not os.path.isdir(MODEL):
        fail_setup('no model %s (run CompatTests/reference/setup.sh or set BSS_RIG_DIR)' % MODEL)
    return Process(name, [binary, '-model_dir', MODEL, '-num_worker', '1', '-cpu', '-port', str(port),
                          '-port_out', str(port_out), '-bind_host', '127.0.0.1'], env=backend_env(threads))


def start_proxy(port, port_out, http_port, backends, extra=()):
    binary = os.path.join(BIN_DIR, 'bert-serving-proxy')
    if not os.access(binary, os.X_OK):
        fail_setup('no executable %s (set BSS_BIN_DIR)' % binary)
    cmd = [binary, '-port', str(port), '-port_out', str(port_out), '-http_port', str(http_port), '-bind_host', '127.0.0.1']
    for (p, q) in backends:
        cmd += ['-backend', '127.0.0.1:%d:%d' % (p, q)]
    return Process('proxy', cmd + list(extra))


def metrics(http_port):
    """The proxy's /metrics as {(name, backend label or None): float}."""
    text = urlopen('http://127.0.0.1:%d/metrics' % http_port, timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = re.match(r'^([a-z_]+)(?:\{backend="([^"]*)"\})? (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def wait_backends_up(http_port, count, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if metrics(http_port).get(('bss_proxy_backends_up', None), 0) >= count:
                return time.time() - t0
        except Exception:
            pass
        time.sleep(0.05)
    return None


def proc_cpu_seconds(pid):
    """utime + stime of a process from /proc/PID/stat, in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = os.sysconf('SC_CLK_TCK')
    return (int(fields[11]) + int(fields[12])) / float(ticks)
