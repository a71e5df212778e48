"""Pooling, adaptive pooling, interpolation and index padding (inventory C4, C5, C7, D4).

Three kernels do all the work, each vectorized over batch, channels and pixels:

* Max pooling (plain and adaptive) is an argmax, which has no gradient, followed by
  a gather, which does: `TakeSpatial` picks x at the argmax positions and sends the
  gradient back there (`np.bincount` adds the contributions of overlapping windows).
  The argmax scans the kernel offsets in PyTorch's order and keeps the *first*
  maximum on ties (a NaN always wins), so gradients go where PyTorch sends them.
* Average pooling (`AvgPool`) sums one strided slice per kernel offset and divides
  by the window's element count (PyTorch's rules for padding and ceil_mode).
* Everything else is separable and linear: along each spatial axis the output is
  a fixed sparse matrix times the input.  `Resample` applies such matrices stored
  as (index, weight) pairs: nearest and (bi)linear interpolation, adaptive average
  pooling (windows of varying size), and reflect / replicate / circular padding.
  Its backward multiplies by the transposed (dense, small) matrices.

Window geometry follows PyTorch:
    out = floor_or_ceil((S + 2P - D (K - 1) - 1) / stride) + 1,
and with ceil_mode the last window must start inside the input or the left padding.
Adaptive pooling window i over a length L with `out` outputs is
    [floor(i L / out), ceil((i + 1) L / out)).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..backends import blas
from .conv import EVERY, window_slices


# ------------------------------------------------------------------ geometry
def pool_output_length(size, kernel, stride, pad, dilation=1, ceil_mode=False):
    """PyTorch's pooling output size along one axis."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # the last window would start in the right padding
    return out


def pool_right_pad(size, kernel, stride, pad, dilation, out):
    """Right padding that covers every window (ceil_mode windows may overhang the padding)."""
    return max(pad, (out - 1) * stride + dilation * (kernel - 1) + 1 - size - pad)


def avg_pool_divisor(size, kernel, stride, pad, out, count_include_pad):
    """Element count of each average-pooling window along one axis, PyTorch's rule.

    A window [start, start + K) is first clipped to the padded input [-pad, size + pad)
    (ceil_mode windows may overhang it); count_include_pad=False clips it to [0, size).
    The divisor of a 2-d window is the product of its two axes' counts.
    """
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def adaptive_windows(size, out):
    """Start and end (exclusive) of adaptive pooling's windows: floor(i L/out), ceil((i+1) L/out)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


# ------------------------------------------------------------------- kernels
class TakeSpatial(Function):
    """y[n, c, p] = x[n, c].flat[indices[n, c, p]]: gather from each (n, c) plane.

    x: (N, C, *S), indices: (N, C, *P) positions in the flattened plane S (PyTorch's
    max-pool indices).  Backward adds g[n, c, p] at x[n, c].flat[indices[n, c, p]];
    repeated indices (overlapping windows) accumulate.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, *, indices):
        n, c = x.shape[:2]
        ctx.x_shape, ctx.indices = x.shape, indices
        taken = np.take_along_axis(x.reshape(n, c, -1), indices.reshape(n, c, -1), axis=2)
        return taken.reshape(indices.shape)

    @staticmethod
    def backward(ctx, grad):
        n, c, *size = ctx.x_shape
        plane = int(np.prod(size))
        flat = (np.arange(n * c)[:, None] * plane + ctx.indices.reshape(n * c, -1)).ravel()
        dx = np.bincount(flat, weights=grad.ravel(), minlength=n * c * plane)
        return dx.astype(grad.dtype, copy=False).reshape(ctx.x_shape)


def channel_major(x):
    """Whether x: (N, C, ...) is laid out as a C-contiguous (C, N, ...) array."""
    return x.ndim > 2 and not x.flags.c_contiguous and x.swapaxes(0, 1).flags.c_contiguous


