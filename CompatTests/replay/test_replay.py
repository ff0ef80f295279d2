#!/usr/bin/env python3
# Seeded-corruption tests of the replay suite itself: the comparator on real captured frames,
# and the whole runner against fake_server.py replaying the captured replies faithfully (must
# pass) or with one reply altered (must fail). No model, no TensorFlow: a few seconds each.
#
#   $RIG/py311/bin/python -m unittest -v test_replay      (from CompatTests/replay)
import json
import os
import subprocess
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'capture'))
sys.path.insert(0, HERE)
import bss_capture  # noqa: E402
import compare  # noqa: E402

CAPTURES = os.path.join(HERE, '..', 'capture', 'captures')


def load(name):
    return bss_capture.read_capture(os.path.join(CAPTURES, name + '.msgpack'))


def replies(cap, n_frames, needle=b''):
    return [[bytes(f) for f in ev['frames']] for ev in cap['events']
            if ev['dir'] == 's2c' and len(ev['frames']) == n_frames and needle in ev['frames'][1]]


class ComparatorTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cap = load('default')
        cls.encode = replies(cap, 4)[0]
        cls.config = replies(cap, 3, b'"max_seq_len"')[0]
        cls.status = replies(cap, 3, b'"statistic"')[-1]

    def test_identical_replies_match(self):
        for r in (self.encode, self.config, self.status):
            self.assertEqual(compare.compare_reply(r, list(r)), [])

    def test_flipped_float_fails(self):
        bad = list(self.encode)
        v = np.frombuffer(bad[2], dtype=np.float32).copy()
        v[5] = -v[5] + 0.5
        bad[2] = v.tobytes()
        d = compare.compare_reply(self.encode, bad)
        self.assertEqual(len(d), 1)
        self.assertIn('flat index 5', d[0])

    def test_float_within_tolerance_passes_and_just_outside_fails(self):
        v = np.frombuffer(self.encode[2], dtype=np.float32).astype(np.float64)
        near = list(self.encode)
        near[2] = (v + 0.5e-4).astype(np.float32).tobytes()
        self.assertEqual(compare.compare_reply(self.encode, near), [])
        far = list(self.encode)
        far[2] = (v + 3e-4).astype(np.float32).tobytes()
        self.assertNotEqual(compare.compare_reply(self.encode, far), [])

    def test_fp16_rows_by_cosine_and_abs_bound(self):
        cap = load('cls_fp16')
        enc = replies(cap, 4)[0]
        v = np.frombuffer(enc[2], dtype=np.float16).astype(np.float64)
        width = json.loads(enc[1])['shape'][-1]
        # bfloat16-sized noise (beyond float16 rounding, within the bound) passes ...
        near = list(enc)
        near[2] = (v + 0.02 * np.sign(np.sin(np.arange(v.size)))).astype(np.float16).tobytes()
        self.assertEqual(compare.compare_reply(enc, near), [])
        # ... one value off by more than the bound fails, as does a row pointing elsewhere.
        far = list(enc)
        w = v.copy(); w[7] += 0.5
        far[2] = w.astype(np.float16).tobytes()
        self.assertTrue(any('more than' in d for d in compare.compare_reply(enc, far)))
        turned = list(enc)
        w = v.copy(); w[:width] = np.roll(w[:width], 1)
        turned[2] = w.astype(np.float16).tobytes()
        self.assertTrue(any('cosine' in d for d in compare.compare_reply(enc, turned)))

    def test_truncated_payload_fails(self):
        bad = list(self.encode)
        bad[2] = bad[2][:-4]
        self.assertNotEqual(compare.compare_reply(self.encode, bad), [])

    def test_header_byte_difference_fails(self):
        bad = list(self.encode)
        bad[1] = bad[1].replace(b'", "', b'","', 1)  # same JSON, other bytes
        self.assertEqual(json.loads(bad[1]), json.loads(self.encode[1]))
        self.assertNotEqual(compare.compare_reply(self.encode, bad), [])

    def test_missing_json_key_fails(self):
        for r in (self.config, self.status):
            body = json.loads(r[1])
            del body['max_batch_size']
            bad = [r[0], json.dumps(body).encode(), r[2]]
            d = compare.compare_reply(r, bad)
            self.assertTrue(any("missing key 'max_batch_size'" in x for x in d), d)

    def test_missing_volatile_key_still_fails(self):
        body = json.loads(self.config[1])
        del body['server_current_time']
        d = compare.compare_reply(self.config, [self.config[0], json.dumps(body).encode(), self.config[2]])
        self.assertNotEqual(d, [])

    def test_changed_field_fails_unless_volatile(self):
        body = json.loads(self.status[1])
        body['server_current_time'] = '1999-01-01 00:00:00.000000'
        body['ventilator -> worker'] = ['inproc://somewhere-else']
        body['statistic']['avg_last_two_interval'] = 123.0
        same = [self.status[0], json.dumps(body).encode(), self.status[2]]
        self.assertEqual(compare.compare_reply(self.status, same), [])
        body['statistic']['num_total_seq'] += 1
        body['pooling_layer'] = [-1]
        bad = [self.status[0], json.dumps(body).encode(), self.status[2]]
        d = compare.compare_reply(self.status, bad)
        self.assertEqual(len(d), 2, d)

    def test_type_change_fails(self):
        body = json.loads(self.config[1])
        body['max_seq_len'] = float(body['max_seq_len'])
        d = compare.compare_reply(self.config, [self.config[0], json.dumps(body).encode(), self.config[2]])
        self.assertNotEqual(d, [])

    def test_wrong_req_id_and_identity_fail(self):
        bad = list(self.encode)
        bad[-1] = b'99'
        self.assertTrue(any(x.startswith('req_id') for x in compare.compare_reply(self.encode, bad)))
        bad = list(self.config)
        bad[0] = b'someone-else'
        self.assertTrue(any(x.startswith('identity') for x in compare.compare_reply(self.config, bad)))

    def test_frame_count_fails(self):
        self.assertNotEqual(compare.compare_reply(self.encode, self.encode[:3]), [])
        self.assertNotEqual(compare.compare_reply(self.config, self.config + [b'']), [])

    def test_error_reply_check(self):
        good = [b'id', b'{"dtype": "ERROR: bad JSON", "shape": [], "tokens": ""}', b'', b'7']
        self.assertEqual(compare.check_error_reply(b'id', b'7', good), [])
        self.assertNotEqual(compare.check_error_reply(b'id', b'7', self.encode), [])
        self.assertNotEqual(compare.check_error_reply(b'id', b'8', good), [])

    def test_answer_check(self):
        self.assertEqual(compare.check_answer(self.config[0], self.config[2], self.config), [])
        self.assertNotEqual(compare.check_answer(self.config[0], self.config[2], self.encode), [])


