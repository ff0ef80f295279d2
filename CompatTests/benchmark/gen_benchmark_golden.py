"""Golden for BenchmarkRunnerTests: what the ORIGINAL bert-serving-benchmark 1.10.0 does for a
few command lines, with the server and the clients replaced by fakes (no model, no sockets).

For each command line, records the runs in order (experiment, value, and the settings the
server/clients got), the stdout speed lines and the result file text, given deterministic fake
client speeds. Also what each benchmark client prints on connecting (`show_server_config=True`:
`BertClient._print_dict`) for the original's SHOW_CONFIG replies in
CompatTests/reference/wire_golden.json and one synthetic reply with awkward values.
Run with the rig's Python 3.7:

    $RIG/py37/bin/python CompatTests/benchmark/gen_benchmark_golden.py \
        > Tests/BenchmarkRunnerTests/Resources/benchmark_golden.json
"""
import contextlib
import io
import json
import os
import sys
import tempfile

import bert_serving.server as server_pkg
from bert_serving.server import benchmark, helper

CASES = [
    ['-model_dir', 'm', '-test_max_batch_size', '-test_max_seq_len', '-test_num_client', '-test_pooling_layer',
     '-test_client_batch_size', '1', '16', '256'],
    ['-model_dir', 'm', '-test_client_batch_size', '-test_max_batch_size', '8', '32',
     '-test_max_seq_len', '32', '-test_num_client', '1', '3', '-test_pooling_layer', '-num_repeat', '5'],
    ['-model_dir', 'm', '-test_client_batch_size', '-test_max_batch_size', '-test_max_seq_len',
     '-test_num_client', '-fp16', '-num_worker', '3'],
    ['-model_dir', 'm', '-max_seq_len', '40'],
]


def main():
    out = []
    for argv in CASES:
        runs = []

        class FakeServer:
            def __init__(self, cargs):
                self.cargs = cargs

            def start(self):
                pass

            def close(self):
                pass

        class FakeClient:
            count = 0

            def __init__(self, cargs, vocab):
                self.cargs = cargs
                self.index = FakeClient.count
                FakeClient.count += 1
                self.avg_time = 0

            def start(self):
                c = self.cargs
                speed = 100.5 + 37 * len(runs) + 3.25 * self.index
                self.speed = speed
                self.avg_time = c.client_batch_size / speed

            def join(self):
                pass

        real_init = FakeClient.__init__

        def server_factory(cargs):
            FakeClient.count = 0
            runs.append({
                'client_batch_size': cargs.client_batch_size, 'num_client': cargs.num_client,
                'max_seq_len': cargs.max_seq_len, 'max_batch_size': cargs.max_batch_size,
                'pooling_layer': cargs.pooling_layer,
            })
            return FakeServer(cargs)

        with tempfile.TemporaryDirectory() as tmp:
            vocab = os.path.join(tmp, 'vocab.txt')
            with open(vocab, 'w', encoding='utf8') as fp:
                fp.write('alpha beta\ngamma alpha\n')
            old_cwd = os.getcwd()
            os.chdir(tmp)
            sys.argv = ['bert-serving-benchmark'] + argv + ['-client_vocab_file', vocab]
            args = helper.get_run_args(helper.get_benchmark_parser, printed=False)
            server_pkg.BertServer = server_factory
            benchmark.BenchmarkClient = FakeClient
            benchmark.time.sleep = lambda s: None
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                benchmark.run_benchmark(args)
            names = sorted(f for f in os.listdir(tmp) if f.endswith('.result'))
            result = {n: open(n, encoding='utf8').read() for n in names}
            os.chdir(old_cwd)
        out.append({'argv': argv, 'runs': runs, 'stdout': stdout.getvalue(), 'result_files': result})
    import bert_serving.server as s
    print(json.dumps({'python': sys.version.split()[0], 'bert_serving_server': s.__version__,
                      'cases': out, 'server_config': server_config_cases()}, indent=1))


def server_config_cases():
    from bert_serving.client import BertClient
    from zmq.utils import jsonapi
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '..', 'reference', 'wire_golden.json'), encoding='utf8') as fp:
        wire = json.load(fp)
    replies = []
    for scenario in wire['scenarios']:
        for request in scenario['requests']:
            if request.get('payload') is None and len(request['reply']) == 3:
                replies.append(request['reply'][1]['text'])
                break
    replies.append(json.dumps({'a key': "it's \"q\"", 'unicode': '\u00e9\u4e2d', 'f': 1e-05, 'g': 0.1,
                               'big': 12345678901234567890, 'neg': -3, 'nested': {'x': [1.5, None, True, "s"]},
                               'newline': 'a\nb', 'empty': [], 'long': 'x' * 40}))
    cases = []
    for reply in replies:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            BertClient._print_dict(jsonapi.loads(reply.encode('utf8')), 'server config:')
        cases.append({'reply': reply, 'printed': buf.getvalue()})
    return cases


if __name__ == '__main__':
    main()
