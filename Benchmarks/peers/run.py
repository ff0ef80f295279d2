"""Our server and engine against their peers, in ONE run, on the same sentences.

For all-MiniLM-L6-v2 and the BERT-base-sized random model, at client batch 1, 32, 256 with
max_seq_len 25 and batch 32, 256 with max_seq_len 128, it measures
  * server  our bert-serving-start end to end through the stock bert-serving-client 1.10.0
            (-pooling_layer -1, REDUCE_MEAN, 1 worker), via e2e_bench.RunningServer;
  * engine  our BertEncoder alone (Benchmarks/engine engine-benchmark --ids), same ids;
  * ort     onnxruntime in-process, the graph of bert_onnx.py, ORT_ENABLE_ALL, 2 intra-op threads;
  * ort+fus the same after onnxruntime.transformers.optimizer's BERT fusions;
  * torch   PyTorch bf16 autocast in-process, when torch imports (Benchmarks/setup.sh BENCH_TORCH=1);
  * bound   the OpenBLAS sgemm bound measured by engine-benchmark in the same process as the
            engine: the model's dense products alone at their real shapes, as sentences/s, on
            the tokens actually present ("bound") and with every row padded to max_seq_len
            ("bound-pad").
Every call gets distinct sentences; repeats are interleaved (engine after engine) so all see the
same machine load, and the table shows medians. Before measuring, the peers' vectors are checked
against the server's (max abs difference, stock client, the first 64 sentences).

usage (after Benchmarks/setup.sh and a release build):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ~/.cache/bert-serving-swift/bench/venv/bin/python \\
      Benchmarks/peers/run.py --bin-dir .build/release --engine-bin Benchmarks/engine/.build/release/engine-benchmark
Writes Benchmarks/results/peers-<time>.{csv,png,txt} (gitignored).
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import bert_onnx  # noqa: E402
import e2e_bench  # noqa: E402
from inprocess import OrtPeer, TorchBf16Peer, torch_available  # noqa: E402
from workload import WordPiece, pad_batch, sentences_for  # noqa: E402

RIG = e2e_bench.RIG
BENCH_DIR = os.environ.get('BENCH_DIR', os.path.expanduser('~/.cache/bert-serving-swift/bench'))
MODELS = {'minilm': 'all-MiniLM-L6-v2', 'base': 'BERT-base random'}
# Sentences per workload (model, seq, batch): a few seconds per engine per repeat on 2 cores.
SENTENCES = {
    ('minilm', 25, 1): 256, ('minilm', 25, 32): 1024, ('minilm', 25, 256): 2048,
    ('minilm', 128, 32): 256, ('minilm', 128, 256): 512,
    ('base', 25, 1): 64, ('base', 25, 32): 256, ('base', 25, 256): 512,
    ('base', 128, 32): 64, ('base', 128, 256): 256,
}
ENGINES = ['server', 'engine', 'ort', 'ort+fus', 'torch-bf16', 'bound', 'bound-pad']


def log(*a):
    print('[peers]', *a, file=sys.stderr, flush=True)


def onnx_models(model):
    """Plain and fused ONNX files (cached in BENCH_DIR/onnx) and the fused-operator counts."""
    hf = e2e_bench.model_dir(model, 'hf')
    out = os.path.join(BENCH_DIR, 'onnx')
    os.makedirs(out, exist_ok=True)
    plain, fused, counts_path = (os.path.join(out, model + s) for s in ('.onnx', '-fused.onnx', '-fused.json'))
    src = os.path.getmtime(os.path.join(hf, 'model.safetensors'))
    stale = max(os.path.getmtime(os.path.join(HERE, 'bert_onnx.py')), src)
    if not os.path.exists(plain) or os.path.getmtime(plain) < stale:
        log('exporting', model, 'to ONNX')
        bert_onnx.export(hf, plain)
    if not os.path.exists(counts_path) or os.path.getmtime(counts_path) < os.path.getmtime(plain):
        log('fusing', model, 'with onnxruntime.transformers.optimizer')
        with open(os.path.join(hf, 'config.json')) as f:
            cfg = json.load(f)
        counts = bert_onnx.optimize(plain, fused, cfg)
        with open(counts_path, 'w') as f:
            json.dump(counts, f)
    with open(counts_path) as f:
        return plain, fused, json.load(f)


def weights_mb(model, fmt):
    d = e2e_bench.model_dir(model, fmt)
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
               if f == 'model.safetensors' or f.startswith('bert_model.ckpt.data')) / 2**20


def run_engine(engine_bin, model, fmt, ids_path, batch, seq):
    cmd = [engine_bin, e2e_bench.model_dir(model, fmt), '--ids', ids_path, '--batch', str(batch), '--seq', str(seq),
           '--threads', '2', '--layer', '-1', '--rounds', '1', '--json']
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rec = json.loads(next(line[5:] for line in out.splitlines() if line.startswith('JSON ')))
    return rec


def kernel_line(log_path):
    with open(log_path, errors='replace') as f:
        for line in f:
            if 'OpenBLAS kernel' in line:
                return line.split('OpenBLAS kernel', 1)[1].strip()
    return '?'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', default='minilm,base')
    ap.add_argument('--configs', default='1x25,32x25,256x25,32x128,256x128', help='BATCHxSEQ,...')
    ap.add_argument('--model-configs', default='', help="per-model override, e.g. 'base=1x25,256x25'")
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--scale', type=float, default=1.0, help='multiplies the sentences per workload')
    ap.add_argument('--bin-dir', default=os.environ.get('BSS_BIN_DIR', os.path.join(ROOT, '.build/release')))
    ap.add_argument('--engine-bin', default=os.path.join(ROOT, 'Benchmarks/engine/.build/release/engine-benchmark'))
    ap.add_argument('--model-format', default='tf1', choices=['tf1', 'hf'], help='the folder our server and engine load')
    ap.add_argument('--torch', default='auto', choices=['auto', 'on', 'off'])
    ap.add_argument('--skip', default='', help='engines to leave out, e.g. engine,torch-bf16')
    ap.add_argument('--out', default=os.path.join(ROOT, 'Benchmarks/results'))
    args = ap.parse_args()
    os.environ['BSS_BIN_DIR'] = os.path.abspath(args.bin_dir)
    skip = set(filter(None, args.skip.split(',')))
    if args.torch == 'off' or (args.torch == 'auto' and not torch_available()):
        skip.add('torch-bf16')
    if not os.path.exists(args.engine_bin):
        log('no engine-benchmark at %s: engine and bound columns left out' % args.engine_bin)
        skip |= {'engine', 'bound', 'bound-pad'}
    def parse_configs(text):
        return [tuple(int(x) for x in c.split('x')) for c in text.split(',')]
    model_configs = {}
    for item in filter(None, args.model_configs.split(';')):
        name, text = item.split('=', 1)
        model_configs[name] = parse_configs(text)
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    os.makedirs(args.out, exist_ok=True)
    meta = {
        'date': stamp, 'host': platform.node(), 'cpu': cpu_name(), 'cores': os.cpu_count(),
        'OPENBLAS_CORETYPE': os.environ.get('OPENBLAS_CORETYPE', '-'),
        'OPENBLAS_L2_SIZE': os.environ.get('OPENBLAS_L2_SIZE', '-'),
        'load_before': os.getloadavg()[0], 'repeats': args.repeats,
    }
    import onnxruntime
    meta['onnxruntime'] = onnxruntime.__version__
    log('environment', meta)
    tok = WordPiece()
    raw, info = [], {}
    for model in args.models.split(','):
        configs = model_configs.get(model) or parse_configs(args.configs)
        plain, fused, counts = onnx_models(model)
        fusion = {k: counts.get(k, 0) for k in ('EmbedLayerNormalization', 'Attention', 'SkipLayerNormalization',
                                                  'BiasGelu', 'Gelu', 'FastGelu', 'MatMul')}
        info[(model, 'fusions')] = fusion
        log(model, 'fused operators:', fusion)
        peers = {}
        if 'ort' not in skip:
            peers['ort'] = OrtPeer(plain)
        if 'ort+fus' not in skip:
            peers['ort+fus'] = OrtPeer(fused)
        if 'torch-bf16' not in skip:
            peers['torch-bf16'] = TorchBf16Peer(e2e_bench.model_dir(model, 'hf'))
            meta['torch'] = peers['torch-bf16'].version
        for seq in sorted({s for _, s in configs}):
            batches = [b for b, s in configs if s == seq]
            n_max = max(max(b, int(SENTENCES.get((model, seq, b), 256) * args.scale)) for b in batches)
            sentences, words = sentences_for(seq, n_max)
            rows = [tok.encode(s, seq) for s in sentences]
            ids_file = tempfile.NamedTemporaryFile('w', suffix='.ids', delete=False)
            ids_file.write('\n'.join(' '.join(map(str, r)) for r in rows) + '\n')
            ids_file.close()
            srv_args = argparse.Namespace(seq=seq, num_worker=1, batch=max(batches), startup_timeout=180,
                                          model_format=args.model_format)
            log_path = os.path.join(args.out, 'peers-%s-%s-s%d-server.log' % (stamp, model, seq))
            server = None
            try:
                if 'server' not in skip:
                    server = e2e_bench.RunningServer('ours', model, srv_args, log_path)
                    info[(model, seq, 'kernel')] = kernel_line(log_path)
                    info[(model, seq, 'startup_s')] = server.startup_encode_s
                    log(model, 'seq', seq, 'server up in %.2f s,' % server.startup_encode_s, 'kernel',
                        info[(model, seq, 'kernel')])
                    # the peers compute what the server computes
                    ref = server.encode(sentences[:64])
                    for name, peer in peers.items():
                        got = np.concatenate([call_pooled(peer, pad_batch(rows[i:i + 16]))
                                              for i in range(0, 64, 16)])
                        diff = float(np.abs(got - ref).max())
                        cos = float(np.min(np.sum(got * ref, 1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref, axis=1)))
                        info[(model, seq, name, 'maxdiff')] = diff
                        info[(model, seq, name, 'mincos')] = cos
                        log('%s seq %d %-10s max abs diff to the server %.2e, min cosine %.7f' % (model, seq, name, diff, cos))
                for rep in range(args.repeats):
                    for batch in batches:
                        n = max(batch, int(SENTENCES.get((model, seq, batch), 256) * args.scale))
                        sub, sub_rows = sentences[:n], rows[:n]
                        base = {'model': model, 'seq': seq, 'batch': batch, 'sentences': n, 'repeat': rep,
                                'mean_tokens': float(np.mean([len(r) for r in sub_rows]))}
                        if server is not None:
                            r = server.measure(sub, batch)
                            raw.append(dict(base, engine='server', **r))
                            info[(model, seq, 'peak_rss_mb')] = r['peak_rss_mb']
                        if 'engine' not in skip:
                            path = ids_file.name
                            if n < len(rows):
                                path = ids_file.name + '.%d' % n
                                with open(path, 'w') as f:
                                    f.write('\n'.join(' '.join(map(str, x)) for x in sub_rows) + '\n')
                            e = run_engine(args.engine_bin, model, args.model_format, path, batch, seq)
                            info['core'] = e['core']
                            raw.append(dict(base, engine='engine', sent_per_s=e['sent_per_s'], p50_ms=e['p50_ms'],
                                            p99_ms=e['p99_ms']))
                            raw.append(dict(base, engine='bound', sent_per_s=e['bound_present_sent_per_s'],
                                            p50_ms=batch / e['bound_present_sent_per_s'] * 1000,
                                            gflops=e['sgemm_gflops_present']))
                            raw.append(dict(base, engine='bound-pad', sent_per_s=e['bound_padded_sent_per_s'],
                                            p50_ms=batch / e['bound_padded_sent_per_s'] * 1000,
                                            gflops=e['sgemm_gflops_padded']))
                        for name, peer in peers.items():
                            raw.append(dict(base, engine=name, **peer.measure(sub_rows, batch)))
                        log('%s seq %d batch %d repeat %d: %s' % (model, seq, batch, rep, ', '.join(
                            '%s %.1f' % (r['engine'], r['sent_per_s']) for r in raw
                            if (r['model'], r['seq'], r['batch'], r['repeat']) == (model, seq, batch, rep))))
            finally:
                if server is not None:
                    info[(model, seq, 'peak_rss_mb')] = server.sampler.peak / 1024.0
                    server.stop()
                for f in os.listdir(os.path.dirname(ids_file.name)):
                    p = os.path.join(os.path.dirname(ids_file.name), f)
                    if p.startswith(ids_file.name):
                        os.unlink(p)
            info[(model, 'weights_mb')] = weights_mb(model, args.model_format)
    meta['load_after'] = os.getloadavg()[0]
    report(raw, info, meta, args, stamp, skip)


def call_pooled(peer, batch):
    return peer.pooled(*batch) if hasattr(peer, 'pooled') else peer.forward(*batch)


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def summarize(raw):
    """Median (and spread) over repeats for each (model, seq, batch, engine)."""
    groups = {}
    for r in raw:
        groups.setdefault((r['model'], r['seq'], r['batch'], r['engine']), []).append(r)
    out = {}
    for key, rs in groups.items():
        sps = [r['sent_per_s'] for r in rs]
        out[key] = {'sent_per_s': float(np.median(sps)), 'spread': (max(sps) - min(sps)) / float(np.median(sps)),
                    'p50_ms': float(np.median([r['p50_ms'] for r in rs])),
                    'p99_ms': float(np.median([r.get('p99_ms', r['p50_ms']) for r in rs])),
                    'mean_tokens': rs[0]['mean_tokens'], 'sentences': rs[0]['sentences'], 'n': len(rs)}
    return out


def report(raw, info, meta, args, stamp, skip):
    summary = summarize(raw)
    engines = [e for e in ENGINES if e not in skip]
    keys = sorted({k[:3] for k in summary}, key=lambda k: (list(MODELS).index(k[0]), k[1], k[2]))
    lines = []
    lines.append('peers benchmark %s on %s (%s cores), OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s, OpenBLAS core %s, '
                 'onnxruntime %s%s; load average %.1f before, %.1f after; medians of %d repeats' % (
                     meta['date'], meta['cpu'], meta['cores'], meta['OPENBLAS_CORETYPE'], meta['OPENBLAS_L2_SIZE'],
                     info.get('core', '?'), meta['onnxruntime'],
                     (', torch %s' % meta['torch']) if 'torch' in meta else '', meta['load_before'],
                     meta['load_after'], args.repeats))
    lines.append('')
    head = '%-7s %5s %4s %6s | ' % ('model', 'batch', 'seq', 'tokens') + ' '.join('%10s' % e for e in engines)
    lines.append('sentences/s (spread = (max-min)/median over repeats, in brackets)')
    lines.append(head)
    for k in keys:
        cells = []
        for e in engines:
            s = summary.get(k + (e,))
            cells.append('%10s' % ('-' if s is None else '%.1f(%d%%)' % (s['sent_per_s'], round(s['spread'] * 100))
                                    if not e.startswith('bound') else '%.1f' % s['sent_per_s']))
        tok = summary[k + (next(e for e in engines if k + (e,) in summary),)]['mean_tokens']
        lines.append('%-7s %5d %4d %6.1f | ' % (k[0], k[2], k[1], tok) + ' '.join(cells))
    lines.append('')
    lines.append('ratios of our server (and engine) to each peer, sentences/s')
    peers = [e for e in engines if e not in ('server', 'engine')]
    lines.append('%-7s %5s %4s | ' % ('model', 'batch', 'seq') + ' '.join('%16s' % ('srv/' + p) for p in peers)
                 + ' ' + ' '.join('%16s' % ('eng/' + p) for p in peers))
    for k in keys:
        row = []
        for who in ('server', 'engine'):
            for p in peers:
                a, b = summary.get(k + (who,)), summary.get(k + (p,))
                row.append('%16s' % ('-' if a is None or b is None else '%.2fx' % (a['sent_per_s'] / b['sent_per_s'])))
        lines.append('%-7s %5d %4d | ' % (k[0], k[2], k[1]) + ' '.join(row))
    lines.append('')
    lines.append('batch-1 latency per call, ms (p50 / p99); bound = sgemm time alone for one sentence')
    for model in MODELS:
        for seq in (25, 128):
            k = (model, seq, 1)
            if k + ('server',) not in summary and k + ('ort',) not in summary:
                continue
            lines.append('%-7s seq %3d: ' % (model, seq) + ', '.join(
                '%s %.2f / %.2f' % (e, summary[k + (e,)]['p50_ms'], summary[k + (e,)]['p99_ms'])
                for e in engines if k + (e,) in summary))
    lines.append('')
    for model in MODELS:
        if (model, 'fusions') in info:
            lines.append('%s: onnxruntime.transformers fusions %s' % (model, info[(model, 'fusions')]))
        for seq in (25, 128):
            if (model, seq, 'peak_rss_mb') in info:
                w = info[(model, 'weights_mb')]
                rss = info[(model, seq, 'peak_rss_mb')]
                lines.append('%s seq %d: server peak RSS (whole tree) %.0f MB, weights %.0f MB, RSS - weights %.0f MB '
                             '(issue 3 target <= 300); start-up to first encode %.2f s; kernel %s' % (
                                 model, seq, rss, w, rss - w, info.get((model, seq, 'startup_s'), float('nan')),
                                 info.get((model, seq, 'kernel'), '?')))
            for e in ('ort', 'ort+fus', 'torch-bf16'):
                if (model, seq, e, 'maxdiff') in info:
                    lines.append('%s seq %d: %s vs server max abs diff %.2e, min cosine %.7f' % (
                        model, seq, e, info[(model, seq, e, 'maxdiff')], info[(model, seq, e, 'mincos')]))
    text = '\n'.join(lines)
    print(text)
    base = os.path.join(args.out, 'peers-' + stamp)
    with open(base + '.txt', 'w') as f:
        f.write(text + '\n')
    with open(base + '.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['model', 'seq', 'batch', 'engine', 'sent_per_s_median', 'spread', 'p50_ms', 'p99_ms',
                    'mean_tokens', 'sentences', 'repeats'])
        for k in keys:
            for e in engines:
                s = summary.get(k + (e,))
                if s:
                    w.writerow([k[0], k[1], k[2], e, '%.2f' % s['sent_per_s'], '%.3f' % s['spread'],
                                '%.3f' % s['p50_ms'], '%.3f' % s['p99_ms'], '%.2f' % s['mean_tokens'],
                                s['sentences'], s['n']])
    with open(base + '-raw.json', 'w') as f:
        json.dump({'meta': meta, 'info': {' '.join(map(str, k)) if isinstance(k, tuple) else k: v
                                          for k, v in info.items()}, 'raw': raw}, f, indent=1)
    try:
        chart(summary, keys, engines, meta, info, base + '.png')
    except Exception as e:  # the table and CSV matter more than the picture
        log('no chart:', e)
    log('wrote', base + '.{txt,csv,png}', 'and', base + '-raw.json')


def chart(summary, keys, engines, meta, info, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    models = [m for m in MODELS if any(k[0] == m for k in keys)]
    colors = {'server': '#d62728', 'engine': '#ff9896', 'ort': '#1f77b4', 'ort+fus': '#aec7e8',
              'torch-bf16': '#2ca02c', 'bound': '#7f7f7f', 'bound-pad': '#c7c7c7'}
    fig, axes = plt.subplots(2, len(models), figsize=(6.5 * len(models), 7.5), squeeze=False,
                             gridspec_kw={'height_ratios': [3, 2]})
    reference = 'ort+fus' if 'ort+fus' in engines else engines[-1]
    for col, model in enumerate(models):
        ks = [k for k in keys if k[0] == model]
        width = 0.8 / len(engines)
        for row, ratio in ((0, False), (1, True)):
            ax = axes[row][col]
            for j, e in enumerate(engines):
                xs, ys = [], []
                for i, k in enumerate(ks):
                    if k + (e,) in summary and (not ratio or k + (reference,) in summary):
                        xs.append(i + (j - len(engines) / 2 + 0.5) * width)
                        v = summary[k + (e,)]['sent_per_s']
                        ys.append(v / summary[k + (reference,)]['sent_per_s'] if ratio else v)
                ax.bar(xs, ys, width, label=e, color=colors.get(e))
            ax.set_xticks(range(len(ks)))
            ax.set_xticklabels(['batch %d\nseq %d' % (k[2], k[1]) for k in ks])
            ax.grid(axis='y', which='both', alpha=0.3)
            if ratio:
                ax.axhline(1.0, color='black', linewidth=0.8)
                ax.set_ylabel('sentences/s relative to %s' % reference)
            else:
                ax.set_yscale('log')
                ax.set_ylabel('sentences/s (log)')
                ax.set_title('%s, 2 threads' % MODELS[model])
    axes[0][0].legend(fontsize=8, ncol=2)
    fig.suptitle('bert-serving-swift vs peers, %s\n%s, %d cores, OpenBLAS %s, load %.0f-%.0f, medians of %d' % (
        meta['date'], meta['cpu'], meta['cores'], info.get('core', '?'), meta['load_before'],
        meta['load_after'], meta['repeats']), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == '__main__':
    main()
