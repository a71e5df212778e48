"""Fast path: max pooling over disjoint tiles (stride == kernel, no padding or dilation).

The usual `MaxPool2d(2)`. The general path (`ops.pool.max_pool_indices` + `TakeSpatial`) builds
the index of every window's maximum; over disjoint tiles the maximum is separable and needs no
index arithmetic.
"""
from __future__ import annotations

import math

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
    (N, C, P_1, K_1, P_2, K_2, ...), one transposing copy gathers it into prod(K)
    contiguous planes, planes[o] = the element at window offset o (row-major) of every
    tile. The maximum is then PyTorch's scan (`_scan_step`) over the planes in order:
    a plane takes over where it is greater or NaN, so the first maximum wins ties and the
    last NaN wins over everything, and the winning offset is kept as a small unsigned
    integer per output.  Every step works on contiguous arrays: on the interleaved view
    NumPy's loops run over runs as short as P_d and are several times slower.
    Backward writes, offset by offset, g where that offset won (else 0) into its place.

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
        d = len(kernel)
        offsets_first = tuple(3 + 2 * i for i in range(d)) + (0, 1) + tuple(2 + 2 * i for i in range(d))
        planes = np.ascontiguousarray(tiles.transpose(offsets_first)).reshape((math.prod(kernel), n, c) + out)
        best, win, dtype = planes[0], None, np.min_scalar_type(len(planes) - 1)
        for offset in range(1, len(planes)):
            values = planes[offset]
            if ctx.tracked:  # the scan of `_scan_step`, with the winner kept as an offset
                take = values > best
                take |= np.isnan(values)
                if win is None:
                    win = take.astype(dtype)  # offset 1 where taken, else 0
                else:  # offsets come in increasing order, so "offset where taken" is a maximum (a
                    # masked copy, np.copyto(where=), runs up to 50x slower than this on some CPUs)
                    np.maximum(win, np.multiply(take, dtype.type(offset)), out=win)
            # the first step makes `best` a new array: planes (prod(K) times y's size) are then freed
            best = np.maximum(best, values, out=None if offset == 1 else best)
        if ctx.tracked:
            ctx.x_shape, ctx.kernel = x.shape, kernel
            ctx.win = np.zeros(best.shape, np.uint8) if win is None else win  # K = 1: offset 0
        y = best if len(planes) > 1 else best.copy()  # K = 1: planes may be a view of x itself
        return y.swapaxes(0, 1) if ctx.swap else y

    @staticmethod
    def backward(ctx, grad):
        if ctx.swap:
            return MaxPoolTiles._backward(ctx, grad.swapaxes(0, 1)).swapaxes(0, 1)
        return MaxPoolTiles._backward(ctx, grad)

    @staticmethod
    def _backward(ctx, grad):
        kernel, win = ctx.kernel, ctx.win
        n, c, *size = ctx.x_shape
        out = grad.shape[2:]
        tiles = np.empty((n, c) + tuple(v for p, k in zip(out, kernel) for v in (p, k)), dtype=grad.dtype)
        plane = np.empty(grad.shape, dtype=grad.dtype)
        for offset, position in enumerate(np.ndindex(*kernel)):  # row-major, as the forward scan
            np.multiply(grad, win == offset, out=plane)  # g where this offset won, else 0
            tiles[EVERY + tuple(v for k in position for v in (slice(None), k))] = plane
        used = tuple(p * k for p, k in zip(out, kernel))
        grad = tiles.reshape((n, c) + used)
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
