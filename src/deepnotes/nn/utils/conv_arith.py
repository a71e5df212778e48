"""Convolution arithmetic: output sizes, receptive fields, parameter counts (inventory C1, C2, C6).

Output size of a convolution or pooling along one axis (Dumoulin & Visin, 2016):

    out = floor((W + 2P - D (K - 1) - 1) / S) + 1

which for D = 1 is the textbook floor((W - K + 2P) / S) + 1.  A dilated kernel
covers k_eff = D (K - 1) + 1 input pixels.  Transposed convolution inverts the
size relation: out = (W - 1) S - 2P + D (K - 1) + output_padding + 1.

Receptive field of a stack (the recurrence of Araujo et al., 2019): with r the
field of one unit, j the distance in input pixels between adjacent units ("jump")
and start the input position of the first unit's centre, a layer (k_eff, S, P) maps

    r_out = r_in + (k_eff - 1) j_in,   j_out = j_in S,   start_out = start_in + ((k_eff - 1) / 2 - P) j_in.

Three 3x3 convolutions see 7x7 pixels with 3 (3 * 3 * C^2) weights, where one
7x7 convolution needs 49 C^2; dilations 1, 2, 4 see 15x15 with the same weights
as three ordinary 3x3 layers (exponential growth at constant cost, claim K32).
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ..containers import Identity, Sequential
from ..functional.conv import conv_padding
from ..layers.conv import _ConvNd
from ..layers.pooling import _AvgPoolNd, _MaxPoolNd
from ...ops.conv import conv_output_length
from ...ops.pool import pool_output_length


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1, transposed=False, output_padding=0):
    """Spatial output size of a convolution (or pooling without ceil_mode) along each axis.

    floor((W + 2P - D (K - 1) - 1) / S) + 1, or for transposed=True
    (W - 1) S - 2P + D (K - 1) + output_padding + 1.  Arguments are ints (one axis)
    or tuples (one entry per axis; ints broadcast); padding may be 'same' or 'valid'.
    Returns an int when every argument is an int, else a tuple.

    Example:
        >>> conv_output_size(32, 5, stride=1, padding=0)   # (32 - 5 + 0) / 1 + 1
        28
        >>> conv_output_size((224, 224), 7, stride=2, padding=3)
        (112, 112)
    """
    tuples = [a for a in (input_size, kernel_size, stride, padding, dilation, output_padding)
              if isinstance(a, (tuple, list))]
    axes = len(tuples[0]) if tuples else 1

    def per_axis(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * axes

    sizes, kernels, strides, dilations, extras = map(
        per_axis, (input_size, kernel_size, stride, dilation, output_padding))
    if isinstance(padding, str):
        pads = conv_padding(padding, kernels, strides, dilations, "conv_output_size")
    else:
        pads = tuple((p, p) for p in per_axis(padding))
    out = []
    for w, k, s, (lo, hi), d, e in zip(sizes, kernels, strides, pads, dilations, extras):
        size = (w - 1) * s - lo - hi + d * (k - 1) + e + 1 if transposed else conv_output_length(w, k, s, lo, hi, d)
        if size < 1:
            raise ValueError(f"conv_output_size: kernel {k} (dilation {d}) does not fit input size {w} "
                             f"with padding ({lo}, {hi})")
        out.append(size)
    return tuple(out) if tuples else out[0]


class ReceptiveFieldRow(NamedTuple):
    """One layer of `receptive_field`'s table; sizes are tuples with one entry per spatial axis."""

    name: str                 # the module's dotted name in the model ("input" for the first row)
    kind: str                 # its class name
    output_size: tuple        # spatial size of its output
    receptive_field: tuple    # r: input pixels one output unit sees
    jump: tuple               # j: input pixels between two adjacent output units
    start: tuple              # input coordinate of the first output unit's field centre (pixel i at i)


_POINTWISE_FAMILIES = ("activation", "dropout", "normalization")


def _flatten(module, prefix=""):
    """The leaf layers of nested Sequentials, with dotted names."""
    for name, child in module.named_children():
        full = f"{prefix}.{name}" if prefix else name
        if isinstance(child, Sequential):
            yield from _flatten(child, full)
        else:
            yield full, child


def _is_pointwise(module):
    """Layers that keep the spatial grid unit for unit: activations, normalization, dropout, Identity."""
    family = type(module).__module__.rsplit(".", 1)[-1]
    return isinstance(module, Identity) or family in _POINTWISE_FAMILIES


