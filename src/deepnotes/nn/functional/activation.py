"""Functional forms: activations (inventory A1-A6). Softmax subtracts the row maximum; an
optional `temperature` T gives softmax(z / T)."""
from __future__ import annotations

import warnings


from ...autograd.tensor import as_tensor
from ...ops import activation as _A


# =============================================================== activations
def sigmoid(input):
    """1 / (1 + e^-x), computed without overflow (inventory A1)."""
    return _A.Sigmoid.apply(as_tensor(input))


def tanh(input):
    """tanh x (inventory A2)."""
    return _A.Tanh.apply(as_tensor(input))


def relu(input, inplace=False):
    """max(x, 0), with derivative 0 at x = 0 (A3).  `inplace` is accepted for PyTorch
    compatibility; the result is always a new tensor."""
    return _A.ReLU.apply(as_tensor(input))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise (A4)."""
    return _A.LeakyReLU.apply(as_tensor(input), negative_slope=negative_slope)


def prelu(input, weight):
    """x for x > 0, a * x otherwise with a learned `weight` a (He et al., 2015).

    Args:
        input: (N, C, ...); channels on axis 1 (an input of fewer than 2 dims has
            one channel, as in PyTorch).
        weight: (1,) shared slope, or (C,) one slope per channel.
    """
    x, a = as_tensor(input), as_tensor(weight)
    if a.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-d (1,) or (C,), got shape {a.shape}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if a.shape[0] not in (1, channels):
        raise ValueError(
            f"prelu: weight has {a.shape[0]} slopes, expected 1 or the input's {channels} channels "
            f"(axis 1 of input shape {x.shape})"
        )
    return _A.PReLU.apply(x, a)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2016)."""
    return _A.ELU.apply(as_tensor(input), alpha=alpha)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' for the tanh form (Hendrycks & Gimpel, 2016)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _A.GELU.apply(as_tensor(input), approximate=approximate)


def _softmax_dim(name, ndim):
    """PyTorch's legacy choice when `dim` is omitted: 0 for 0-, 1- and 3-d input, else 1."""
    warnings.warn(f"{name}: implicit dimension choice is deprecated; pass dim=", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, *, temperature=1.0, dtype=None):
    """exp(x / T) / sum exp(x / T) along `dim`, stable for any x (max subtraction, A5).

    `temperature` T > 1 flattens the distribution, T < 1 sharpens it (T -> 0: argmax).
    """
    x = as_tensor(input) if dtype is None else as_tensor(input).astype(dtype)
    dim = _softmax_dim("softmax", x.ndim) if dim is None else dim
    return _A.Softmax.apply(x, axis=dim, temperature=temperature)


def log_softmax(input, dim=None, *, temperature=1.0, dtype=None):
    """x / T - logsumexp(x / T) along `dim`: the log of `softmax`, computed without log(0)."""
    x = as_tensor(input) if dtype is None else as_tensor(input).astype(dtype)
    dim = _softmax_dim("log_softmax", x.ndim) if dim is None else dim
    return _A.LogSoftmax.apply(x, axis=dim, temperature=temperature)
