"""Matrix products (inventory E1, E4).

`MatMul` follows `np.matmul`: 1-d operands are promoted (a vector on the left
becomes a row, on the right a column) and leading batch axes broadcast.
`Linear` fuses y = x W^T + b into one node, the layer's hot path.
Every product goes through the GEMM seam (`deepnotes.backends.blas`, `ctx.xp.matmul` in the
backward passes), transposes passed as flags.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..backends import blas


def _folded(a, b):
    """Whether a @ b is a stack of rows times one matrix: a (..., k) with >= 3 axes, b (k, n).

    Then a @ b is one GEMM on a reshaped to (-1, k), much faster than the batch of
    small products `np.matmul` runs for it.
    """
    return a.ndim > 2 and b.ndim == 2


class MatMul(Function):
    """out = a @ b;  da = g @ b^T,  db = a^T @ g (batch axes summed back by the engine)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if _folded(a, b):
            return blas.gemm(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[1:])
        if a.ndim == 1 or b.ndim == 1:  # a matrix-vector or vector-vector product: not a GEMM
            return np.matmul(a, b)
        return blas.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        if _folded(a, b):
            g2 = grad.reshape(-1, grad.shape[-1])
            xp = ctx.xp
            da = xp.matmul(g2, b, trans_b=True).reshape(a.shape) if ctx.needs_input_grad[0] else None
            db = xp.matmul(a.reshape(-1, a.shape[-1]), g2, trans_a=True) if ctx.needs_input_grad[1] else None
            return da, db
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # Give the gradient back the axes that promoting 1-d operands removed
        # (the column's first, so that a 0-d gradient of vector @ vector works).
        xp = ctx.xp
        g2 = xp.expand_dims(grad, -1) if b.ndim == 1 else grad
        g2 = xp.expand_dims(g2, -2) if a.ndim == 1 else g2
        da = db = None
        # Leading batch axes that broadcasting added are summed by the engine.
        if ctx.needs_input_grad[0]:
            da = xp.matmul(g2, b2, trans_b=True)
            da = da[..., 0, :] if a.ndim == 1 else da
        if ctx.needs_input_grad[1]:
            db = xp.matmul(a2, g2, trans_a=True)
            db = db[..., 0] if b.ndim == 1 else db
        return da, db


class Linear(Function):
    """y = x W^T + b for x of shape (..., in), W (out, in), b (out,) or absent.

    dx = g W,  dW = g^T x (summed over all leading axes),  db = sum g.
    Leading axes are folded into one before each product: one large GEMM is much
    faster than the batch of small ones that `np.matmul` runs for a 3-d operand.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])  # the common 2-d case pays no reshape
        y = blas.gemm(x2, weight, trans_b=True)
        if bias is not None:
            y += bias
        return y if x2 is x else y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_arrays
        needs = ctx.needs_input_grad
        xp = ctx.xp
        x2, g2 = (x, grad) if x.ndim == 2 else (x.reshape(-1, x.shape[-1]), grad.reshape(-1, grad.shape[-1]))
        dx = xp.matmul(g2, weight) if needs[0] else None
        if dx is not None and x2 is not x:
            dx = dx.reshape(x.shape)
        dw = xp.matmul(g2, x2, trans_a=True) if needs[1] else None
        if len(needs) == 2:
            return dx, dw
        db = g2.sum(axis=0) if needs[2] else None
        return dx, dw, db
