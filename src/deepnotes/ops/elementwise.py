"""Elementwise arithmetic with NumPy broadcasting (inventory E1).

Every binary op returns gradients of the broadcast output shape; the engine
sums them back to each operand's shape (`autograd.function.unbroadcast`).

Each op has one `backward`, which also runs on Tensors for `create_graph=True`
(see `autograd.function`).  Masks and other piecewise-constant factors enter it
as constants (`ctx.xp.data` of a saved value): their derivative is zero almost
everywhere.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor


def constant(array, dtype):
    """A Tensor outside the graph holding `array` cast to `dtype`."""
    return Tensor._from_op(np.asarray(array, dtype=dtype), None)


class Cast(Function):
    """out = a as another dtype (or a copy);  da = g, cast back to a's dtype by the engine."""

    @staticmethod
    def forward(ctx, a, dtype=None, copy=False):
        return a.astype(dtype, copy=True) if copy else a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Add(Function):
    """out = a + b;  da = g, db = g."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """out = a - b;  da = g, db = -g."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """out = a * b;  da = g * b, db = g * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        da = grad * b if ctx.needs_input_grad[0] else None
        db = grad * a if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """out = a / b;  da = g / b, db = -g * a / b^2, computed as -(g / b) (a / b): b^2 alone would
    overflow (or underflow to 0) where the true gradient is finite, e.g. a = b = 1e-200."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        da = grad / b if ctx.needs_input_grad[0] else None
        db = -(grad / b) * (a / b) if ctx.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    """out = -a;  da = -g."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """out = a ** b;  da = g b a^(b-1),  db = g a^b ln a.

    PyTorch's conventions at the edges: da = 0 where b == 0 (even at a == 0,
    where a^(b-1) is infinite) and db = 0 where a == 0 and b >= 0.  A negative
    base is fine with an integer-valued exponent; its db is NaN (ln a).
    """

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_arrays
        xp = ctx.xp
        da = db = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                b_zero = xp.data(b) == 0
                da = xp.where(b_zero, 0, grad * b * a ** xp.where(b_zero, 1, b - 1))
            if ctx.needs_input_grad[1]:
                db = xp.where((xp.data(a) == 0) & (xp.data(b) >= 0), 0, grad * out * xp.log(a))
        return da, db


class Exp(Function):
    """out = e^a;  da = g * out."""

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_arrays
        return grad * out


class Log(Function):
    """out = ln a;  da = g / a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        return grad / a


class Sqrt(Function):
    """out = sqrt(a);  da = g / (2 out)."""

    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_arrays
        return grad / (2 * out)


class Abs(Function):
    """out = |a|;  da = g * sign(a), with sign(0) = 0 as in PyTorch."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        return grad * ctx.xp.constant(np.sign(ctx.xp.data(a)), grad.dtype)


class Maximum(Function):
    """out = max(a, b) elementwise; on ties each side gets half the gradient (PyTorch)."""

    pick = staticmethod(np.maximum)

    @staticmethod
    def share(a, b):
        """The fraction of the gradient that goes to `a`: 1, 0, or 1/2 on ties."""
        return np.where(a == b, 0.5, a > b)

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_arrays
        share_a = cls.share(ctx.xp.data(a), ctx.xp.data(b)).astype(grad.dtype)
        return grad * ctx.xp.constant(share_a, grad.dtype), grad * ctx.xp.constant(1 - share_a, grad.dtype)


class Minimum(Maximum):
    """out = min(a, b) elementwise; on ties each side gets half the gradient (PyTorch)."""

    pick = staticmethod(np.minimum)

    @staticmethod
    def share(a, b):
        return np.where(a == b, 0.5, a < b)


class Clip(Function):
    """out = min(max(a, low), high); the gradient passes where low <= a <= high (PyTorch).

    Either bound may be None (no bound on that side).
    """

    @staticmethod
    def forward(ctx, a, low=None, high=None):
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        return np.clip(a, low, high)

    @staticmethod
    def inside(ctx, a):
        mask = np.ones(a.shape, dtype=bool)
        if ctx.low is not None:
            mask &= a >= ctx.low
        if ctx.high is not None:
            mask &= a <= ctx.high
        return mask

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        return grad * Clip.inside(ctx, ctx.xp.data(a))


class Where(Function):
    """out = a where cond else b; `cond` is a boolean array, not differentiated."""

    @staticmethod
    def forward(ctx, a, b, cond=None):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        da = ctx.xp.where(ctx.cond, grad, 0) if ctx.needs_input_grad[0] else None
        db = ctx.xp.where(ctx.cond, 0, grad) if ctx.needs_input_grad[1] else None
        return da, db
