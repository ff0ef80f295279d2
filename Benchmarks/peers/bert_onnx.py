"""The BERT forward pass as an ONNX graph, written node by node with onnx.helper from an HF
folder's safetensors weights (no PyTorch, no TensorFlow).

It computes what our server computes for `-pooling_strategy REDUCE_MEAN -pooling_layer -1`:
embeddings (word + position + token type) and LayerNorm, every encoder layer (self-attention with
the mask adder (1 - mask) * -10000, GELU with erf, LayerNorm eps 1e-12), then the mean of the last
layer over the tokens the mask keeps, divided by (mask sum + 1e-10) as the original does.

The nodes are laid out as PyTorch's exporter lays out Hugging Face's BertModel (MatMul + Add per
projection, Reshape/Transpose per head, Div by sqrt(head size), Unsqueeze/Cast/Sub/Mul for the
mask, Div/Erf/Add/Mul/Mul for GELU, LayerNormalization after each residual Add), because that is
the shape onnxruntime.transformers.optimizer recognises when it fuses Attention,
SkipLayerNormalization and Gelu.

Inputs (int64, [batch, seq]): input_ids, attention_mask, token_type_ids.
Outputs: last_hidden_state [batch, seq, hidden] and mean_pooled [batch, hidden].

usage: bert_onnx.py HF_DIR OUT.onnx
"""
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17  # LayerNormalization is an ONNX op from 17 on


class GraphBuilder:
    def __init__(self):
        self.nodes, self.initializers, self.counter = [], [], 0

    def name(self, hint):
        self.counter += 1
        return '%s_%d' % (hint, self.counter)

    def const(self, value, hint='c', dtype=np.float32):
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=self.name(op_type), **attrs))
        return out


def load_hf(hf_dir):
    with open(os.path.join(hf_dir, 'config.json')) as f:
        cfg = json.load(f)
    t = load_file(os.path.join(hf_dir, 'model.safetensors'))
    t = {k[len('bert.'):] if k.startswith('bert.') else k: v for k, v in t.items()}
    return cfg, t


