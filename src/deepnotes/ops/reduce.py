"""Reductions over any set of axes, with `keepdim` (inventory E1).

Axes are normalized once (`normalize_dims`); backward re-inserts the reduced
axes as size-1 axes so the gradient broadcasts back over them.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def normalize_dims(dim, ndim):
    """`dim` (None, int or sequence, negatives allowed) -> sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"reduction: dim {d} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(int(d) % max(ndim, 1))
    return tuple(sorted(set(out)))


def _expand_reduced(grad, axes, keepdim):
    """Give `grad` size-1 axes where the reduction removed them."""
    return grad if keepdim else np.expand_dims(grad, axes)


class Sum(Function):
    """out = sum over `axes`;  da = g broadcast over those axes."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_expand_reduced(grad, ctx.axes, ctx.keepdim), ctx.shape)


class Mean(Function):
    """out = sum / n over `axes`;  da = g / n."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.count = int(np.prod([a.shape[i] for i in axes]))
        return np.mean(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        g = _expand_reduced(grad, ctx.axes, ctx.keepdim) / ctx.count
        return np.broadcast_to(g, ctx.shape)


class Var(Function):
    """out = sum (a - mean)^2 / (n - correction);  da = 2 g (a - mean) / (n - correction).

    `correction=1` is the unbiased (Bessel) estimate, PyTorch's default;
    `correction=0` is the biased one normalization layers use in training.
    """

    @staticmethod
    def forward(ctx, a, axes=(), correction=1, keepdim=False):
        n = int(np.prod([a.shape[i] for i in axes]))
        centered = a - a.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(centered * centered, axis=axes, keepdims=keepdim) / ctx.denom

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved_arrays
        g = _expand_reduced(grad, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * (2.0 / ctx.denom) * centered


class Amax(Function):
    """Max over `axes`; the gradient is shared equally among tied maxima (PyTorch's amax)."""

    sign = 1

    @classmethod
    def forward(cls, ctx, a, axes=(), keepdim=False):
        out = np.max(a, axis=axes, keepdims=True) if cls.sign > 0 else np.min(
            a, axis=axes, keepdims=True
        )
        hit = a == out
        ctx.save_for_backward(hit / hit.sum(axis=axes, keepdims=True))
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved_arrays
        return _expand_reduced(grad, ctx.axes, ctx.keepdim) * share


class Amin(Amax):
    """Min over `axes`; ties share the gradient equally."""

    sign = -1


class MaxAlongDim(Function):
    """Max along one axis; the gradient goes to the index `argmax` returns (first maximum)."""

    pick = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx, a, dim=0, keepdim=False):
        idx = np.expand_dims(cls.pick(a, axis=dim), dim)
        ctx.shape, ctx.dim, ctx.keepdim, ctx.idx = a.shape, dim, keepdim, idx
        out = np.take_along_axis(a, idx, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        g = _expand_reduced(grad, (ctx.dim,), ctx.keepdim)
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(out, ctx.idx, g, axis=ctx.dim)
        return out


class MinAlongDim(MaxAlongDim):
    pick = staticmethod(np.argmin)


class LogSumExp(Function):
    """out = m + log sum exp(a - m), m = max a (stable);  da = g * softmax(a)."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdim=False):
        m = np.max(a, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(a - m)
        s = e.sum(axis=axes, keepdims=True)
        out = m + np.log(s)
        ctx.save_for_backward(e / s)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (softmax,) = ctx.saved_arrays
        return _expand_reduced(grad, ctx.axes, ctx.keepdim) * softmax
