"""deepnotes.nn.init: weight initialization (inventory I1).

Every function fills a tensor *in place* (its array, keeping its
dtype), returns it, and draws from `deepnotes.random.default_generator()` or
from the NumPy `generator=` given, so `dn.manual_seed` makes it reproducible.
Names, arguments and defaults are PyTorch's (`torch.nn.init`).

Why the scale matters: a layer y = W x with `fan_in` inputs of unit variance
and weights of variance s^2 gives outputs of variance fan_in * s^2.  Keeping
that at 1 through depth needs s^2 = 1 / fan_in; keeping the backward
gradients' variance needs s^2 = 1 / fan_out.

- Xavier / Glorot (Glorot & Bengio, 2010) compromises between the two for
  symmetric activations (tanh): Var(W) = gain^2 * 2 / (fan_in + fan_out).
- Kaiming / He (He et al., 2015) accounts for ReLU zeroing half its inputs:
  Var(W) = gain^2 / fan, with gain^2 = 2 / (1 + a^2) for a leaky ReLU of
  negative slope a (a = 0: plain ReLU, gain = sqrt 2).

A uniform U(-b, b) has variance b^2 / 3, so the uniform variants use the bound
b = sqrt(3) * std.

Fans of a weight of shape (out, in, *kernel) follow PyTorch: fan_in =
in * prod(kernel) and fan_out = out * prod(kernel) (the receptive field size
multiplies both), which is right for Linear (out, in) and Conv (out, in/groups,
kh, kw) weights.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..random import default_generator

__all__ = [
    "calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_",
    "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]

_LINEAR_LIKE = {
    "linear", "sigmoid",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
}


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance through `nonlinearity` (PyTorch's values).

    ======================  =========================
    nonlinearity            gain
    ======================  =========================
    linear                  1
    conv{1,2,3}d (+transp)  1
    sigmoid                 1
    tanh                    5 / 3
    relu                    sqrt(2)
    leaky_relu              sqrt(2 / (1 + slope^2)), slope = `param` (default 0.01)
    selu                    3 / 4
    ======================  =========================
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        # PyTorch's empirical value; the SELU paper (Klambauer et al., 2017)
        # itself prescribes Var(W) = 1 / fan_in, i.e. nonlinearity='linear'.
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    shape = _array(tensor, "_calculate_fan_in_and_fan_out").shape
    if len(shape) < 2:
        raise ValueError(
            f"init: fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _array(tensor, fn):
    if isinstance(tensor, Tensor):
        return tensor._data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{fn}: expected a Tensor (or ndarray) to fill, got {type(tensor).__name__}")


def _fill(tensor, values, fn):
    """Write `values` into the tensor's array in place, in the tensor's dtype."""
    array = _array(tensor, fn)
    if array.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a floating-point tensor, got dtype {array.dtype}")
    array[...] = values  # NumPy casts to the array's dtype
    return tensor


def _rng(generator):
    return default_generator() if generator is None else generator


# --------------------------------------------------------------- plain fills
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    shape = _array(tensor, "uniform_").shape
    return _fill(tensor, _rng(generator).uniform(a, b, size=shape), "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    shape = _array(tensor, "normal_").shape
    return _fill(tensor, _rng(generator).normal(mean, std, size=shape), "normal_")


def constant_(tensor, val):
    """Fill with the value `val`."""
    return _fill(tensor, val, "constant_")


def zeros_(tensor):
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor):
    return _fill(tensor, 1.0, "ones_")


# ---------------------------------------------------- Xavier / Glorot (2010)
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Fill with U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Fill with N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


# ------------------------------------------------------ Kaiming / He (2015)
def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill with U(-b, b), b = sqrt(3) * gain / sqrt(fan) (He et al., 2015).

    Args:
        tensor: weight of shape (out, in, *kernel).
        a: negative slope of the leaky ReLU that follows (used when
            `nonlinearity='leaky_relu'`); 0 gives ReLU's gain sqrt(2).
        mode: 'fan_in' preserves the forward activations' variance,
            'fan_out' the backward gradients'.
        nonlinearity: a name understood by `calculate_gain`.
    """
    if 0 in _array(tensor, "kaiming_uniform_").shape:
        return tensor  # nothing to fill (PyTorch warns and returns too)
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill with N(0, std^2), std = gain / sqrt(fan) (He et al., 2015); arguments as `kaiming_uniform_`."""
    if 0 in _array(tensor, "kaiming_normal_").shape:
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
