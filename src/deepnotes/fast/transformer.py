"""Fast path: `TransformerEncoderLayer.forward` in inference, on arrays.

In evaluation mode, with nothing to differentiate and no masks, PyTorch runs its
encoder layers through a fused "fast path"; this is ours.  It computes what the
graph path computes (tested equal to 1e-12 in float64), with no graph
bookkeeping and fewer passes over memory.  At W4's sizes (2048 tokens of 128
features, a feed-forward layer of 512) each elementwise pass over an activation
is bound by memory bandwidth and costs up to a quarter of the GEMM that made
it, so the savings are passes:

- The biases ride inside the GEMMs.  A Linear's input is written into an array
  with one extra column of ones, so that

      [x, 1] [W, b]^T = x W^T + b

  is one GEMM, K = in_features + 1, and no pass adds b over the output (for
  the (tokens, 512) hidden layer that pass alone cost as much as a sizeable part of its GEMM).
- The residual sums and the LayerNorms work in place on contiguous arrays (on
  a strided view, such as the first columns of an array with a ones column,
  NumPy's elementwise loops run up to 2x slower); one copy then feeds a GEMM.
- The attention scale 1/sqrt(head_dim) is folded into the stacked q rows of
  [W_in, b_in] (a (E, E + 1) block) rather than applied to every query.
- Each head's attention output is written by its matmul straight into the
  merged (tokens, heads * head_dim) layout that out_proj reads.
- The softmax shifts by the global maximum (`ops.attention.masked_softmax`).

NaN.  The graph path raises, naming the Linear, when a Linear's input holds a
NaN.  A NaN anywhere in the layer reaches every output of its sequence (through
the GEMMs, the softmax, the LayerNorms and ReLU alike), so here one check of the
output stands for those checks: when it finds a NaN, `encoder_layer_arrays`
returns None and the layer runs the graph path, which raises the same error.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backends import blas
from ..nn import functional as F
from .._checks import holds_nan
from ..ops.attention import masked_softmax
from . import register


@register("transformer_encoder_inference", replaces="deepnotes.nn.TransformerEncoderLayer.forward")
def encoder_layer_inference(layer, x, masks):
    """The layer's output Tensor for input `x`, or None when the fast path does not apply
    (training, masks, gradients wanted, ...) or the output holds a NaN (the graph path then
    runs and reports it)."""
    if not takes_fast_path(layer, x, masks):
        return None
    out = encoder_layer_arrays(layer, x._data)
    return None if out is None else Tensor(out)


def takes_fast_path(layer, x, masks):
    """PyTorch's rule for its fast path, in short: evaluation mode (dropout off), no masks,
    nothing to differentiate, packed q/k/v projections without extra keys; and here also
    one dtype throughout (the graph path raises on a mismatch)."""
    attn = layer.self_attn
    if layer.training or any(m is not None for m in masks) or attn.in_proj_weight is None:
        return False
    if attn.bias_k is not None or attn.add_zero_attn:
        return False
    parameters = list(layer.parameters())
    if any(p.dtype != x.dtype for p in parameters):
        return False
    return not is_grad_enabled() or not (x.requires_grad or any(p.requires_grad for p in parameters))


def encoder_layer_arrays(layer, src):
    """The layer's output for the array `src` (its input shape), or None when it holds a
    NaN (then the graph path runs and reports it)."""
    width = layer.d_model
    tokens = src.reshape(-1, width)
    if layer.norm_first:
        h = _self_attention(layer, _layer_norm_(tokens.copy(), layer.norm1), src.shape)
        h += tokens
        out = _feed_forward(layer, _layer_norm_(h.copy(), layer.norm2))
        out += h
    else:
        h = _self_attention(layer, tokens, src.shape)
        h += tokens
        out = _feed_forward(layer, _layer_norm_(h, layer.norm1))
        out += h
        _layer_norm_(out, layer.norm2)
    return None if holds_nan(out) else out.reshape(src.shape)


def _self_attention(layer, tokens, shape):
    """Multi-head self-attention of the rows of `tokens` (one per position of `shape`) -> (tokens, E)."""
    attn, width = layer.self_attn, layer.d_model
    heads, head_dim = attn.num_heads, width // attn.num_heads
    A, B = (shape[0], 1) if len(shape) == 2 else shape[:2]  # unbatched input: one sequence
    batch_first = layer.batch_first and len(shape) == 3
    stacked = _weight_and_bias(attn.in_proj_weight, attn.in_proj_bias)
    stacked[:width] *= 1.0 / math.sqrt(head_dim)  # (q * scale) k^T: the scale rides in W_q, b_q
    qkv = blas.gemm(_with_ones_column(tokens), stacked, trans_b=True).reshape(A, B, 3, heads, head_dim)
    q, k, v = qkv.transpose((2, 0, 3, 1, 4) if batch_first else (2, 1, 3, 0, 4))  # each (N, heads, L, d)
    p = masked_softmax(blas.matmul(q, np.ascontiguousarray(k), trans_b=True), masked=False)
    merged_ones = _ones_column_array(A * B, width, tokens.dtype)
    per_head = merged_ones.reshape(A, B, width + 1)[:, :, :width].reshape(A, B, heads, head_dim)
    blas.matmul(p, v, out=per_head.transpose((0, 2, 1, 3) if batch_first else (1, 2, 0, 3)))
    return blas.gemm(merged_ones, _weight_and_bias(attn.out_proj.weight, attn.out_proj.bias), trans_b=True)


def _feed_forward(layer, h):
    """linear2(activation(linear1(h))) for rows h -> (tokens, E)."""
    width = layer.linear1.out_features
    hidden_ones = _ones_column_array(len(h), width, h.dtype)
    hidden = hidden_ones[:, :width]
    blas.gemm(_with_ones_column(h), _weight_and_bias(layer.linear1.weight, layer.linear1.bias), trans_b=True, out=hidden)
    if layer.activation is F.relu:  # over the ones column too: max(1, 0) = 1
        np.maximum(hidden_ones, np.zeros(hidden_ones.shape[1], dtype=hidden.dtype), out=hidden_ones)
    else:
        hidden[...] = layer.activation(Tensor(hidden))._data
    return blas.gemm(hidden_ones, _weight_and_bias(layer.linear2.weight, layer.linear2.bias), trans_b=True)


def _ones_column_array(rows, width, dtype):
    """A new (rows, width + 1) array whose last column is ones; the first `width` columns are
    to be written (by a matmul's `out=`: elementwise work on such a strided view is up to 2x
    slower than on a contiguous array, so it gets none)."""
    array = np.empty((rows, width + 1), dtype=dtype)
    array[:, width] = 1
    return array


def _with_ones_column(rows):
    """[rows, 1]: a copy of the 2-d array `rows` with a last column of ones."""
    array = _ones_column_array(len(rows), rows.shape[1], rows.dtype)
    array[:, :-1] = rows
    return array


def _weight_and_bias(weight, bias):
    """[W, b]: (out, in + 1), b = 0 without a bias (weight and bias are Parameters)."""
    w = weight._data
    stacked = np.empty((w.shape[0], w.shape[1] + 1), dtype=w.dtype)
    stacked[:, :-1] = w
    stacked[:, -1] = 0 if bias is None else bias._data
    return stacked


def _layer_norm_(rows, norm):
    """LayerNorm `norm` applied to the rows of a 2-d array (or view), in place; returns it."""
    width = rows.shape[1]
    rows -= (np.einsum("ij->i", rows) / width)[:, None]
    var = np.einsum("ij,ij->i", rows, rows) / width
    rows *= (1.0 / np.sqrt(var + norm.eps)).astype(rows.dtype)[:, None]
    if norm.weight is not None:
        rows *= norm.weight._data
    if norm.bias is not None:
        rows += norm.bias._data
    return rows