def build(hf_dir):
    cfg, t = load_hf(hf_dir)
    hidden, heads = cfg['hidden_size'], cfg['num_attention_heads']
    head_size = hidden // heads
    eps = float(cfg.get('layer_norm_eps', 1e-12))
    g = GraphBuilder()

    def w(name):  # a tensor as stored
        return g.const(t[name].astype(np.float32), name.replace('.', '_'))

    def w_t(name):  # an nn.Linear weight (out, in) as the (in, out) right operand of MatMul
        return g.const(np.ascontiguousarray(t[name].T.astype(np.float32)), name.replace('.', '_'))

    def linear(x, prefix):
        return g.op('Add', [g.op('MatMul', [x, w_t(prefix + '.weight')]), w(prefix + '.bias')])

    def layer_norm(x, prefix):
        return g.op('LayerNormalization', [x, w(prefix + '.weight'), w(prefix + '.bias')],
                    axis=-1, epsilon=eps)

    # --- embeddings ------------------------------------------------------------------------------
    word = g.op('Gather', [w('embeddings.word_embeddings.weight'), 'input_ids'])
    seq_len = g.op('Gather', [g.op('Shape', ['input_ids']), g.const(1, 'one', np.int64)], axis=0)
    positions = g.op('Unsqueeze', [g.op('Range', [g.const(0, 'zero', np.int64), seq_len,
                                                  g.const(1, 'one', np.int64)]),
                                   g.const([0], 'axes0', np.int64)])
    position = g.op('Gather', [w('embeddings.position_embeddings.weight'), positions])
    token_type = g.op('Gather', [w('embeddings.token_type_embeddings.weight'), 'token_type_ids'])
    x = layer_norm(g.op('Add', [g.op('Add', [word, position]), token_type]), 'embeddings.LayerNorm')

    # --- the attention mask adder: (1 - mask) * -10000, shape [batch, 1, 1, seq] ----------------
    mask4 = g.op('Unsqueeze', [g.op('Unsqueeze', ['attention_mask', g.const([1], 'axes1', np.int64)]),
                               g.const([2], 'axes2', np.int64)])
    adder = g.op('Mul', [g.op('Sub', [g.const(1.0, 'one_f'), g.op('Cast', [mask4], to=TensorProto.FLOAT)]),
                         g.const(-10000.0, 'mask_value')])

    heads_shape = g.const([0, 0, heads, head_size], 'heads_shape', np.int64)
    merged_shape = g.const([0, 0, hidden], 'merged_shape', np.int64)
    for i in range(cfg['num_hidden_layers']):
        p = 'encoder.layer.%d.' % i

        def split_heads(y, perm):
            return g.op('Transpose', [g.op('Reshape', [y, heads_shape])], perm=perm)

        q = split_heads(linear(x, p + 'attention.self.query'), [0, 2, 1, 3])
        k = split_heads(linear(x, p + 'attention.self.key'), [0, 2, 3, 1])
        v = split_heads(linear(x, p + 'attention.self.value'), [0, 2, 1, 3])
        scores = g.op('Div', [g.op('MatMul', [q, k]), g.const(math.sqrt(head_size), 'sqrt_d')])
        probs = g.op('Softmax', [g.op('Add', [scores, adder])], axis=-1)
        context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], perm=[0, 2, 1, 3]),
                                   merged_shape])
        attention = layer_norm(g.op('Add', [linear(context, p + 'attention.output.dense'), x]),
                               p + 'attention.output.LayerNorm')
        inner = linear(attention, p + 'intermediate.dense')
        erf = g.op('Erf', [g.op('Div', [inner, g.const(math.sqrt(2.0), 'sqrt2')])])
        gelu = g.op('Mul', [g.op('Mul', [inner, g.op('Add', [erf, g.const(1.0, 'one_f')])]),
                            g.const(0.5, 'half')])
        x = layer_norm(g.op('Add', [linear(gelu, p + 'output.dense'), attention]), p + 'output.LayerNorm')

    # --- outputs ---------------------------------------------------------------------------------
    g.nodes.append(helper.make_node('Identity', [x], ['last_hidden_state'], name='last_hidden_state'))
    mask3 = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], to=TensorProto.FLOAT),
                               g.const([2], 'axes2', np.int64)])
    axis1 = g.const([1], 'axes1', np.int64)
    summed = g.op('ReduceSum', [g.op('Mul', [x, mask3]), axis1], keepdims=0)
    count = g.op('Add', [g.op('ReduceSum', [mask3, axis1], keepdims=0), g.const(1e-10, 'tiny')])
    g.nodes.append(helper.make_node('Div', [summed, count], ['mean_pooled'], name='mean_pooled'))

    ids = [helper.make_tensor_value_info(n, TensorProto.INT64, ['batch_size', 'seq_len'])
           for n in ('input_ids', 'attention_mask', 'token_type_ids')]
    outs = [helper.make_tensor_value_info('last_hidden_state', TensorProto.FLOAT, ['batch_size', 'seq_len', hidden]),
            helper.make_tensor_value_info('mean_pooled', TensorProto.FLOAT, ['batch_size', hidden])]
    graph = helper.make_graph(g.nodes, 'bert', ids, outs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                              producer_name='bert-serving-swift Benchmarks/peers/bert_onnx.py')
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, cfg


def export(hf_dir, out_path):
    model, cfg = build(hf_dir)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    onnx.save(model, out_path)
    return cfg


def optimize(plain_path, fused_path, cfg):
    """onnxruntime.transformers.optimizer's BERT fusions; returns the fused-operator counts."""
    from onnxruntime.transformers import optimizer
    opt = optimizer.optimize_model(plain_path, model_type='bert', num_heads=cfg['num_attention_heads'],
                                   hidden_size=cfg['hidden_size'], opt_level=0)
    counts = {}
    for node in opt.model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    opt.save_model_to_file(fused_path)
    return counts


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    export(sys.argv[1], sys.argv[2])
    print('wrote', sys.argv[2])
