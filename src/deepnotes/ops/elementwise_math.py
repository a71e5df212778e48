"""More elementwise math: sine, cosine, log1p, expm1 and the piecewise-constant functions.

Same conventions as `elementwise.py`: one `backward` that also runs on Tensors for
`create_graph=True` (its derivative factors are built with `ctx.xp`, so the double
backward of sin and cos is right).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Sin(Function):
    """out = sin a;  da = g cos a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        return grad * (np.cos(a) if isinstance(a, np.ndarray) else Cos.apply(a))


class Cos(Function):
    """out = cos a;  da = -g sin a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        return -grad * (np.sin(a) if isinstance(a, np.ndarray) else Sin.apply(a))


class Log1p(Function):
    """out = ln(1 + a), accurate for small a;  da = g / (1 + a)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        return grad / (a + 1)


class Expm1(Function):
    """out = e^a - 1, accurate for small a;  da = g (out + 1)."""

    @staticmethod
    def forward(ctx, a):
        out = np.expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_arrays
        return grad * (out + 1)


class PiecewiseConstant(Function):
    """out = fn(a) for a step function (floor, ceil, round, trunc, sign);  da = 0, as PyTorch."""

    @staticmethod
    def forward(ctx, a, fn=None):
        return fn(a)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0
