"""In-process peers: onnxruntime (plain ORT_ENABLE_ALL, and after onnxruntime.transformers BERT
fusions) and, when torch imports, PyTorch with bf16 autocast. Each runs the same word-piece ids
in batches padded to their longest row (as our server does), 2 intra-op threads."""
import os
import time

import numpy as np

from workload import pad_batch


def measure_calls(run_batch, rows, batch, warm_up=True):
    """Runs every batch of `rows` once through run_batch(ids, mask, types); sentences/s and call latency."""
    batches = [pad_batch(rows[i:i + batch]) for i in range(0, len(rows), batch)]
    if warm_up:
        run_batch(*batches[0])
    lat = []
    t0 = time.perf_counter()
    for b in batches:
        s = time.perf_counter()
        run_batch(*b)
        lat.append(time.perf_counter() - s)
    elapsed = time.perf_counter() - t0
    return {'sent_per_s': len(rows) / elapsed, 'p50_ms': float(np.percentile(lat, 50) * 1000),
            'p99_ms': float(np.percentile(lat, 99) * 1000)}


class OrtPeer:
    def __init__(self, onnx_path, threads=2):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(onnx_path, so, providers=['CPUExecutionProvider'])
        self.version = ort.__version__

    def pooled(self, ids, mask, types):
        return self.session.run(['mean_pooled'], {'input_ids': ids, 'attention_mask': mask,
                                                  'token_type_ids': types})[0]

    def measure(self, rows, batch, warm_up=True):
        return measure_calls(self.pooled, rows, batch, warm_up)


def torch_available():
    try:
        import torch  # noqa: F401
        return True
    except Exception:
        return False


class TorchBf16Peer:
    """The same forward pass in PyTorch (written here from the safetensors weights, no
    transformers package), fp32 weights, matrix products under torch.autocast('cpu', bfloat16)."""

    def __init__(self, hf_dir, threads=2):
        import json
        import torch
        from safetensors.numpy import load_file
        torch.set_num_threads(threads)
        self.torch = torch
        with open(os.path.join(hf_dir, 'config.json')) as f:
            cfg = json.load(f)
        t = load_file(os.path.join(hf_dir, 'model.safetensors'))
        self.t = {k[len('bert.'):] if k.startswith('bert.') else k: torch.from_numpy(v.copy()) for k, v in t.items()}
        self.cfg = cfg
        self.version = torch.__version__

    def forward(self, ids, mask, types):
        torch, t, cfg = self.torch, self.t, self.cfg
        F = torch.nn.functional
        H, nh = cfg['hidden_size'], cfg['num_attention_heads']
        d = H // nh
        ids, mask, types = (torch.from_numpy(a) for a in (ids, mask, types))
        B, S = ids.shape
        with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16):
            x = (t['embeddings.word_embeddings.weight'][ids] + t['embeddings.position_embeddings.weight'][:S]
                 + t['embeddings.token_type_embeddings.weight'][types])
            x = F.layer_norm(x, (H,), t['embeddings.LayerNorm.weight'], t['embeddings.LayerNorm.bias'], 1e-12)
            adder = (1.0 - mask[:, None, None, :].float()) * -10000.0
            for i in range(cfg['num_hidden_layers']):
                p = 'encoder.layer.%d.' % i

                def lin(y, name):
                    return F.linear(y, t[p + name + '.weight'], t[p + name + '.bias'])

                q = lin(x, 'attention.self.query').view(B, S, nh, d).transpose(1, 2)
                k = lin(x, 'attention.self.key').view(B, S, nh, d).transpose(1, 2)
                v = lin(x, 'attention.self.value').view(B, S, nh, d).transpose(1, 2)
                probs = torch.softmax(q @ k.transpose(-1, -2) / d ** 0.5 + adder, dim=-1)
                ctx = (probs @ v).transpose(1, 2).reshape(B, S, H)
                a = F.layer_norm((lin(ctx, 'attention.output.dense') + x).float(), (H,),
                                 t[p + 'attention.output.LayerNorm.weight'], t[p + 'attention.output.LayerNorm.bias'], 1e-12)
                h = F.gelu(lin(a, 'intermediate.dense'))
                x = F.layer_norm((lin(h, 'output.dense') + a).float(), (H,),
                                 t[p + 'output.LayerNorm.weight'], t[p + 'output.LayerNorm.bias'], 1e-12)
            m = mask[:, :, None].float()
            return ((x.float() * m).sum(1) / (m.sum(1) + 1e-10)).numpy()

    def measure(self, rows, batch, warm_up=True):
        return measure_calls(self.forward, rows, batch, warm_up)
