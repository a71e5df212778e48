"""Embedding lookups as differentiable ops: the gather of rows and its sparse gradient, and the
per-bag reductions of `EmbeddingBag` (inventory S6).

The gradient of a lookup is sparse: only the rows that were looked up receive one, and a
row looked up several times receives the SUM of its occurrences' gradients.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def scatter_add_rows(target, rows, values):
    """target[rows[i]] += values[i] for every i, repeated rows accumulating, in place.

    Args: target (V, D) C-contiguous; rows (B,) ints; values (B, D).
    np.add.at on the flattened target with one index per element takes
    NumPy's fast 1-D path, several times faster than row-wise np.add.at.
    """
    width = target.shape[1]
    flat = (rows.reshape(-1, 1) * width + np.arange(width)).reshape(-1)
    np.add.at(target.reshape(-1), flat, values.reshape(-1).astype(target.dtype, copy=False))
    return target


class EmbeddingLookup(Function):
    """out = weight[indices]: (*, ) ints -> (*, D).

    Backward scatters the output gradient into the rows: dW[i] = sum of g over
    the positions holding id i (np.add.at accumulates repeats; plain fancy
    assignment would keep only the last one).  The padding row gets none.
    With `scale_grad_by_freq`, each row's sum is divided by how often the id
    occurs in this batch (torch's option for very frequent ids).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, weight, indices=None, padding_idx=None, scale_grad_by_freq=False):
        ctx.indices, ctx.num_rows = indices, weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        flat = ctx.indices.reshape(-1)
        rows = grad.reshape(flat.size, grad.shape[-1])
        if ctx.scale_grad_by_freq:
            counts = np.bincount(flat, minlength=ctx.num_rows)
            rows = rows / counts[flat][:, None].astype(grad.dtype)
        dweight = scatter_add_rows(np.zeros((ctx.num_rows, grad.shape[-1]), dtype=grad.dtype), flat, rows)
        if ctx.padding_idx is not None:
            dweight[ctx.padding_idx] = 0
        return dweight


class SegmentSum(Function):
    """out[b] = sum of rows[i] over the i with bags[i] == b: (T, D) -> (num_bags, D);  d rows = g[bags]."""

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, rows, bags=None, num_bags=0):
        ctx.bags = bags
        return scatter_add_rows(np.zeros((num_bags, rows.shape[1]), dtype=rows.dtype), bags, rows)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.bags]


class SegmentMax(Function):
    """out[b, d] = max of rows[i, d] over bag b (0 for an empty bag); the gradient goes to the
    first row holding the maximum, per feature."""

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, rows, bags=None, num_bags=0):
        T, D = rows.shape
        out = np.full((num_bags, D), -np.inf, dtype=rows.dtype)
        np.maximum.at(out, bags, rows)
        first = np.full((num_bags, D), T, dtype=np.int64)
        candidates = np.where(rows == out[bags], np.arange(T)[:, None], T)
        np.minimum.at(first, bags, candidates)
        ctx.first, ctx.T = first, T
        out[first == T] = 0  # empty bags
        return out

    @staticmethod
    def backward(ctx, grad):
        first = ctx.first
        rows = np.zeros((ctx.T + 1, grad.shape[1]), dtype=grad.dtype)  # row T collects empty bags, dropped
        rows[first, np.arange(grad.shape[1])[None, :]] = grad
        return rows[:-1]
