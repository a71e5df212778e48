"""Fast path: max pooling over disjoint tiles (stride == kernel, no padding or dilation).

The usual `MaxPool2d(2)`. The general path (`ops.pool.max_pool_indices` + `TakeSpatial`) builds
the index of every window's maximum; over disjoint tiles the maximum is separable and needs no
index arithmetic.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..ops.conv import EVERY
from ..ops.pool import channel_major
from . import register


def tiles_evenly(size, kernel, stride, padding, dilation, out):
    """Whether the windows are the disjoint k x k tiles of x: stride == kernel, no padding, no dilation.

    (The usual `MaxPool2d(2)`.)  Input rows or columns past the last whole tile are simply unused;
    kernel sizes stay below 256 so that a winning offset fits a uint8.
    """
    return (tuple(stride) == tuple(kernel) and not any(padding) and all(d == 1 for d in dilation)
            and all(o * k <= s for o, k, s in zip(out, kernel, size)) and max(kernel) < 256)


class MaxPoolTiles(Function):
    """Max pooling over disjoint tiles (stride == kernel, no padding or dilation): the fast path.

    x: (N, C, *S) -> y: (N, C, *P), P = S // K.  Viewing the used part of x as
    (N, C, P_1, K_1, P_2, K_2, ...) the max over a tile is separable: take the max
    over the K of the last axis, then of the axis before, and so on.  Each stage
    runs PyTorch's scan (`_scan_step`: the first maximum wins ties, the last NaN
    wins over everything) and keeps which offset won as a uint8 array; that
    reproduces the row-major scan of the general path exactly, because the first
    maximum in row-major order lies in the first row holding the maximum, at that
    row's first maximum (and likewise for the last NaN).
    Backward undoes the stages in reverse: each sends g to the winning offset.

    The kernel treats N and C alike, so an input laid out channel-major in memory
    (what convolution produces, see `deepnotes.ops.conv`) is pooled as (C, N, ...)
    and keeps that layout: no transposing copy either way.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, *, kernel):
        ctx.swap = channel_major(x)
        if ctx.swap:
            x = x.swapaxes(0, 1)
        n, c, *size = x.shape
        out = tuple(s // k for s, k in zip(size, kernel))
        used = x[EVERY + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
        tiles = used.reshape((n, c) + tuple(v for o, k in zip(out, kernel) for v in (o, k)))
        wins = []
        for axis in reversed(range(len(kernel))):  # the offset axis of spatial axis d is 3 + 2d
            lead = (slice(None),) * (3 + 2 * axis)
            best, win = tiles[lead + (0,)], None
            for k in range(1, kernel[axis]):
                values = tiles[lead + (k,)]
                if ctx.tracked:  # the scan of `_scan_step`, with the winner kept as a uint8 offset
                    take = values > best
                    take |= np.isnan(values)
                    if win is None:
                        win = take.view(np.uint8)  # offsets 0 and 1
                    else:
                        np.copyto(win, k, where=take)
                best = np.maximum(best, values)
            if ctx.tracked:
                wins.append(np.zeros(best.shape, np.uint8) if win is None else win)  # K = 1: offset 0
            tiles = best
        ctx.x_shape, ctx.kernel, ctx.wins = x.shape, kernel, wins[::-1]
        y = np.ascontiguousarray(tiles)
        return y.swapaxes(0, 1) if ctx.swap else y

    @staticmethod
    def backward(ctx, grad):
        if ctx.swap:
            return MaxPoolTiles._backward(ctx, grad.swapaxes(0, 1)).swapaxes(0, 1)
        return MaxPoolTiles._backward(ctx, grad)

    @staticmethod
    def _backward(ctx, grad):
        for axis, (k, win) in enumerate(zip(ctx.kernel, ctx.wins)):
            spread = np.empty(win.shape[: 3 + 2 * axis] + (k,) + win.shape[3 + 2 * axis:], dtype=grad.dtype)
            lead = (slice(None),) * (3 + 2 * axis)
            for offset in range(k):
                np.multiply(grad, win == offset, out=spread[lead + (offset,)])
            grad = spread
        n, c, *size = ctx.x_shape
        used = tuple(o * k for o, k in zip(grad.shape[2::2], ctx.kernel))
        grad = grad.reshape((n, c) + used)
        if used == tuple(size):
            return grad
        dx = np.zeros(ctx.x_shape, dtype=grad.dtype)
        dx[EVERY + tuple(slice(0, u) for u in used)] = grad
        return dx


@register("max_pool_tiles", replaces="deepnotes.nn.functional.max_pool1d/max_pool2d")
def max_pool_tiles(x, kernel, stride, padding, dilation, out):
    """Max pooling of x (N, C, *S) when its windows are disjoint tiles, else None."""
    if not tiles_evenly(x.shape[2:], kernel, stride, padding, dilation, out):
        return None
    return MaxPoolTiles.apply(x, kernel=kernel)
