"""Acceptance test of bert-serving-proxy (issue 11), with stock clients only.

3 backends (our bert-serving-start, MiniLM) and the proxy on loopback; 16 stock BertClients
(8 on Python 3.11, 8 on Python 2.7) encode through the proxy while backend 1 is killed (SIGKILL)
and restarted. Checks:
  - every request is answered exactly once (client side: no error, no stray reply; wire side: a
    SUB on the proxy's -port_out sees each (identity, req_id) once) with vectors equal to a
    direct single-server encode of the same texts (max abs diff <= 1e-5);
  - the killed backend's share moves to the others within the health-check interval
    (/metrics: its up gauge and last-change time, its request counter stops, the others' grow);
  - it gets requests again after the restart; SHOW_CONFIG / SHOW_STATUS through the proxy.
Prints PASS/FAIL lines and closes with "N passed, N failed".
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HEALTH_INTERVAL = 1.0
PHASE_SECONDS = float(os.environ.get('BSS_PROXY_PHASE_SECONDS', '6'))
TOLERANCE = 1e-5
PY311 = os.path.join(common.RIG, 'py311', 'bin', 'python')
PY27 = os.path.join(common.RIG, 'py27', 'bin', 'python')

passed = 0
failed = 0


def check(name, ok, detail=''):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print('%s %s%s' % ('PASS' if ok else 'FAIL', name, (': ' + detail) if detail else ''), flush=True)


def make_corpus(n):
    words = ('the quick brown fox jumps over a lazy dog while bert encodes every sentence of '
             'this corpus into vectors that should match one server exactly no matter which '
             'backend of the proxy computed them').split()
    out = []
    for i in range(n):
        k = 3 + (i * 7) % 17
        out.append(' '.join(words[(i * 5 + j * 3) % len(words)] for j in range(k)) + ' #%d' % i)
    out[0] = 'First do it'
    out[1] = 'then do it right'
    out[2] = 'then do it better'
    out[3] = u'caf\u00e9 na\u00efve \u4e2d\u6587 \U0001F600 emoji'
    return out


class WireMonitor(threading.Thread):
    """A SUB on the proxy's -port_out subscribed to everything: counts replies per (identity, req_id)."""

    def __init__(self, port_out):
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b'')
        self.sub.setsockopt(zmq.RCVTIMEO, 200)
        self.sub.connect('tcp://127.0.0.1:%d' % port_out)
        self.counts = {}
        self.stopped = False

    def run(self):
        while not self.stopped:
            try:
                frames = self.sub.recv_multipart()
            except zmq.Again:
                continue
            key = (frames[0], int(frames[-1]))
            self.counts[key] = self.counts.get(key, 0) + 1

    def stop(self):
        self.stopped = True
        self.join(5)
        self.sub.close(0)
        self.ctx.term()