def receptive_field(model, input_size):
    """Per-layer output size, receptive field, jump and start for a Sequential stack of conv/pool layers.

    Args:
        model: a Sequential (nested Sequentials are flattened) of Conv1d/Conv2d,
            MaxPool1d/2d, AvgPool1d/2d and pointwise layers (activations,
            normalization, dropout, Identity).  Other layers raise ValueError.
        input_size: spatial size, an int (same on every axis) or a tuple; a full input shape
            (N, C, H, W) or (N, C, L), as PyTorch users pass it, is accepted too (N and C are dropped).

    Returns a list of `ReceptiveFieldRow`, the first for the input (r = 1, j = 1, start = 0).

    Example:
        >>> import deepnotes.nn as nn
        >>> stack = nn.Sequential(*[nn.Conv2d(1, 1, 3) for _ in range(3)])
        >>> nn.utils.receptive_field(stack, 32)[-1].receptive_field
        (7, 7)
    """
    layers = list(_flatten(model)) if isinstance(model, Sequential) else [("0", model)]
    spatial = next((layer._n for _, layer in layers if hasattr(layer, "_n")), None)
    if isinstance(input_size, (tuple, list)) and spatial is not None and len(input_size) == spatial + 2:
        input_size = tuple(input_size)[2:]  # (N, C, *spatial): keep the spatial sizes
    n = len(input_size) if isinstance(input_size, (tuple, list)) else (spatial or 2)
    size = tuple(input_size) if isinstance(input_size, (tuple, list)) else (int(input_size),) * n
    r, j, start = (1,) * n, (1,) * n, (0.0,) * n
    rows = [ReceptiveFieldRow("input", "input", size, r, j, start)]
    for name, layer in layers:
        if _is_pointwise(layer):
            rows.append(ReceptiveFieldRow(name, type(layer).__name__, size, r, j, start))
            continue
        kernel, stride, pads, dilation, ceil_mode = _geometry(name, layer, n)
        k_eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        size = tuple(
            pool_output_length(s, k, st, lo, d, ceil_mode) if ceil_mode else conv_output_length(s, k, st, lo, hi, d)
            for s, k, st, (lo, hi), d in zip(size, kernel, stride, pads, dilation)
        )
        if min(size) < 1:
            raise ValueError(f"receptive_field: layer {name} ({layer}) leaves no output for input size {input_size}")
        start = tuple(s0 + ((ke - 1) / 2 - lo) * j0 for s0, ke, (lo, _), j0 in zip(start, k_eff, pads, j))
        r = tuple(r0 + (ke - 1) * j0 for r0, ke, j0 in zip(r, k_eff, j))
        j = tuple(j0 * st for j0, st in zip(j, stride))
        rows.append(ReceptiveFieldRow(name, type(layer).__name__, size, r, j, start))
    return rows


def _geometry(name, layer, n):
    """(kernel, stride, ((lo, hi), ...), dilation, ceil_mode) of a conv or pooling layer."""
    if getattr(layer, "_n", n) != n:
        raise ValueError(f"receptive_field: layer {name} ({type(layer).__name__}) has {layer._n} spatial axes, "
                         f"the input size {n}")
    if isinstance(layer, _ConvNd) and not layer._transposed:
        pads = conv_padding(layer.padding, layer.kernel_size, layer.stride, layer.dilation, name)
        return layer.kernel_size, layer.stride, pads, layer.dilation, False
    if isinstance(layer, (_MaxPoolNd, _AvgPoolNd)):
        def axes(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
        kernel = axes(layer.kernel_size)
        pads = tuple((p, p) for p in axes(layer.padding))
        dilation = axes(getattr(layer, "dilation", 1))
        return kernel, axes(layer.stride), pads, dilation, layer.ceil_mode
    raise ValueError(
        f"receptive_field: cannot trace layer {name} ({type(layer).__name__}); supported are Conv1d/Conv2d, "
        "MaxPool, AvgPool and pointwise layers (activations, normalization, dropout, Identity) in Sequentials"
    )


def count_parameters(model, trainable_only=True):
    """Number of scalar parameters of `model` (shared parameters counted once).

    trainable_only=True counts only parameters with requires_grad.  A conv layer
    has C_out (C_in / groups prod(K) + 1) parameters whatever the image size, so a
    fully convolutional network's count does not depend on the input size, while a
    Linear after Flatten has C H W inputs and grows with it (inventory C2, claim K30).
    """
    return sum(math.prod(p.shape) for p in model.parameters() if p.requires_grad or not trainable_only)