class AvgPool(Function):
    """y[n, c, p] = sum over the window of p of xp / divisor[p]  (xp: x zero-padded).

    x: (N, C, *S) -> y: (N, C, *P).  `padding` is ((lo, hi), ...) per axis; `divisor`
    broadcasts against P.  Backward spreads g / divisor evenly over each window.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, out, divisor):
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
        ones = (1,) * len(kernel)
        total = np.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
        for offset in np.ndindex(*kernel):
            total += xp[EVERY + window_slices(offset, stride, ones, out)]
        divisor = np.asarray(divisor, dtype=x.dtype)
        ctx.x_shape, ctx.divisor = x.shape, divisor
        ctx.geometry = dict(kernel=kernel, stride=stride, padding=padding, out=out)
        return total / divisor

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, padding, out = ctx.geometry.values()
        n, c, *size = ctx.x_shape
        share = grad / ctx.divisor
        dxp = np.zeros((n, c, *(s + lo + hi for s, (lo, hi) in zip(size, padding))), dtype=grad.dtype)
        for offset in np.ndindex(*kernel):
            dxp[EVERY + window_slices(offset, stride, (1,) * len(kernel), out)] += share
        return np.ascontiguousarray(dxp[EVERY + tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, padding))])


class Resample(Function):
    """Separable linear resampling: along each spatial axis, y = A x with A sparse.

    `maps` holds one (index, weight) pair per spatial axis (axes 2, 3, ...): index (out, T)
    integers and weight (out, T) or None (all ones), meaning
        y[..., i, ...] = sum_t weight[i, t] * x[..., index[i, t], ...].
    Forward gathers (exact, inf-safe); backward multiplies by each dense A^T, which
    adds up the contributions of repeated indices.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, *, maps):
        ctx.x_shape, ctx.maps = x.shape, maps
        for axis, (index, weight) in enumerate(maps, start=2):
            if weight is None:
                x = np.take(x, index[:, 0], axis=axis)
                continue
            along = (-1,) + (1,) * (x.ndim - axis - 1)
            w = weight.astype(x.dtype)
            x = sum(w[:, t].reshape(along) * np.take(x, index[:, t], axis=axis) for t in range(index.shape[1]))
        return x

    @staticmethod
    def backward(ctx, grad):
        for axis, ((index, weight), size) in enumerate(zip(ctx.maps, ctx.x_shape[2:]), start=2):
            matrix = np.zeros((index.shape[0], size), dtype=grad.dtype)
            rows = np.arange(index.shape[0])
            for t in range(index.shape[1]):  # within one t every row is hit once: no lost updates
                matrix[rows, index[:, t]] += 1 if weight is None else weight[:, t]
            moved = np.moveaxis(grad, axis, -1)  # one GEMM per axis: (everything else, out) @ (out, in)
            product = blas.gemm(moved.reshape(-1, moved.shape[-1]), matrix)
            grad = np.moveaxis(product.reshape(moved.shape[:-1] + (size,)), -1, axis)
        return grad


# ------------------------------------------------------------------ indices
def _plane_index(positions, size):
    """Flattened index in a plane of shape `size` of per-axis positions (broadcast together)."""
    return np.ravel_multi_index(np.broadcast_arrays(*positions), size)


def _scan_step(best, arg, values, k):
    """One step of PyTorch's max scan: `values` replaces the running maximum when it is larger
    (so ties keep the earlier element) or NaN (so NaN propagates and the last NaN wins)."""
    take = values > best
    take |= np.isnan(values)
    return np.maximum(best, values), np.where(take, k, arg)


