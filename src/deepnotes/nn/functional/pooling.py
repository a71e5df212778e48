"""Functional forms: pooling (the stateless math the `nn.pooling` layers call)."""
from __future__ import annotations

import functools
import numpy as np
from ... import fast
from ...autograd.tensor import Tensor, as_tensor
from ...ops.pool import (
    AvgPool, Resample, TakeSpatial, adaptive_avg_map, adaptive_max_indices, avg_pool_divisor, linear_map,
    max_pool_indices, nearest_map, pool_output_length, pool_right_pad,
)
from .conv import batched, ntuple


def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, n, name, max_pool):
    kernel = ntuple(kernel_size, n, "kernel_size", name)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        ntuple(stride, n, "stride", name)
    padding = ntuple(padding, n, "padding", name)
    dilation = ntuple(dilation, n, "dilation", name)
    if min(kernel + stride + dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{name}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be "
                         f"positive and padding {padding} >= 0")
    for k, p, d in zip(kernel, padding, dilation):
        if p > ((d * (k - 1) + 1) // 2 if max_pool else k // 2):
            raise ValueError(f"{name}: padding {padding} must be at most half of the effective kernel size "
                             f"(kernel_size {kernel}, dilation {dilation})")
    size = x.shape[2:]
    out = tuple(pool_output_length(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip(size, kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"{name}: input of spatial size {size} is too small for kernel_size {kernel} "
                         f"with padding {padding} and dilation {dilation} (output size {out})")
    return kernel, stride, padding, dilation, out


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, n, name):
    x, unbatched = batched(input, n, name)
    kernel, stride, padding, dilation, out = _pool_geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode, n, name, max_pool=True)
    shortcut = None if return_indices else fast.get("max_pool_tiles")
    y = None if shortcut is None else shortcut(x, kernel, stride, padding, dilation, out)
    if y is not None:  # the common MaxPool2d(2): no index arithmetic
        return y.squeeze(0) if unbatched else y
    indices = max_pool_indices(x._data, kernel, stride, padding, dilation, out)
    y = TakeSpatial.apply(x, indices=indices)
    if unbatched:
        y, indices = y.squeeze(0), indices[0]
    return (y, Tensor(indices)) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of (N, C, L); `return_indices` also gives the argmax positions."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over the windows of (N, C, H, W) -> (N, C, H_out, W_out); stride defaults to kernel_size.

    Padding is -inf (never chosen); ceil_mode rounds the output size up (PyTorch's rule);
    indices are positions in the flattened H x W plane, as PyTorch's.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, n, name):
    x, unbatched = batched(input, n, name)
    kernel, stride, padding, _, out = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, n, name,
                                                     max_pool=False)
    size = x.shape[2:]
    pads = tuple((p, pool_right_pad(s, k, st, p, 1, o)) for s, k, st, p, o in zip(size, kernel, stride, padding, out))
    if divisor_override:
        divisor = divisor_override
    else:
        counts = [avg_pool_divisor(s, k, st, p, o, count_include_pad)
                  for s, k, st, p, o in zip(size, kernel, stride, padding, out)]
        divisor = functools.reduce(np.multiply.outer, counts)
    y = AvgPool.apply(x, kernel=kernel, stride=stride, padding=pads, out=out, divisor=divisor)
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of (N, C, L); see `avg_pool2d`."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over the windows of (N, C, H, W) -> (N, C, H_out, W_out).

    The divisor is the window's size clipped to the padded input; with
    count_include_pad=False padded zeros are not counted; divisor_override replaces it.
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


def _adaptive_size(output_size, x, n, name):
    sizes = (output_size,) * n if output_size is None or isinstance(output_size, (int, np.integer)) \
        else tuple(output_size)
    if len(sizes) != n:
        raise ValueError(f"{name}: output_size must be an int or a tuple of {n}, got {output_size}")
    out = tuple(int(s) if s is not None else x.shape[2 + i] for i, s in enumerate(sizes))
    if min(out) < 1:
        raise ValueError(f"{name}: output_size must be positive, got {output_size}")
    return out


def _adaptive_avg(input, output_size, n, name):
    x, unbatched = batched(input, n, name)
    out = _adaptive_size(output_size, x, n, name)
    y = Resample.apply(x, maps=tuple(adaptive_avg_map(s, o) for s, o in zip(x.shape[2:], out)))
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Average over L_out windows [floor(i L / L_out), ceil((i + 1) L / L_out)) of (N, C, L)."""
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (H_out, W_out); output_size=1 is global average pooling.

    Window i along an axis of length L spans [floor(i L / out), ceil((i + 1) L / out)):
    windows overlap or differ in size when L is not a multiple of out.
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def _adaptive_max(input, output_size, return_indices, n, name):
    x, unbatched = batched(input, n, name)
    out = _adaptive_size(output_size, x, n, name)
    indices = adaptive_max_indices(x._data, out)
    y = TakeSpatial.apply(x, indices=indices)
    if unbatched:
        y, indices = y.squeeze(0), indices[0]
    return (y, Tensor(indices)) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, L); see `adaptive_avg_pool1d` for the windows."""
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows of (N, C, H, W); see `adaptive_avg_pool2d` for the windows."""
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "area")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resize (N, C, L) or (N, C, H, W) to `size`, or by `scale_factor` (output floor(S * factor)).

    Modes (PyTorch's source-index formulas, per axis, dst the output index):
      'nearest':        src = min(floor(dst * s), S - 1), s = 1/scale_factor if given else S/out
      'nearest-exact':  src = min(floor((dst + 0.5) * s), S - 1)
      'linear' (3-d) / 'bilinear' (4-d): blend the two neighbours of
                        src = dst (S - 1)/(out - 1)            with align_corners=True,
                        src = max((dst + 0.5) s - 0.5, 0)      with align_corners=False (default)
      'area':           adaptive average pooling to the output size.
    recompute_scale_factor=True uses s = S/out even when a scale_factor was given.
    """
    x = as_tensor(input)
    n = x.ndim - 2
    if n not in (1, 2):
        raise ValueError(f"interpolate: expected a 3-d (N, C, L) or 4-d (N, C, H, W) input, got shape {x.shape}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {_MODES}, got {mode!r}")
    if mode in ("linear", "bilinear") and n != {"linear": 1, "bilinear": 2}[mode]:
        raise ValueError(f"interpolate: mode {mode!r} needs a {3 if mode == 'linear' else 4}-d input, "
                         f"got shape {x.shape}")
    if align_corners is not None and mode not in ("linear", "bilinear"):
        raise ValueError("interpolate: align_corners can only be set with the modes 'linear' and 'bilinear'")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    in_size = x.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        out, scales = ntuple(size, n, "size", "interpolate"), (None,) * n
    else:
        scales = (float(scale_factor),) * n if isinstance(scale_factor, (int, float)) else \
            tuple(float(f) for f in scale_factor)
        if len(scales) != n or min(scales) <= 0:
            raise ValueError(f"interpolate: scale_factor must be positive, one per spatial axis, got {scale_factor}")
        out = tuple(int(s * f) for s, f in zip(in_size, scales))  # floor, as PyTorch
        if recompute_scale_factor or mode == "area":
            scales = (None,) * n
    if min(out) < 1:
        raise ValueError(f"interpolate: output size {out} must be positive (input shape {x.shape})")
    if mode == "area":
        return _adaptive_avg(x, out, n, "interpolate")
    if mode.startswith("nearest"):
        dtype = x.dtype.type if n == 1 and x.dtype.kind == "f" else np.float32  # PyTorch's index arithmetic
        maps = tuple((nearest_map(s, o, f, exact=mode == "nearest-exact", dtype=dtype), None)
                     for s, o, f in zip(in_size, out, scales))
    else:
        maps = tuple(linear_map(s, o, bool(align_corners), f) for s, o, f in zip(in_size, out, scales))
    return Resample.apply(x, maps=maps)
