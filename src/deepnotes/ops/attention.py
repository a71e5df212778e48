"""Scaled dot-product attention kernels (inventory S4).

    scores = q k^T * scale + bias            (..., L, S)
    P      = softmax(scores) along S          the attention weights
    out    = (P * dropout_mask) v             (..., L, Ev)

Two kernels share one softmax:

- `ScaledDotProductAttention` is the whole computation as one node: forward
  keeps only P (not the scores), and backward is four batched matmuls plus the
  softmax Jacobian-vector product.  This is the hot path of every Transformer.
- `AttentionWeights` stops at P, for callers that need the weights themselves
  (`need_weights=True`); they finish with a plain matmul.

Conventions (as PyTorch's `scaled_dot_product_attention`): `bias` is an
additive float mask (-inf removes a key); a query row whose keys are all
removed gets all-zero weights, not NaN (a "safe" softmax).  Gradients flow to
q, k, v and to a float `bias` that requires them.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def masked_softmax(scores):
    """softmax along the last axis, computed in place; rows that are all -inf give zeros.

    Subtracting the row maximum keeps exp() finite; a row whose maximum is
    -inf has no key to attend to, so its shift is 0 and its sum 0, and the
    division is skipped there (weights 0 instead of 0/0 = NaN).
    """
    row_max = scores.max(axis=-1, keepdims=True)
    row_max[~np.isfinite(row_max)] = 0
    np.subtract(scores, row_max, out=scores)
    np.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)
    total[total == 0] = 1
    scores /= total
    return scores


def softmax_backward(p, grad_p):
    """d scores from d P for P = softmax(scores):  P * (dP - sum(dP * P))."""
    inner = np.einsum("...ij,...ij->...i", grad_p, p)[..., None]
    return p * (grad_p - inner)


def _scores(q, k, bias, scale):
    scores = np.matmul(q, np.swapaxes(k, -1, -2))
    scores *= scale
    if bias is not None:
        if np.broadcast_shapes(scores.shape, bias.shape) == scores.shape:
            scores += bias
        else:  # the mask has batch axes that q and k lack
            scores = scores + bias
    return scores


def _score_grads(needs, bias_at, grad_scores, q, k, scale):
    """Gradients of q, k and the bias (input number `bias_at`) from d scores,
    for scores = q k^T * scale + bias.  The engine sums broadcast axes back."""
    dbias = grad_scores if len(needs) > bias_at and needs[bias_at] else None
    grad_scores = grad_scores * scale
    dq = np.matmul(grad_scores, k) if needs[0] else None
    dk = np.matmul(np.swapaxes(grad_scores, -1, -2), q) if needs[1] else None
    return dq, dk, dbias


class ScaledDotProductAttention(Function):
    """out = (softmax(q k^T * scale + bias) * dropout_mask) v, one fused node.

    Args (arrays): q (..., L, E), k (..., S, E), v (..., S, Ev), optional bias
    broadcastable to (..., L, S).  Params: `scale` (a float) and
    `dropout_mask` (None, or an array of P's shape holding 0 or 1/(1-p)).
    """

    @staticmethod
    def forward(ctx, q, k, v, bias=None, scale=1.0, dropout_mask=None):
        p = masked_softmax(_scores(q, k, bias, scale))
        dropped = p if dropout_mask is None else p * dropout_mask
        ctx.save_for_backward(q, k, v, p)
        ctx.scale, ctx.dropout_mask = scale, dropout_mask
        return np.matmul(dropped, v)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, p = ctx.saved_arrays
        mask = ctx.dropout_mask
        dropped = p if mask is None else p * mask
        dv = np.matmul(np.swapaxes(dropped, -1, -2), grad) if ctx.needs_input_grad[2] else None
        grad_p = np.matmul(grad, np.swapaxes(v, -1, -2))
        if mask is not None:
            grad_p *= mask
        needs = ctx.needs_input_grad
        dq, dk, dbias = _score_grads(needs, 3, softmax_backward(p, grad_p), q, k, ctx.scale)
        return (dq, dk, dv) if len(needs) == 3 else (dq, dk, dv, dbias)


class AttentionWeights(Function):
    """P = softmax(q k^T * scale + bias) along the keys: (..., L, S)."""

    @staticmethod
    def forward(ctx, q, k, bias=None, scale=1.0):
        p = masked_softmax(_scores(q, k, bias, scale))
        ctx.save_for_backward(q, k, p)
        ctx.scale = scale
        return p

    @staticmethod
    def backward(ctx, grad):
        q, k, p = ctx.saved_arrays
        needs = ctx.needs_input_grad
        dq, dk, dbias = _score_grads(needs, 2, softmax_backward(p, grad), q, k, ctx.scale)
        return (dq, dk) if len(needs) == 2 else (dq, dk, dbias)
