"""Functional forms: conv (the stateless math the `nn.conv` layers call)."""
from __future__ import annotations

import numpy as np
from ..._checks import check_nan
from ...autograd.tensor import as_tensor
from ...ops import api
from ...ops.conv import ConvNd, ConvTransposeNd
from ...ops.pool import Resample, pad_map


_AXES = {1: "L", 2: "H, W"}
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


# ============================================================ argument helpers
def ntuple(value, n, what, name):
    """An int or a sequence of n ints as a tuple of n ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value}")
    return value


def batched(input, n, name):
    """(input with a batch axis, whether one was added): PyTorch accepts unbatched (C, *S) input."""
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, got dtype {x.dtype}")
    if x.ndim not in (n + 1, n + 2):
        raise ValueError(
            f"{name}: expected a {n + 2}-d input (N, C, {_AXES[n]}) or an unbatched {n + 1}-d input "
            f"(C, {_AXES[n]}), got shape {tuple(x.shape)}"
        )
    return (x.unsqueeze(0), True) if x.ndim == n + 1 else (x, False)


def _positive(values, what, name):
    if min(values) < 1:
        raise ValueError(f"{name}: {what} must be positive, got {values}")
    return values


def conv_padding(padding, kernel, stride, dilation, name):
    """Padding as ((lo, hi), ...) per axis from PyTorch's forms: int, tuple, 'valid' or 'same'.

    'same' pads D (K - 1) in total per axis, floor half before and the rest after,
    so the output keeps the input size (stride 1 only).
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = ntuple(padding, n, "padding", name)
    if min(pads) < 0:
        raise ValueError(f"{name}: padding must be >= 0, got {pads}")
    return tuple((p, p) for p in pads)


def _check_channels(x, weight, channels, n, name, shape):
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} differs from the weight's {weight.dtype}; "
                        "cast one of them (x.astype(...), or layer.to(...))")
    if x.shape[1] != channels:
        raise ValueError(
            f"{name}: expected input with {channels} channels, shape (N, {channels}, {_AXES[n]}), "
            f"got shape {shape}"
        )


# ========================================================== functional forms
def _conv(input, weight, bias, stride, padding, dilation, groups, n, name, padding_mode="zeros"):
    weight = as_tensor(weight)
    if weight.ndim != n + 2:
        raise ValueError(f"{name}: weight must be {n + 2}-d (out, in/groups, {_AXES[n]}), got {weight.shape}")
    if groups < 1 or weight.shape[0] % groups:
        raise ValueError(f"{name}: groups={groups} must divide the {weight.shape[0]} output channels")
    kernel = weight.shape[2:]
    stride = _positive(ntuple(stride, n, "stride", name), "stride", name)
    dilation = _positive(ntuple(dilation, n, "dilation", name), "dilation", name)
    pads = conv_padding(padding, kernel, stride, dilation, name)
    shape = tuple(as_tensor(input).shape)
    x, unbatched = batched(input, n, name)
    _check_channels(x, weight, weight.shape[1] * groups, n, name, shape)
    check_nan(name, x._data)
    if padding_mode != "zeros":  # pad by indexing, then convolve without padding (as PyTorch)
        maps = tuple((pad_map(s, lo, hi, padding_mode), None) for s, (lo, hi) in zip(x.shape[2:], pads))
        x, pads = Resample.apply(x, maps=maps), ((0, 0),) * n
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, extent)):
        raise ValueError(
            f"{name}: input of shape {shape} (spatial size {padded} after padding) is smaller than "
            f"the kernel {kernel} with dilation {dilation} (extent {extent})"
        )
    empty = x.shape[0] == 0  # PyTorch gives an empty batch; the kernel needs one example to shape its output
    if empty:
        x = api.cat([x, as_tensor(np.zeros((1,) + x.shape[1:], x.dtype))])
    tensors = (x, weight) if bias is None else (x, weight, as_tensor(bias))
    y = ConvNd.apply(*tensors, stride=stride, padding=pads, dilation=dilation, groups=groups)
    y = y[:0] if empty else y
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation). input (N, C, L), weight (O, C/groups, K) -> (N, O, L_out)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation).

    input (N, C, H, W), weight (O, C/groups, kH, kW), bias (O,) -> (N, O, H_out, W_out),
    y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] xp[n, c + g(o) C/groups, i s + u d, j s + v d].

    Example:
        >>> import deepnotes as dn, deepnotes.nn.functional as F
        >>> F.conv2d(dn.ones(1, 1, 5, 5), dn.ones(1, 1, 3, 3), padding=1).shape
        (1, 1, 5, 5)
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, n, name,
                    output_size=None):
    weight = as_tensor(weight)
    if weight.ndim != n + 2:
        raise ValueError(f"{name}: weight must be {n + 2}-d (in, out/groups, {_AXES[n]}), got {weight.shape}")
    if groups < 1 or weight.shape[0] % groups:
        raise ValueError(f"{name}: groups={groups} must divide the {weight.shape[0]} input channels")
    kernel = weight.shape[2:]
    stride = _positive(ntuple(stride, n, "stride", name), "stride", name)
    dilation = _positive(ntuple(dilation, n, "dilation", name), "dilation", name)
    pads = ntuple(padding, n, "padding", name)
    shape = tuple(as_tensor(input).shape)
    x, unbatched = batched(input, n, name)
    _check_channels(x, weight, weight.shape[0], n, name, shape)
    smallest = tuple((s - 1) * st - 2 * p + d * (k - 1) + 1
                     for s, st, p, d, k in zip(x.shape[2:], stride, pads, dilation, kernel))
    if output_size is not None:  # PyTorch's forward(input, output_size): infer output_padding
        wanted = tuple(int(v) for v in output_size)[-n:]
        reachable = all(lo <= w < lo + max(s, d) for w, lo, s, d in zip(wanted, smallest, stride, dilation))
        if len(wanted) != n or not reachable:
            raise ValueError(
                f"{name}: output_size {tuple(output_size)} is not reachable: each size must lie in "
                f"[{smallest}, {smallest} + max(stride, dilation)) for input shape {shape}"
            )
        extra = tuple(w - lo for w, lo in zip(wanted, smallest))
    else:
        extra = ntuple(output_padding, n, "output_padding", name)
    if any(e < 0 or (e >= s and e >= d) for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(
            f"{name}: output_padding {extra} must be >= 0 and smaller than either stride {stride} "
            f"or dilation {dilation}"
        )
    out = tuple(lo + e for lo, e in zip(smallest, extra))
    if min(out) < 1:
        raise ValueError(f"{name}: input of shape {shape} gives an empty output of spatial size {out}")
    tensors = (x, weight) if bias is None else (x, weight, as_tensor(bias))
    y = ConvTransposeNd.apply(*tensors, stride=stride, padding=tuple((p, p) for p in pads),
                              dilation=dilation, groups=groups, output_shape=out)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution: input (N, C_in, L), weight (C_in, C_out/groups, K) -> (N, C_out, L_out)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution, the adjoint of `conv2d` with the same weight.

    input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    <conv2d(x, W), y> = <x, conv_transpose2d(y, W)> for all x, y (matching padding, stride,
    dilation, groups): it upsamples, but it does not undo conv2d.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")