def max_pool_indices(x, kernel, stride, padding, dilation, out):
    """Plane indices of the maxima of each window: (N, C, *P), as PyTorch's return_indices.

    x: (N, C, *S); kernel, stride, padding (one int per axis, both sides), dilation, out.
    Scans the kernel offsets in row-major order with PyTorch's rule (`_scan_step`).
    Padding is -inf and never chosen: a window of -inf values reports its first
    in-bounds element, as PyTorch does.
    """
    size = x.shape[2:]
    pads = tuple((p, pool_right_pad(s, k, st, p, d, o))
                 for s, k, st, p, d, o in zip(size, kernel, stride, padding, dilation, out))
    xp = np.pad(x, ((0, 0), (0, 0)) + pads, constant_values=-np.inf) if any(map(any, pads)) else x
    starts = np.ix_(*(np.arange(o) * st - p for o, st, p in zip(out, stride, padding)))  # window origins
    # Start from the first in-bounds offset of each window (offset 0 unless it lies in the padding).
    first = [np.maximum(-(g // d), 0) for g, d in zip(starts, dilation)]
    arg = np.broadcast_to(np.ravel_multi_index(np.broadcast_arrays(*first), kernel), x.shape[:2] + tuple(out))
    best = np.full(x.shape[:2] + tuple(out), -np.inf, dtype=x.dtype)
    for k, offset in enumerate(np.ndindex(*kernel)):
        best, arg = _scan_step(best, arg, xp[EVERY + window_slices(offset, stride, dilation, out)], k)
    offsets = np.unravel_index(arg, kernel)
    return _plane_index([g + o * d for g, o, d in zip(starts, offsets, dilation)], size)


def adaptive_max_indices(x, out):
    """Plane indices of the maxima of adaptive pooling's windows: (N, C, *out).

    Windows have different sizes; each axis is padded to the largest by repeating
    the window's last element, which never changes the scan's result.
    """
    size = x.shape[2:]
    maps = []
    for s, o in zip(size, out):
        start, end = adaptive_windows(s, o)
        span = int((end - start).max())
        maps.append(np.minimum(start[:, None] + np.arange(span), end[:, None] - 1))  # (out, span)
    spans = tuple(m.shape[1] for m in maps)
    # PyTorch starts from the window's first element with maximum -inf.
    arg = np.zeros(x.shape[:2] + tuple(out), dtype=np.intp)
    best = np.full(x.shape[:2] + tuple(out), -np.inf, dtype=x.dtype)
    for k, offset in enumerate(np.ndindex(*spans)):
        best, arg = _scan_step(best, arg, x[EVERY + np.ix_(*(m[:, t] for m, t in zip(maps, offset)))], k)
    outputs, offsets = np.ix_(*(np.arange(o) for o in out)), np.unravel_index(arg, spans)
    return _plane_index([m[i, t] for m, i, t in zip(maps, outputs, offsets)], size)


def adaptive_avg_map(size, out):
    """(index, weight) of adaptive average pooling along one axis: weight 1/len on each window."""
    start, end = adaptive_windows(size, out)
    span = int((end - start).max())
    t = np.arange(span)
    index = np.minimum(start[:, None] + t, end[:, None] - 1)
    weight = np.where(t < (end - start)[:, None], 1.0 / (end - start)[:, None], 0.0)
    return index, weight


def nearest_map(size, out, scale=None, exact=False, dtype=np.float32):
    """Source index of 'nearest' ('nearest-exact') interpolation along one axis: (out, 1).

    src = floor(dst * s) ('nearest', which shifts the image up-left) or floor((dst + 0.5) * s)
    ('nearest-exact'), s = 1/scale_factor when one was given, else size/out; clamped to
    size - 1.  The arithmetic is done in `dtype`: rounding decides some indices (26 -> 22
    pixels), and PyTorch's 2-d kernel computes in float32, its 1-d kernel in the input's dtype.
    """
    dst = np.arange(out)
    if out == size:
        return dst[:, None]
    if out == 2 * size and not exact:
        return (dst >> 1)[:, None]
    s = dtype(1.0 / scale) if scale else dtype(size) / dtype(out)
    src = np.floor((dst.astype(dtype) + dtype(0.5 if exact else 0.0)) * s).astype(np.int64)
    return np.minimum(src, size - 1)[:, None]


def linear_map(size, out, align_corners, scale=None):
    """(index, weight) of linear interpolation along one axis: two neighbours per output.

    align_corners=True:  src = dst (size - 1) / (out - 1)   (corner pixels' centres align)
    align_corners=False: src = max((dst + 0.5) s - 0.5, 0), s = 1/scale_factor or size/out
                         (pixel areas align; PyTorch's default).
    i0 = min(floor(src), size - 1), i1 = min(i0 + 1, size - 1), weights (1 - l, l), l = src - i0.
    """
    dst = np.arange(out, dtype=np.float64)
    if out == size:
        return np.stack([dst, dst], 1).astype(np.int64), np.stack([np.ones(out), np.zeros(out)], 1)
    if align_corners:
        src = dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        s = 1.0 / scale if scale else size / out
        src = np.maximum((dst + 0.5) * s - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    lam = np.clip(src - i0, 0.0, 1.0)
    i1 = np.minimum(i0 + 1, size - 1)
    return np.stack([i0, i1], 1), np.stack([1.0 - lam, lam], 1)


def pad_map(size, lo, hi, mode):
    """Source index of each padded position along one axis, for 'reflect', 'replicate', 'circular'.

    reflect: mirror without repeating the edge (x2 x1 | x0 x1 x2 | x1 x0);
    replicate: repeat the edge; circular: wrap around.  Shape (size + lo + hi, 1).
    """
    i = np.arange(-lo, size + hi)
    if mode == "reflect":
        if lo >= size or hi >= size:
            raise ValueError(f"reflect padding ({lo}, {hi}) must be smaller than the input size {size}")
        i = np.abs(i)
        i = np.where(i >= size, 2 * (size - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, size - 1)
    elif mode == "circular":
        if lo > size or hi > size:
            raise ValueError(f"circular padding ({lo}, {hi}) must be at most the input size {size}")
        i = i % size
    else:
        raise ValueError(f"padding mode must be 'reflect', 'replicate' or 'circular', got {mode!r}")
    return i[:, None]
