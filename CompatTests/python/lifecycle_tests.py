"""BertServer's process handling, driven with stand-in executables (no model, no server needed).

    python lifecycle_tests.py FAKE_BIN_DIR

FAKE_BIN_DIR holds shell scripts named like the Swift executables (written by run_all.sh):
`bert-serving-start` records its arguments and pid, prints the server's ready line to stderr and
sleeps; `bert-serving-start` in FAKE_BIN_DIR/early-exit exits 3 at once. These tests check what
the Python layer adds: finding the executable, the rebuilt command line, readiness, log relay,
shutdown escalation, and that the child never outlives its parent. Prints "ok"/"FAIL" lines and
"N passed, N failed".
"""
import os
import subprocess
import sys
import tempfile
import time
import traceback

FAKE = os.path.abspath(sys.argv[1])
RESULTS = []


def test(fn):
    RESULTS.append(fn)
    return fn


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); count it as gone.
    try:
        with open('/proc/%d/stat' % pid) as fp:
            return fp.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


def wait_gone(pid, seconds=5.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def read_record(record):
    deadline = time.time() + 5
    while time.time() < deadline:
        if os.path.exists(record) and os.path.getsize(record) > 0:
            with open(record) as fp:
                lines = fp.read().splitlines()
            if len(lines) >= 2:
                return int(lines[0]), lines[1:]
        time.sleep(0.05)
    raise AssertionError('stand-in server never wrote %s' % record)


def parse(argv):
    from bert_serving.server.helper import get_args_parser
    return get_args_parser().parse_args(argv)


@test
def missing_binary_names_the_env_variable():
    from bert_serving.server import BertServer
    os.environ['BERT_SERVING_SWIFT_BIN'] = '/nonexistent/bin'
    try:
        BertServer(parse(['-model_dir', '/m']))
    except FileNotFoundError as error:
        assert 'BERT_SERVING_SWIFT_BIN=/nonexistent/bin' in str(error), str(error)
        assert "'bert-serving-start'" in str(error), str(error)
    else:
        raise AssertionError('no FileNotFoundError')
    finally:
        os.environ['BERT_SERVING_SWIFT_BIN'] = FAKE


@test
def ready_line_sets_is_ready_and_argv_is_rebuilt():
    from bert_serving.server import BertServer
    from bert_serving.server.helper import namespace_to_argv
    record = tempfile.mktemp()
    os.environ['FAKE_RECORD'] = record
    args = parse(['-model_dir', '/m', '-port', '17931', '-pooling_layer', '-4', '-1', '-cpu', '-max_seq_len', 'NONE'])
    server = BertServer(args)
    assert server.argv[1:] == namespace_to_argv(args), server.argv
    server.start()
    assert server.is_ready.wait(10), 'is_ready not set after the ready line'
    pid, argv = read_record(record)
    assert argv == ['-model_dir=/m', '-max_seq_len=NONE', '-pooling_layer', '-4', '-1', '-port=17931', '-cpu'], argv
    # Nobody answers TERMINATION here, so close() must fall back to SIGTERM after its grace time.
    server.close(grace=1.0)
    assert not server.is_alive()
    assert not server.is_ready.is_set()
    assert wait_gone(pid), 'child %d still running after close()' % pid


@test
def context_manager_raises_when_the_server_dies_before_ready():
    from bert_serving.server import BertServer
    os.environ['BERT_SERVING_SWIFT_BIN'] = os.path.join(FAKE, 'early-exit')
    try:
        server = BertServer(parse(['-model_dir', '/m']))
        try:
            with server:
                raise AssertionError('entered the with block of a dead server')
        except RuntimeError as error:
            assert 'exited with code 3' in str(error), str(error)
    finally:
        os.environ['BERT_SERVING_SWIFT_BIN'] = FAKE


@test
def child_dies_with_its_parent_process():
    record = tempfile.mktemp()
    env = dict(os.environ, FAKE_RECORD=record)
    script = ('import sys; from bert_serving.server import BertServer; '
              'from bert_serving.server.helper import get_args_parser; '
              's = BertServer(get_args_parser().parse_args(["-model_dir", "/m"])); s.start(); '
              's.is_ready.wait(10); print("ready", flush=True); s.join()')
    parent = subprocess.Popen([sys.executable, '-c', script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    assert parent.stdout.readline().strip() == b'ready'
    pid, _ = read_record(record)
    assert alive(pid)
    parent.kill()  # SIGKILL: no atexit, no finally; only PR_SET_PDEATHSIG can stop the child
    parent.wait()
    assert wait_gone(pid), 'child %d outlived its SIGKILLed parent' % pid


@test
def child_stops_when_the_interpreter_exits():
    record = tempfile.mktemp()
    env = dict(os.environ, FAKE_RECORD=record)
    # A daemon thread is not joined at exit, so only the atexit hook stops this child.
    script = ('from bert_serving.server import BertServer; '
              'from bert_serving.server.helper import get_args_parser; '
              's = BertServer(get_args_parser().parse_args(["-model_dir", "/m"])); s.daemon = True; s.start(); '
              's.is_ready.wait(10); print("ready", flush=True)')
    out = subprocess.run([sys.executable, '-c', script], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30)
    assert out.stdout.strip() == b'ready', out
    pid, _ = read_record(record)
    assert wait_gone(pid), 'child %d outlived the interpreter' % pid


@test
def child_log_is_relayed_to_stderr():
    record = tempfile.mktemp()
    env = dict(os.environ, FAKE_RECORD=record)
    script = ('from bert_serving.server import BertServer; '
              'from bert_serving.server.helper import get_args_parser; '
              's = BertServer(get_args_parser().parse_args(["-model_dir", "/m"])); s.start(); '
              's.is_ready.wait(10); s.close(grace=0.5)')
    out = subprocess.run([sys.executable, '-c', script], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30)
    assert b'I:VENTILATOR:[__i:_ru:164]:all set, ready to serve request!\n' in out.stderr, out.stderr
    assert b'shutting down...' in out.stderr, out.stderr


@test
def console_scripts_exec_the_executables():
    bindir = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items() if k != 'FAKE_RECORD'}
    for name in ('bert-serving-start', 'bert-serving-terminate', 'bert-serving-benchmark'):
        out = subprocess.run([os.path.join(bindir, name), '-port', '1', 'x y'], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=30)
        assert out.returncode == 7, (name, out)
        assert out.stdout == ('stand-in %s|-port|1|x y|\n' % name).encode(), (name, out.stdout)


@test
def console_script_without_executable_exits_127():
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, BERT_SERVING_SWIFT_BIN='/nonexistent/bin')
    out = subprocess.run([os.path.join(bindir, 'bert-serving-start'), '-h'], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert out.returncode == 127, out
    assert b'BERT_SERVING_SWIFT_BIN=/nonexistent/bin' in out.stderr, out.stderr


def main():
    os.environ['BERT_SERVING_SWIFT_BIN'] = FAKE
    passed = failed = 0
    for fn in RESULTS:
        try:
            fn()
        except Exception:
            failed += 1
            print('FAIL %s\n%s' % (fn.__name__, traceback.format_exc()))
        else:
            passed += 1
            print('ok   %s' % fn.__name__)
    print('%d passed, %d failed' % (passed, failed))
    return failed


if __name__ == '__main__':
    sys.exit(1 if main() else 0)
