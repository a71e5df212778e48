"""Functional forms: the dropout family (inventory R1, R2) over the one mask op `ops.dropout.MaskMultiply`.

`p` is the probability to *drop* (PyTorch's convention); kept units are scaled by 1 / (1 - p)
in training (inverted dropout) and evaluation is the identity.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import as_tensor
from ...ops.dropout import (  # noqa: F401
    _ALPHA_PRIME, _SELU_ALPHA, _SELU_SCALE, MaskMultiply, check_probability, keep_mask, scaled_keep_mask,
)
from ...ops.matmul import Linear as LinearFunction


def _masked(name, input, p, training, mask_shape, generator):
    check_probability(name, p)
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    return MaskMultiply.apply(x, mask=scaled_keep_mask(mask_shape(x.shape), p, x.dtype, generator))


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Inverted dropout: each element zeroed with probability p, survivors scaled by 1 / (1 - p).

    x: any shape.  Identity when training=False or p=0; zeros when p=1.
    """
    return _masked("dropout", input, p, training, lambda shape: shape, generator)


def _channel_mask_shape(shape):
    """(N, C, 1, ..., 1): one draw per channel of each example."""
    return shape[:2] + (1,) * (len(shape) - 2)


def dropout1d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Channel dropout for x: (N, C, L) or unbatched (C, L): whole channels zeroed with probability p."""
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2D (C, L) or 3D (N, C, L) input, got shape {x.shape}")
    shape = (lambda s: (s[0], 1)) if x.ndim == 2 else _channel_mask_shape
    return _masked("dropout1d", x, p, training, shape, generator)


def dropout2d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Channel dropout (Tompson et al., 2015) for x: (N, C, H, W): whole feature maps zeroed.

    Neighbouring pixels of a feature map are strongly correlated, so dropping
    single pixels barely regularizes a CNN; dropping the whole map does.  A 3D
    input is read as (N, C, L), as PyTorch does (with a warning there).
    """
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3D (N, C, L) or 4D (N, C, H, W) input, got shape {x.shape}")
    return _masked("dropout2d", x, p, training, _channel_mask_shape, generator)


def locked_dropout(input, p=0.5, training=True, batch_first=False, *, generator=None):
    """Variational ("locked") dropout for sequences (Gal & Ghahramani, 2016; Merity et al., 2018).

    x: (T, B, H), or (B, T, H) with batch_first.  One mask per sequence and
    feature, of shape (1, B, H) (or (B, 1, H)), shared by every time step, so
    the same units are dropped all along a sequence instead of fresh noise at
    every step.
    """
    x = as_tensor(input)
    if x.ndim != 3:
        layout = "(B, T, H)" if batch_first else "(T, B, H)"
        raise ValueError(f"locked_dropout: expected a 3D input {layout}, got shape {x.shape}")
    time_axis = 1 if batch_first else 0
    shape = lambda s: s[:time_axis] + (1,) + s[time_axis + 1:]  # noqa: E731
    return _masked("locked_dropout", x, p, training, shape, generator)


def _alpha(name, input, p, training, mask_shape, generator):
    """y = a * (x * keep + alpha' * (1 - keep)) + b with a, b keeping mean 0 and variance 1.

    Dropped units are set to SELU's saturation value -alpha' instead of 0 (0 is
    not the "inactive" value of a SELU net), then the affine map a, b restores
    zero mean and unit variance for inputs with zero mean and unit variance:
        a = ((1 - p) (1 + p alpha'^2))^(-1/2),   b = a alpha' p
    (the dropped value is a * (-alpha') + b = -a alpha' (1 - p)).
    """
    check_probability(name, p)
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return MaskMultiply.apply(x, mask=np.zeros((), dtype=x.dtype))
    keep = keep_mask(mask_shape(x.shape), p, x.dtype, generator)
    # Python floats, so a float32 input stays float32.
    a = 1.0 / math.sqrt((1.0 - p) * (1.0 + p * _ALPHA_PRIME**2))
    b = a * _ALPHA_PRIME * p
    shift = (a * _ALPHA_PRIME) * (keep - 1.0) + b  # b for kept units, b - a alpha' for dropped ones
    return MaskMultiply.apply(x, mask=keep * a) + as_tensor(shift)


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None):
    """Alpha dropout (Klambauer et al., 2017) for self-normalizing (SELU) networks; x: any shape.

    Note PyTorch's default training=False for this functional form.
    """
    return _alpha("alpha_dropout", input, p, training, lambda shape: shape, generator)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None):
    """Alpha dropout of whole channels of x: (N, C, *)."""
    return _alpha("feature_alpha_dropout", input, p, training, _channel_mask_shape, generator)


def drop_connect_linear(input, weight, bias=None, p=0.5, training=True, *, generator=None):
    """DropConnect (Wan et al., 2013): y = x (M * W)^T / (1 - p) + b in training, x W^T + b otherwise.

    x: (*, in), weight: (out, in), bias: (out,) or None.  M ~ Bernoulli(1 - p)
    per weight, one draw per call shared by the batch; the bias is not dropped.
    """
    check_probability("drop_connect_linear", p)
    x, weight = as_tensor(input), as_tensor(weight)
    if training and p > 0.0:
        weight = MaskMultiply.apply(weight, mask=scaled_keep_mask(weight.shape, p, weight.dtype, generator))
    args = (x, weight) if bias is None else (x, weight, as_tensor(bias))
    return LinearFunction.apply(*args)
