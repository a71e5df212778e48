"""Dropout family: random masks and the one `Function` they share (inventory R1, R2).

Every variant multiplies its input by a random mask that is constant for the
backward pass, so one op serves them all:

    y = x * mask,   dx = g * mask

The variants differ only in the mask's shape (broadcast over the axes where
one draw is shared) and values:

    dropout        mask shape = x.shape            Srivastava et al., 2014
    dropout1d/2d   (N, C, 1[, 1]): whole channels  Tompson et al., 2015
    locked         (1, B, H): one mask per sequence, shared over time
                                                   Gal & Ghahramani, 2016
    alpha_dropout  y = a (x * keep + alpha' (1 - keep)) + b, for SELU nets
                                                   Klambauer et al., 2017
    drop_connect   mask on a Linear layer's weight (out, in), not on x
                                                   Wan et al., 2013

Inverted dropout (PyTorch's convention): `p` is the probability to *drop*,
kept units are scaled by 1 / (1 - p) in training so that E[y] = x, and
evaluation is the identity (no rescaling at test time).

Masks are drawn from `deepnotes.random.default_generator()` (or `generator=`),
so `dn.manual_seed` reproduces them.  `inplace` is accepted for PyTorch
compatibility and ignored: arrays recorded in the graph are never mutated.
"""
from __future__ import annotations


import numpy as np

from .. import random as _random
from ..autograd.function import Function

# SELU's constants (Klambauer et al., 2017): alpha' = -scale * alpha, the value SELU saturates to.
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_ALPHA_PRIME = _SELU_ALPHA * _SELU_SCALE  # 1.7580993408473766


class MaskMultiply(Function):
    """y = x * mask for a constant `mask` that broadcasts against x;  dx = g * mask.

    The mask is a keyword (not a tensor input): no gradient flows to it.
    """

    @staticmethod
    def forward(ctx, x, mask=None):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


def check_probability(name, p):
    """Raise a ValueError naming `name` unless 0 <= p <= 1."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability p has to be between 0 and 1, but got {p}")


def keep_mask(shape, p, dtype, generator=None):
    """Bernoulli(1 - p) keep-indicators of `shape` (as `dtype`), drawn from the generator.

    A unit is kept when u >= p for u ~ Uniform[0, 1), which has probability 1 - p.
    """
    rng = generator or _random.default_generator()
    return (rng.random(shape, dtype=np.float32) >= p).astype(dtype)


def scaled_keep_mask(shape, p, dtype, generator=None):
    """keep / (1 - p): the inverted-dropout mask (all zeros when p == 1)."""
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    return keep_mask(shape, p, dtype, generator) * (1.0 / (1.0 - p))
