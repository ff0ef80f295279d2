"""End-to-end checks of bert-serving-benchmark: ours (with our bert-serving-start) and, for the
same small plan, the original 1.10.0 from the rig; compares what they print and write.

Usage: python check_benchmark.py --bin BIN_DIR --rig RIG --port-base P
Prints one line per check and closes with "N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile

SPEED = re.compile(r'^avg speed: (\d+)\tmax speed: (\d+)\tmin speed: (\d+)$')
WORDS = 'alpha beta gamma\n  delta\talpha\u00a0epsilon beta\n'  # 5 distinct words (U+00A0 splits)

results = []


def check(name, ok, detail=''):
    results.append(ok)
    print('%s %s%s' % ('PASS' if ok else 'FAIL', name, '' if ok or not detail else ': ' + detail), flush=True)
    return ok


def run(cmd, cwd, timeout, env=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env)
        return p.returncode, p.stdout.decode('utf8', 'replace'), p.stderr.decode('utf8', 'replace')
    except subprocess.TimeoutExpired as e:
        return 'timeout', (e.stdout or b'').decode('utf8', 'replace'), (e.stderr or b'').decode('utf8', 'replace')


def port_free(port):
    """No listener on the port. SO_REUSEADDR as libzmq binds: connections the finished server
    left in TIME_WAIT must not count as a server still running."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def line_kinds(stdout):
    """The stdout after the argument table, as a list of kinds: vocabulary / config / speed."""
    lines = stdout.split('\n')
    body = lines[lines.index('') + 1:] if '' in lines else lines
    kinds = []
    for line in body:
        if line.startswith('vocabulary size: '):
            kinds.append('vocabulary')
        elif line == 'server config:':
            kinds.append('config')
        elif SPEED.match(line):
            kinds.append('speed')
    return kinds


def argument_table(stdout):
    lines = stdout.split('\n')
    end = lines.index('') if '' in lines else len(lines)
    return lines[1:end]  # without the usage line (argv[0] differs)


def expected_result(blocks):
    """The original's result file text for [(name, [(label, speed)])], written from its format."""
    text = ''
    for name, rows in blocks:
        text += '\n|`%s`\t|samples/s|\n|---|---|\n' % name
        for label, speed in rows:
            text += '|%s\t|%d|\n' % (label, speed)
        text += '\n%s = [%s]\nspeed = [%s]\n' % (name, ', '.join(l for l, _ in rows),
                                                 ', '.join(str(s) for _, s in rows))
    return text


