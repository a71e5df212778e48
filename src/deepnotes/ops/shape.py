"""Shape and indexing ops: their backward moves gradients, it never computes (inventory E1).

reshape, permute/transpose, expand, concatenate, stack, pad, indexing and
gather (take along an axis).  squeeze/unsqueeze/flatten/split are built on
these in `autograd.tensor`.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape=()):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """out = a.transpose(axes); the gradient is transposed back by the inverse permutation."""

    @staticmethod
    def forward(ctx, a, axes=()):
        ctx.inverse = tuple(np.argsort(axes))
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse)


class Expand(Function):
    """Broadcast to `shape` without copying; the gradient is summed back."""

    @staticmethod
    def forward(ctx, a, shape=()):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine's unbroadcast sums over the expanded axes


class Concatenate(Function):
    """Join tensors along `axis`; each input gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    """Stack equal-shaped tensors along a new `axis`."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


class Pad(Function):
    """Constant padding; `pad_width` is NumPy's ((before, after), ...) per axis."""

    @staticmethod
    def forward(ctx, a, pad_width=(), value=0.0):
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, a.shape))
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.slices]


def _is_basic_index(index):
    """True when `index` uses only ints, slices, None and Ellipsis (a view, no repeats)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items
    )


class GetItem(Function):
    """out = a[index].  Basic indices write the gradient into the selected view;
    integer-array and boolean indices may repeat elements, so their gradients are
    accumulated with `np.add.at`."""

    @staticmethod
    def forward(ctx, a, index=None):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if _is_basic_index(ctx.index):
            out[ctx.index] = grad
        else:
            np.add.at(out, ctx.index, grad)
        return out


class TakeAlongAxis(Function):
    """out = take_along_axis(a, indices, axis) (PyTorch's gather); repeated indices add up."""

    @staticmethod
    def forward(ctx, a, indices=None, axis=0):
        ctx.shape, ctx.indices, ctx.axis = a.shape, indices, axis
        return np.take_along_axis(a, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        # Build the full index tuple so np.add.at accumulates repeats correctly.
        grids = list(np.indices(ctx.indices.shape, sparse=True))
        grids[ctx.axis] = ctx.indices
        np.add.at(out, tuple(grids), grad)
        return out