def main():
    for py in (PY311, PY27):
        if not os.access(py, os.X_OK):
            common.fail_setup('rig missing %s (CompatTests/reference/setup.sh)' % py)
    from bert_serving.client import BertClient
    ports = common.free_ports(9)
    backends = [(ports[0], ports[1]), (ports[2], ports[3]), (ports[4], ports[5])]
    proxy_port, proxy_port_out, http_port = ports[6], ports[7], ports[8]
    work = tempfile.mkdtemp(prefix='bss-proxy-')
    procs = []
    workers = []
    monitor = None
    try:
        servers = [common.start_backend(p, q, name='backend%d' % i) for i, (p, q) in enumerate(backends)]
        procs += servers
        for s in servers:
            s.wait_for_line('all set, ready to serve request!', 120)
        proxy = common.start_proxy(proxy_port, proxy_port_out, http_port, backends,
                                   extra=['-health_interval', str(HEALTH_INTERVAL), '-health_timeout', '2',
                                          '-request_timeout', '30'])
        procs.append(proxy)
        proxy.wait_for_line('all set, ready to serve request!', 30)
        check('proxy_sees_3_backends_up', common.wait_backends_up(http_port, 3, 20) is not None)
        labels = ['127.0.0.1:%d:%d' % b for b in backends]

        # Reference: the same texts encoded directly by one server.
        corpus = make_corpus(160)
        direct = BertClient(port=backends[0][0], port_out=backends[0][1], timeout=60000)
        reference = np.asarray(direct.encode(corpus), dtype=np.float32)
        direct.close()
        corpus_path, ref_path = os.path.join(work, 'corpus.json'), os.path.join(work, 'reference.npy')
        with open(corpus_path, 'w') as f:
            json.dump(corpus, f)
        np.save(ref_path, reference)

        # SHOW_CONFIG through the proxy: the constructor's check_version passes, ports are the proxy's.
        bc = BertClient(port=proxy_port, port_out=proxy_port_out, timeout=10000)
        config = bc.server_config
        check('show_config_like_one_server',
              config.get('server_version') == '1.10.0' and config.get('port') == proxy_port
              and config.get('port_out') == proxy_port_out and config.get('client') == bc.identity.decode()
              and 'statistic' not in config and config.get('max_seq_len') == 25,
              '%s' % {k: config.get(k) for k in ('server_version', 'port', 'port_out', 'client', 'max_seq_len')})
        one = np.asarray(bc.encode(corpus[:3]), dtype=np.float32)
        check('one_request_matches_direct_encode', float(np.max(np.abs(one - reference[:3]))) <= TOLERANCE)

        monitor = WireMonitor(proxy_port_out)
        monitor.start()
        time.sleep(0.5)  # the monitor's subscription reaches the proxy before the first reply

        stop_file = os.path.join(work, 'stop')
        for i in range(16):
            py = PY311 if i % 2 == 0 else PY27
            identity = 'proxy-worker-%02d-py%s' % (i, '311' if py == PY311 else '27')
            out = os.path.join(work, '%s.json' % identity)
            cmd = [py, os.path.join(common.HERE, 'client_worker.py'), str(proxy_port), str(proxy_port_out), identity,
                   str(1000 + i), corpus_path, ref_path, stop_file, out, '100000']
            workers.append((identity, out, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))

        def requests_total():
            m = common.metrics(http_port)
            return [m.get(('bss_proxy_backend_requests_total', l), 0) for l in labels]

        # Phase A: all three serve (clients start slowly on a busy machine: wait for traffic, bounded).
        time.sleep(PHASE_SECONDS)
        t_wait = time.time()
        before_kill = requests_total()
        while time.time() - t_wait < 60 and not (all(r > 0 for r in before_kill) and sum(before_kill) >= 16):
            time.sleep(0.5)
            before_kill = requests_total()
        check('all_backends_served_before_kill', all(r > 0 for r in before_kill), 'requests %s' % before_kill)

        # Kill backend 1 mid-run.
        servers[1].kill()
        t_kill = time.time()
        down_seen = None
        while time.time() - t_kill < 5:
            m = common.metrics(http_port)
            if m.get(('bss_proxy_backend_up', labels[1])) == 0:
                down_seen = time.time()
                break
            time.sleep(0.02)
        m = common.metrics(http_port)
        changed = m.get(('bss_proxy_backend_last_change_timestamp_seconds', labels[1]), 0)
        check('killed_backend_marked_down_within_health_interval',
              down_seen is not None and changed - t_kill <= HEALTH_INTERVAL,
              'down after %.3f s (proxy clock), seen by polling after %s s'
              % (changed - t_kill, None if down_seen is None else round(down_seen - t_kill, 3)))
        time.sleep(max(0.0, t_kill + HEALTH_INTERVAL - time.time()))
        at_interval = requests_total()
        time.sleep(PHASE_SECONDS)
        end_of_outage = requests_total()
        check('killed_backend_gets_no_requests_after_interval', end_of_outage[1] == at_interval[1],
              'backend1 requests %d at kill+%.0fs, %d %.0f s later' % (at_interval[1], HEALTH_INTERVAL, end_of_outage[1], PHASE_SECONDS))
        moved = [end_of_outage[i] - at_interval[i] for i in (0, 2)]
        check('its_share_moves_to_the_others', all(d > 0 for d in moved), 'requests during the outage %s' % moved)

        # Restart it on the same ports.
        t_restart = time.time()
        servers[1] = common.start_backend(backends[1][0], backends[1][1], name='backend1b')
        procs.append(servers[1])
        servers[1].wait_for_line('all set, ready to serve request!', 120)
        up_after = common.wait_backends_up(http_port, 3, 30)
        check('restarted_backend_back_up', up_after is not None,
              'up %.2f s after restart' % (time.time() - t_restart))
        after_restart = requests_total()
        time.sleep(PHASE_SECONDS)
        final = requests_total()
        check('restarted_backend_gets_requests_again', final[1] > after_restart[1],
              'backend1 requests %d -> %d' % (after_restart[1], final[1]))

        with open(stop_file, 'w') as f:
            f.write('stop')
        results = []
        for identity, out, p in workers:
            try:
                p.wait(180)
            except subprocess.TimeoutExpired:
                p.kill()
            text = p.stdout.read().decode('utf-8', 'replace')
            if p.returncode != 0 or not os.path.exists(out):
                check('worker_%s_finished' % identity, False, 'exit %s: %s' % (p.returncode, text[-800:]))
                continue
            with open(out) as f:
                results.append(json.load(f))
        check('all_16_workers_finished', len(results) == 16, '%d of 16' % len(results))
        time.sleep(0.5)
        monitor.stop()

        pythons = sorted(set('.'.join(r['python'].split('.')[:2]) for r in results))
        check('clients_on_py311_and_py27', pythons == ['2.7', '3.11'], 'pythons %s' % pythons)
        check('check_version_passed_for_all', all(r['config_ok'] for r in results))
        records = [(r['identity'], rec) for r in results for rec in r['records']]
        errors = [(i, rec) for i, rec in records if 'error' in rec]
        check('every_request_answered_without_error', not errors and len(records) > 0,
              '%d requests, %d errors %s' % (len(records), len(errors), errors[:3]))
        worst = max([rec['max_diff'] for _, rec in records if 'max_diff' in rec] or [float('inf')])
        check('vectors_equal_single_server', worst <= TOLERANCE, 'max abs diff %.2e over %d requests' % (worst, len(records)))
        stray = sum(len(r['stray_replies']) for r in results)
        check('no_stray_or_duplicate_reply_at_clients', stray == 0, '%d stray replies' % stray)
        dup = {k: v for k, v in monitor.counts.items() if v != 1}
        missing = [(i, rec['req_id']) for i, rec in records if monitor.counts.get((i.encode(), rec['req_id'])) != 1]
        check('each_reply_on_the_wire_exactly_once', not dup and not missing,
              '%d duplicated, %d not seen once (of %d)' % (len(dup), len(missing), len(records)))

        m = common.metrics(http_port)
        total = int(m.get(('bss_proxy_requests_total', None), -1))
        check('proxy_counted_every_request', total == len(records) + 1,  # + the single check request above
              'proxy %d, clients %d + 1' % (total, len(records)))
        check('no_error_replies_from_proxy', m.get(('bss_proxy_error_replies_total', None)) == 0)
        status = bc.server_status
        backends_status = status.get('proxy_backends') or []
        check('show_status_aggregates',
              status['statistic']['num_data_request'] == len(records) + 1 and len(backends_status) == 3
              and all(b['healthy'] for b in backends_status)
              and sum(b['replies'] for b in backends_status) == len(records) + 1,
              'num_data_request %s, backends %s' % (status['statistic'].get('num_data_request'),
                                                     [(b['backend'], b['requests'], b['replies'], b['requests_lost']) for b in backends_status]))
        bc.close()
        per_phase = 'before kill %s, at kill+1s %s, end of outage %s, after restart %s, final %s' % (
            before_kill, at_interval, end_of_outage, after_restart, final)
        print('requests per backend: %s; retries %d, late replies dropped %d, sentences %d' % (
            per_phase, m.get(('bss_proxy_retries_total', None), 0), m.get(('bss_proxy_late_replies_dropped_total', None), 0),
            sum(rec['n'] for _, rec in records)), flush=True)
        rc = proxy.terminate(30)
        check('proxy_exits_0_on_sigterm', rc == 0, 'exit %s' % rc)
    finally:
        for _, _, p in workers:
            if p.poll() is None:
                p.kill()
        if monitor is not None and not monitor.stopped:
            monitor.stopped = True
        for p in procs:
            p.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print('%d passed, %d failed' % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