class ArgvTests(unittest.TestCase):
    def test_ports_and_model_dir_are_swapped_in_both_spellings(self):
        import replay
        argv = ['-cpu', '-model_dir', '/old', '-port', '1', '-port_out=2', '-pooling_layer', '-1', '-2',
                '-http_port', '3', '-max_seq_len', 'NONE']
        self.assertEqual(replay.swap_argv(argv, 10, 20, '/new', 30),
                         ['-cpu', '-model_dir', '/new', '-port', '10', '-port_out=20', '-pooling_layer', '-1', '-2',
                          '-http_port', '30', '-max_seq_len', 'NONE'])

    def test_every_committed_capture_starts_a_cpu_server_on_its_ports(self):
        for f in sorted(os.listdir(CAPTURES)):
            if f.endswith('.msgpack'):
                srv = bss_capture.read_capture(os.path.join(CAPTURES, f))['server']
                self.assertIn('-cpu', srv['argv'], f)
                self.assertEqual(srv['argv'][srv['argv'].index('-port') + 1], str(srv['port']), f)
                self.assertEqual(srv['argv'][srv['argv'].index('-port_out') + 1], str(srv['port_out']), f)


def run_replay(capture, mode, timeout=4, original=True):
    env = dict(os.environ, BSS_FAKE_CAPTURE=os.path.join(CAPTURES, capture + '.msgpack'),
               BSS_FAKE_CORRUPT=mode)
    cmd = [sys.executable, os.path.join(HERE, 'replay.py'), os.path.join(CAPTURES, capture + '.msgpack'),
           '--original' if original else '--bin-dir=/nonexistent', '--program', '%s %s' % (sys.executable, os.path.join(HERE, 'fake_server.py')), '--timeout', str(timeout),
           '--known', '', '--start-timeout', '30']
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    return p.returncode, p.stdout.decode('utf-8', 'replace')


class RunnerTests(unittest.TestCase):
    """The runner end to end, against a fake server built from the capture."""

    def test_faithful_server_passes_default(self):
        rc, out = run_replay('default', 'none')
        self.assertEqual(rc, 0, out)
        self.assertIn('1 passed, 0 failed', out)

    def assert_fails(self, mode, needle):
        rc, out = run_replay('reduce_max_split', mode)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('0 passed, 1 failed', out)
        self.assertIn(needle, out)

    def test_flipped_float_fails(self):
        self.assert_fails('flip_float', 'payload:')

    def test_missing_json_key_fails(self):
        self.assert_fails('drop_json_key', "missing key 'max_seq_len'")

    def test_wrong_req_id_fails(self):
        self.assert_fails('wrong_req_id', 'unexpected reply')

    def test_extra_frame_fails(self):
        self.assert_fails('extra_frame', 'frame count')

    def test_missing_reply_fails(self):
        self.assert_fails('drop_reply', 'no reply within')

    def test_tokens_in_header_fail(self):
        self.assert_fails('tokens', 'encode header')

    def test_wedge_probe_needs_an_error_reply_from_ours(self):
        rc, out = run_replay('probe_bad_json', 'reply_all', original=False)
        self.assertEqual(rc, 0, out)
        rc, out = run_replay('probe_bad_json', 'none', original=False)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('no reply within', out)

    def test_wedge_probe_reply_fails_against_the_original(self):
        rc, out = run_replay('probe_bad_json', 'reply_all', original=True)
        self.assertNotEqual(rc, 0, out)
        self.assertIn('the original never answered this', out)

    def test_reply_to_a_dropped_request_fails(self):
        rc, out = run_replay('probe_wrong_frame_count', 'none')
        self.assertEqual(rc, 0, out)
        rc, out = run_replay('probe_wrong_frame_count', 'reply_all')
        self.assertNotEqual(rc, 0, out)
        self.assertIn('unexpected reply', out)


if __name__ == '__main__':
    unittest.main()
