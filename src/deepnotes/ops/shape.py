"""Shape and indexing ops: their backward moves gradients, it never computes (inventory E1).

reshape, permute/transpose, expand, concatenate, stack, pad, indexing,
gather and scatter (indexing's backward).  squeeze/unsqueeze/flatten/split
are built on these in `autograd.tensor`.  The backward of every op here is
again a shape op, so the backward is written once and runs on Tensors as well (`create_graph=True`).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import ArrayOps, Function
from ..errors import ShapeError


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
        ctx.inverse = tuple(int(i) for i in np.argsort(axes))
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.permute(grad, ctx.inverse)


class Expand(Function):
    """Broadcast to `shape` without copying; the gradient is summed back."""

    @staticmethod
    def forward(ctx, a, shape=()):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine's unbroadcast sums over the expanded axes


def _along(axis, index):
    """An index that applies `index` (an int or a slice) to `axis` only."""
    return (slice(None),) * axis + (index,)


class Concatenate(Function):
    """Join tensors along `axis`; each input gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        edges = [0, *(int(b) for b in ctx.bounds), grad.shape[ctx.axis]]
        return tuple(grad[_along(ctx.axis, slice(lo, hi))] for lo, hi in zip(edges[:-1], edges[1:]))


class Stack(Function):
    """Stack equal-shaped tensors along a new `axis`."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[_along(ctx.axis, i)] for i in range(grad.shape[ctx.axis]))


class Pad(Function):
    """Constant padding; `pad_width` is NumPy's ((before, after), ...) per axis."""

    @staticmethod
    def forward(ctx, a, pad_width=(), value=0.0):
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, a.shape))
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.slices]


class GetItem(Function):
    """out = a[index].  Basic indices write the gradient into the selected view;
    integer-array and boolean indices may repeat elements, so their gradients are
    accumulated with `np.add.at`."""

    @staticmethod
    def forward(ctx, a, index=None):
        ctx.shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.scatter(grad, ctx.index, ctx.shape)


class Scatter(Function):
    """out = zeros(shape) with `a` added at `index` (the backward of indexing).

    Its own backward is indexing again: out[index] -> a.
    """

    @staticmethod
    def forward(ctx, a, index=None, shape=(), unique=False):
        ctx.index = index
        return ArrayOps.scatter(a, index, shape, unique)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index]


class Gather(GetItem):
    """torch.gather: out[i][j][k] = a[indices[i][j][k]][j][k] when axis == 0, etc.

    `indices` has `a`'s number of dimensions and may be smaller than `a` along
    the other axes (only that leading block is read).  Written as indexing with
    the full index (coordinate grids, with `indices` at `axis`), so repeated
    indices add up in backward through `GetItem`'s scatter.
    """

    @staticmethod
    def forward(ctx, a, indices=None, axis=0):
        if indices.ndim != a.ndim:
            raise ShapeError(
                f"gather: index must have as many dimensions as the input ({a.ndim}), "
                f"got shape {indices.shape}"
            )
        grids = list(np.indices(indices.shape, sparse=True))
        grids[axis] = indices
        ctx.shape, ctx.index = a.shape, tuple(grids)
        return a[ctx.index]


TakeAlongAxis = Gather  # the NumPy name, kept for callers that use it
