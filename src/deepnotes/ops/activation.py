"""Activation functions as ops (inventory A1-A6).

Conventions: ReLU'(0) = 0 (PyTorch's choice); Leaky ReLU's negative side is
`negative_slope * z` (a slope, not a constant); softmax and log-softmax
subtract the row maximum before exponentiating, so large logits never
overflow, and take a `temperature` T: softmax(z / T).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def stable_sigmoid(z):
    """1 / (1 + e^-z) without overflow: for z < 0 use e^z / (1 + e^z)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """s = 1 / (1 + e^-z);  ds/dz = s (1 - s) <= 1/4 (the vanishing-gradient bound, A1)."""

    @staticmethod
    def forward(ctx, z):
        s = stable_sigmoid(z)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_arrays
        return grad * s * (1 - s)


class Tanh(Function):
    """t = tanh z;  dt/dz = 1 - t^2 <= 1 (A2)."""

    @staticmethod
    def forward(ctx, z):
        t = np.tanh(z)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_arrays
        return grad * (1 - t * t)


class ReLU(Function):
    """max(z, 0);  derivative 1 for z > 0 and 0 for z <= 0 (A3)."""

    @staticmethod
    def forward(ctx, z):
        out = np.maximum(z, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_arrays
        return grad * (out > 0)


class LeakyReLU(Function):
    """z for z > 0, negative_slope * z otherwise (A4)."""

    @staticmethod
    def forward(ctx, z, negative_slope=0.01):
        ctx.save_for_backward(z)
        ctx.slope = negative_slope
        return np.where(z > 0, z, z * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_arrays
        return np.where(z > 0, grad, grad * ctx.slope)


class PReLU(Function):
    """z for z > 0, a * z otherwise, with a learned slope `a` (He et al. 2015).

    `a` has one value or one per channel (axis 1), broadcast against z.
    """

    @staticmethod
    def forward(ctx, z, a):
        a_b = a.reshape((1, -1) + (1,) * (z.ndim - 2)) if a.size > 1 else a.reshape(())
        ctx.save_for_backward(z, a_b)
        ctx.a_shape = a.shape
        return np.where(z > 0, z, a_b * z)

    @staticmethod
    def backward(ctx, grad):
        z, a_b = ctx.saved_arrays
        dz = np.where(z > 0, grad, grad * a_b)
        da = None
        if ctx.needs_input_grad[1]:
            da_full = np.where(z > 0, 0, grad * z)
            axes = tuple(i for i in range(z.ndim) if i != 1) if a_b.ndim else None
            da = da_full.sum(axis=axes).reshape(ctx.a_shape)
        return dz, da


class ELU(Function):
    """z for z > 0, alpha (e^z - 1) otherwise (Clevert et al. 2016)."""

    @staticmethod
    def forward(ctx, z, alpha=1.0):
        neg = alpha * np.expm1(np.minimum(z, 0))
        out = np.where(z > 0, z, neg)
        ctx.save_for_backward(z, neg)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        z, neg = ctx.saved_arrays
        return np.where(z > 0, grad, grad * (neg + ctx.alpha))


def softmax_array(z, axis):
    """exp(z - max z) / sum exp(z - max z): the max subtraction keeps exp() finite (A5)."""
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_array(z, axis):
    """z - max z - log sum exp(z - max z), stable for any z."""
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """p = softmax(z / T) along `axis`;  dz = p (g - sum(g p)) / T."""

    @staticmethod
    def forward(ctx, z, axis=-1, temperature=1.0):
        p = softmax_array(z / temperature if temperature != 1.0 else z, axis)
        ctx.save_for_backward(p)
        ctx.axis, ctx.temperature = axis, temperature
        return p

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved_arrays
        dz = p * (grad - (grad * p).sum(axis=ctx.axis, keepdims=True))
        return dz / ctx.temperature if ctx.temperature != 1.0 else dz


class LogSoftmax(Function):
    """y = log softmax(z / T) along `axis`;  dz = (g - softmax * sum g) / T."""

    @staticmethod
    def forward(ctx, z, axis=-1, temperature=1.0):
        y = log_softmax_array(z / temperature if temperature != 1.0 else z, axis)
        ctx.save_for_backward(y)
        ctx.axis, ctx.temperature = axis, temperature
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        dz = grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)
        return dz / ctx.temperature if ctx.temperature != 1.0 else dz