def speeds(stdout):
    return [tuple(int(x) for x in SPEED.match(l).groups()) for l in stdout.split('\n') if SPEED.match(l)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--rig', required=True)
    ap.add_argument('--port-base', type=int, default=18200)
    a = ap.parse_args()
    ours = os.path.join(a.bin, 'bert-serving-benchmark')
    original = os.path.join(a.rig, 'py37', 'bin', 'bert-serving-benchmark')
    p = a.port_base
    plan = ['-test_client_batch_size', '1', '16', '-test_max_batch_size', '-test_max_seq_len',
            '-num_repeat', '3', '-max_seq_len', '5', '-client_vocab_file', 'words.txt']

    # 1. Ours: two client batch sizes, two concurrent clients, a pooling layer the 6-layer model lacks.
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, 'words.txt'), 'w', encoding='utf8') as fp:
            fp.write(WORDS)
        args = ['-model_dir', os.path.join(a.rig, 'minilm-hf'), '-port', str(p), '-port_out', str(p + 1),
                '-wait_till_ready', '5'] + plan + ['-test_num_client', '2', '-test_pooling_layer', '-1', '-7']
        rc, out, err = run([ours] + args, work, 600)
        check('ours: exit status 0', rc == 0, 'status %s; stderr tail: %s' % (rc, err[-2000:]))
        check('ours: usage line is argv', out.startswith('usage: %s %s\n' % (ours, ' '.join(args))), out[:300])
        table = argument_table(out)
        check('ours: argument table rows', '  test_pooling_layer = [-1, -7]' in table and
              '     test_num_client = [2]' in table and '          num_repeat = 3' in table, '\n'.join(table))
        check('ours: vocabulary size as len(set(split()))', 'vocabulary size: 5\n' in out)
        kinds = line_kinds(out)
        expected_kinds = ['vocabulary', 'config', 'speed', 'config', 'speed', 'config', 'config', 'speed',
                          'config', 'speed']
        check('ours: one server config per client, one speed line per run', kinds == expected_kinds, str(kinds))
        sp = speeds(out)
        check('ours: speeds are positive and min <= avg <= max',
              len(sp) == 4 and all(0 < lo <= avg <= hi for avg, hi, lo in sp), str(sp))
        check('ours: single-client runs have avg == max == min',
              len(sp) == 4 and all(sp[i][0] == sp[i][1] == sp[i][2] for i in (0, 1, 3)), str(sp))
        check('ours: skipped pooling layer -7 with a note',
              'skipping pooling_layer -7: the model has 6 layers' in err, err[-1500:])
        check('ours: config shows the run\'s pooling layer', '                 pooling_layer\t=\t[-1]' in out)
        path = os.path.join(work, 'benchmark-1.result')
        text = open(path, encoding='utf8').read() if os.path.exists(path) else None
        if len(sp) == 4:
            want = expected_result([('client_batch_size', [('1', sp[0][0]), ('16', sp[1][0])]),
                                    ('num_client', [('2', sp[2][0])]), ('pooling_layer', [('-1', sp[3][0])])])
        else:
            want = '<no speeds>'
        check('ours: benchmark-1.result in the original format', text == want, repr(text))
        check('ours: no server left on the ports', port_free(p) and port_free(p + 1))

        # Appending, like the original's mode 'a'.
        args2 = ['-model_dir', os.path.join(a.rig, 'minilm-hf'), '-port', str(p), '-port_out', str(p + 1),
                 '-test_client_batch_size', '2', '-test_max_batch_size', '-test_max_seq_len', '-test_num_client',
                 '-test_pooling_layer', '-num_repeat', '2', '-client_vocab_file', 'words.txt', '-fp16']
        rc, out2, err2 = run([ours] + args2, work, 300)
        sp2 = speeds(out2)
        check('ours: -num_repeat 2 runs (the original crashes) with a note', rc == 0 and len(sp2) == 1 and
              '-num_repeat 2' in err2, 'status %s %s' % (rc, err2[-1500:]))
        fp16 = os.path.join(work, 'benchmark-1-fp16.result')
        check('ours: -fp16 writes benchmark-1-fp16.result', os.path.exists(fp16) and len(sp2) == 1 and
              open(fp16, encoding='utf8').read() == expected_result([('client_batch_size', [('2', sp2[0][0])])]))

    # 2. The original on the same plan: same argument table, same kinds of lines, same result file shape.
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, 'words.txt'), 'w', encoding='utf8') as fp:
            fp.write(WORDS)
        common = ['-port', str(p + 2), '-port_out', str(p + 3)] + plan + ['-test_num_client', '-test_pooling_layer']
        rc_o, out_o, err_o = run([original, '-cpu', '-model_dir', os.path.join(a.rig, 'minilm-tf1'),
                                  '-wait_till_ready', '15'] + common, work, 300)
        check('original: exit status 0', rc_o == 0, 'status %s; stderr tail: %s' % (rc_o, err_o[-1500:]))
        result_o = open(os.path.join(work, 'benchmark-1.result'), encoding='utf8').read() \
            if os.path.exists(os.path.join(work, 'benchmark-1.result')) else None
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, 'words.txt'), 'w', encoding='utf8') as fp:
            fp.write(WORDS)
        rc, out, err = run([ours, '-cpu', '-model_dir', os.path.join(a.rig, 'minilm-tf1'),
                            '-wait_till_ready', '15'] + common, work, 300)
        check('ours (original plan): exit status 0', rc == 0, 'status %s; stderr tail: %s' % (rc, err[-1500:]))
        result = open(os.path.join(work, 'benchmark-1.result'), encoding='utf8').read() \
            if os.path.exists(os.path.join(work, 'benchmark-1.result')) else None
    check('same argument table as the original', argument_table(out) == argument_table(out_o),
          '\n'.join(set(argument_table(out)) ^ set(argument_table(out_o))))
    check('same stdout line kinds as the original', line_kinds(out) == line_kinds(out_o),
          '%s vs %s' % (line_kinds(out), line_kinds(out_o)))
    masked = lambda t: None if t is None else re.sub(r'\d+\|$', 'N|', re.sub(r'speed = \[.*\]', 'speed = [..]', t),
                                                     flags=re.M)
    check('same result file format as the original', result is not None and masked(result) == masked(result_o),
          '%r vs %r' % (result, result_o))

    # 3. A server that cannot start: a clear error, exit 1, not a hang.
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, 'words.txt'), 'w', encoding='utf8') as fp:
            fp.write(WORDS)
        rc, out, err = run([ours, '-model_dir', os.path.join(work, 'missing'), '-port', str(p + 4),
                            '-port_out', str(p + 5)] + plan, work, 120)
        check('server start failure: exit 1 with the reason', rc == 1 and 'exited with status' in err,
              'status %s; %s' % (rc, err[-800:]))
        rc, out, err = run([ours, '-model_dir', 'm', '-num_client', '2'], work, 60)
        check('usage error: exit 2 like argparse', rc == 2 and 'unrecognized arguments: -num_client 2' in err)

    passed = sum(results)
    failed = len(results) - passed
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
