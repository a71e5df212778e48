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
- `PackedScaledDotProductAttention` is the first one taking q, k, v stacked in
  one (3, ..., L, E) array, as self-attention's packed projection gives them.

Both scale q (..., L, E) rather than the (..., L, S) scores, q k^T * scale =
(q * scale) k^T, and skip the softmax's fully-masked-row fix-ups when there is
no bias.

Conventions (as PyTorch's `scaled_dot_product_attention`): `bias` is an
additive float mask (-inf removes a key); a query row whose keys are all
removed gets all-zero weights, not NaN (a "safe" softmax).  Gradients flow to
q, k, v and to a float `bias` that requires them.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backends import blas


_NO_SHIFT_NEEDED = 64.0  # |largest score| up to which softmax needs no shift: e^64 ~ 6e27 << float32's max


def masked_softmax(scores, masked=True):
    """softmax along the last axis, computed in place; rows that are all -inf give zeros.

    softmax is unchanged by subtracting a constant from a row, and any constant
    at least the row's maximum keeps exp() finite.  The largest score of the
    whole array is such a constant for every row, and it is one fast pass,
    where the per-row maxima are a slow reduction over short rows plus a
    broadcast subtraction (about 6x the time on attention scores).  When the
    largest score is within +-64, exp(score) itself neither overflows nor
    loses precision (even in float32), and the shift is skipped too.

    Only a row whose own maximum lies below shift + log(tiny / eps) would lose
    precision (its largest exponential within 1/eps of underflow).  A row
    whose first score is above that bound is safe; the others' maxima are
    checked, and those found low (fully masked rows among them) are set aside
    before the exponentials overwrite them and redone with their own maximum
    (`_rowwise_softmax`).  The row sums use einsum, about 3x faster than
    `.sum(axis=-1)` on float32 rows of this length.
    """
    if scores.size == 0:
        return scores
    top = scores.max()
    if not np.isfinite(top):  # a NaN or +inf score, or every score -inf
        return _rowwise_softmax(scores, masked)
    shift = 0.0 if abs(top) <= _NO_SHIFT_NEEDED else float(top)
    info = np.finfo(scores.dtype)
    floor = shift + math.log(info.tiny / info.eps)
    low = None
    maybe_low = np.nonzero(scores[..., 0] < floor)
    if len(maybe_low[0]):
        rows = scores[maybe_low]
        really = rows.max(axis=-1) < floor
        low = tuple(i[really] for i in maybe_low), rows[really]
    if shift:
        scores -= scores.dtype.type(shift)
    np.exp(scores, out=scores)
    total = np.einsum("...j->...", scores)
    if low is not None:
        where, rows = low
        scores[where] = _rowwise_softmax(rows, masked)
        total[where] = 1
    scores /= total[..., None]
    return scores


def _rowwise_softmax(scores, masked):
    """softmax along the last axis in place, each row shifted by its own maximum.

    A row whose maximum is -inf has no key to attend to, so its shift is 0 and
    its sum 0, and the division is skipped there (weights 0 instead of
    0/0 = NaN).  With `masked=False` (no bias was added, so every row has a
    finite maximum) those two fix-ups are skipped.
    """
    row_max = scores.max(axis=-1, keepdims=True)
    if masked:
        row_max[~np.isfinite(row_max)] = 0
    np.subtract(scores, row_max, out=scores)
    np.exp(scores, out=scores)
    total = np.einsum("...j->...", scores)[..., None]
    if masked:
        total[total == 0] = 1
    scores /= total
    return scores


def softmax_backward(p, grad_p):
    """d scores from d P for P = softmax(scores):  P * (dP - sum(dP * P))."""
    inner = np.einsum("...ij,...ij->...i", grad_p, p)[..., None]
    return p * (grad_p - inner)


def _scaled_query(q, scale):
    """q * scale as a new C-contiguous array (scaling the (L, E) queries costs less
    than scaling the (L, S) scores, and contiguous operands keep matmul on BLAS)."""
    out = np.empty(q.shape, dtype=q.dtype if q.dtype.kind == "f" else np.float32)
    np.multiply(q, scale, out=out)
    return out


def _scores(q_scaled, k, bias):
    """scores = (q * scale) k^T + bias, q already scaled (see `_scaled_query`)."""
    scores = blas.matmul(q_scaled, k, trans_b=True)
    if bias is not None:
        if np.broadcast_shapes(scores.shape, bias.shape) == scores.shape:
            scores += bias
        else:  # the mask has batch axes that q and k lack
            scores = scores + bias
    return scores


def _score_grads(needs, bias_at, grad_scores, q_scaled, k, scale, dq_out=None, dk_out=None):
    """Gradients of q, k and the bias (input number `bias_at`) from d scores,
    for scores = q_s k^T + bias with q_s = q * scale:

        dq = (dS k) * scale,   dk = dS^T q_s,   dbias = dS.

    `dq_out` / `dk_out` optionally receive dq / dk.  The engine sums broadcast axes back."""
    dbias = grad_scores if len(needs) > bias_at and needs[bias_at] else None
    dq = dk = None
    if needs[0]:
        dq = blas.matmul(grad_scores, k, out=dq_out)
        dq *= scale
    if needs[1]:
        dk = blas.matmul(grad_scores, q_scaled, trans_a=True, out=dk_out)
    return dq, dk, dbias


def _attend(ctx, q, k, v, bias, scale, dropout_mask):
    """Forward of out = (softmax(q k^T * scale + bias) * dropout_mask) v; saves what backward needs."""
    q_scaled = _scaled_query(q, scale)
    k = np.ascontiguousarray(k)  # (v is used as it is: copying it costs what it saves)
    p = masked_softmax(_scores(q_scaled, k, bias), masked=bias is not None)
    dropped = p if dropout_mask is None else p * dropout_mask
    ctx.save_for_backward(q_scaled, k, v, p)
    ctx.scale, ctx.dropout_mask = scale, dropout_mask
    return blas.matmul(dropped, v)


def _attend_backward(ctx, grad, needs, dq_out=None, dk_out=None, dv_out=None):
    """(dq, dk, dv, dbias) of `_attend`, for needs = (q, k, v[, bias])."""
    q_scaled, k, v, p = ctx.saved_arrays
    mask = ctx.dropout_mask
    dropped = p if mask is None else p * mask
    dv = blas.matmul(dropped, grad, trans_a=True, out=dv_out) if needs[2] else None
    grad_p = blas.matmul(grad, v, trans_b=True)
    if mask is not None:
        grad_p *= mask
    # needs[3:] (the bias) sits at position 2 of the (q, k, bias) tuple _score_grads expects
    dq, dk, dbias = _score_grads(needs[:2] + needs[3:], 2, softmax_backward(p, grad_p), q_scaled, k,
                                 ctx.scale, dq_out, dk_out)
    return dq, dk, dv, dbias


class ScaledDotProductAttention(Function):
    """out = (softmax(q k^T * scale + bias) * dropout_mask) v, one fused node.

    Args (arrays): q (..., L, E), k (..., S, E), v (..., S, Ev), optional bias
    broadcastable to (..., L, S).  Params: `scale` (a float) and
    `dropout_mask` (None, or an array of P's shape holding 0 or 1/(1-p)).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, q, k, v, bias=None, scale=1.0, dropout_mask=None):
        return _attend(ctx, q, k, v, bias, scale, dropout_mask)

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        dq, dk, dv, dbias = _attend_backward(ctx, grad, needs)
        return (dq, dk, dv) if len(needs) == 3 else (dq, dk, dv, dbias)


class PackedScaledDotProductAttention(Function):
    """`ScaledDotProductAttention` with q, k, v stacked along a first axis of 3:
    qkv (3, ..., L, E) -> out (..., L, E), where q, k, v = qkv[0], qkv[1], qkv[2].

    Self-attention projects q, k and v in one GEMM; taking that packed tensor
    whole gives one gradient array d qkv (3, ..., L, E), filled in place,
    instead of three full-size zero arrays that three slices' backward would
    allocate and sum.  Same optional `bias`, `scale` and `dropout_mask`.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, qkv, bias=None, scale=1.0, dropout_mask=None):
        ctx.packed_shape = qkv.shape
        return _attend(ctx, qkv[0], qkv[1], qkv[2], bias, scale, dropout_mask)

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        dqkv = np.empty(ctx.packed_shape, dtype=np.result_type(grad, ctx.saved_arrays[0]))
        _, _, _, dbias = _attend_backward(ctx, grad, (True, True, True) + tuple(needs[1:]),
                                          dqkv[0], dqkv[1], dqkv[2])
        return (dqkv,) if len(needs) == 1 else (dqkv, dbias)


class AttentionWeights(Function):
    """P = softmax(q k^T * scale + bias) along the keys: (..., L, S)."""

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, q, k, bias=None, scale=1.0):
        q_scaled = _scaled_query(q, scale)
        k = np.ascontiguousarray(k)
        p = masked_softmax(_scores(q_scaled, k, bias), masked=bias is not None)
        ctx.save_for_backward(q_scaled, k, p)
        ctx.scale = scale
        return p

    @staticmethod
    def backward(ctx, grad):
        q_scaled, k, p = ctx.saved_arrays
        needs = ctx.needs_input_grad
        dq, dk, dbias = _score_grads(needs, 2, softmax_backward(p, grad), q_scaled, k, ctx.scale)
        return (dq, dk) if len(needs) == 2 else (dq, dk, dbias)
