"""Reductions over any set of axes, with `keepdim` (inventory E1).

Axes are normalized once (`normalize_dims`); backward re-inserts the reduced
axes as size-1 axes so the gradient broadcasts back over them.  Each op has one
`backward`, which also runs on Tensors for `create_graph=True`.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..errors import IndexRangeError


def normalize_dims(dim, ndim):
    """`dim` (None, int or sequence, negatives allowed) -> sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexRangeError(
                f"reduction: dim {d} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(int(d) % max(ndim, 1))
    return tuple(sorted(set(out)))


def _expand_reduced(ctx, grad):
    """Give `grad` size-1 axes where the reduction removed them."""
    return grad if ctx.keepdim else ctx.xp.expand_dims(grad, ctx.axes)


class Sum(Function):
    """out = sum over `axes`;  da = g broadcast over those axes."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.broadcast_to(_expand_reduced(ctx, grad), ctx.shape)


class Mean(Function):
    """out = sum / n over `axes`;  da = g / n."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.count = int(np.prod([a.shape[i] for i in axes]))
        return np.mean(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.broadcast_to(_expand_reduced(ctx, grad) / ctx.count, ctx.shape)


class Var(Function):
    """out = sum (a - mean)^2 / (n - correction);  da = 2 g (a - mean) / (n - correction).

    `correction=1` is the unbiased (Bessel) estimate, PyTorch's default;
    `correction=0` is the biased one normalization layers use in training.
    """

    @staticmethod
    def forward(ctx, a, axes=(), correction=1, keepdim=False):
        n = int(np.prod([a.shape[i] for i in axes]))
        centered = a - a.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(a)
        ctx.shape, ctx.axes, ctx.keepdim, ctx.denom = a.shape, axes, keepdim, max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(centered * centered, axis=axes, keepdims=keepdim) / ctx.denom

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        centered = a - a.mean(axis=ctx.axes, keepdims=True)  # recomputed: differentiable on Tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            # n - correction = 0 (one value, unbiased): the gradient is inf * 0 = NaN, as in PyTorch
            return _expand_reduced(ctx, grad) * (2.0 / ctx.denom if ctx.denom else float("inf")) * centered


class Amax(Function):
    """Max over `axes`; the gradient is shared equally among tied maxima (PyTorch's amax)."""

    pick = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, a, axes=(), keepdim=False):
        out = cls.pick(a, axis=axes, keepdims=True)
        hit = a == out
        ctx.save_for_backward((hit / hit.sum(axis=axes, keepdims=True)).astype(a.dtype))
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved_arrays  # piecewise constant: a constant on Tensors
        return _expand_reduced(ctx, grad) * share


class Amin(Amax):
    """Min over `axes`; ties share the gradient equally."""

    pick = staticmethod(np.min)


class MaxAlongDim(Function):
    """Max along one axis; the gradient goes to the index `argmax` returns (first maximum)."""

    pick = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx, a, dim=0, keepdim=False):
        idx = np.expand_dims(cls.pick(a, axis=dim), dim)
        # Full index of the picked elements, for the scatter in backward.
        grids = list(np.indices(idx.shape, sparse=True))
        grids[dim] = idx
        ctx.shape, ctx.dim, ctx.keepdim, ctx.index = a.shape, dim, keepdim, tuple(grids)
        out = a[ctx.index]
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        g = grad if ctx.keepdim else ctx.xp.expand_dims(grad, ctx.dim)
        return ctx.xp.scatter(g, ctx.index, ctx.shape, unique=True)


class MinAlongDim(MaxAlongDim):
    """Min along one axis; the gradient goes to the index `argmin` returns."""

    pick = staticmethod(np.argmin)


class LogSumExp(Function):
    """out = m + log sum exp(a - m), m = max a (stable, A5);  da = g * softmax(a)."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdim=False):
        m = np.max(a, axis=axes, keepdims=True, initial=-np.inf)  # a size-0 axis: m = -inf, the answer -inf
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(a - m)
        s = e.sum(axis=axes, keepdims=True)
        out = m + np.log(s)
        out = out if keepdim else np.squeeze(out, axis=axes)
        ctx.save_for_backward(a, out)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_arrays
        softmax = ctx.xp.exp(a - _expand_reduced(ctx, out))  # exp(a - logsumexp a)
        return _expand_reduced(ctx, grad) * softmax
