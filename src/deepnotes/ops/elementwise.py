"""Elementwise arithmetic with NumPy broadcasting (inventory E1).

Every binary op returns gradients of the broadcast output shape; the engine
sums them back to each operand's shape (`autograd.function.unbroadcast`).

Each op has `backward` (arrays, the ordinary path) and `backward_graph` (the
same formula with Tensor operations, used by `create_graph=True`).  Masks and
other piecewise-constant factors enter `backward_graph` as constants: their
derivative is zero almost everywhere.
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

    backward_graph = backward


class Add(Function):
    """out = a + b;  da = g, db = g."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    backward_graph = backward


class Sub(Function):
    """out = a - b;  da = g, db = -g."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    backward_graph = backward


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

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.inputs
        da = grad * b if ctx.needs_input_grad[0] else None
        db = grad * a if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """out = a / b;  da = g / b, db = -g * a / b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        da = grad / b if ctx.needs_input_grad[0] else None
        db = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return da, db

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.inputs
        da = grad / b if ctx.needs_input_grad[0] else None
        db = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    """out = -a;  da = -g."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad

    backward_graph = backward


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
        da = db = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                b_zero = b == 0
                da = np.where(b_zero, 0, grad * b * a ** np.where(b_zero, 1, b - 1))
            if ctx.needs_input_grad[1]:
                db = np.where((a == 0) & (b >= 0), 0, grad * out * np.log(a))
        return da, db

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.inputs
        zero = constant(0, grad.dtype)
        da = db = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                b_zero = b.data == 0
                exponent = Where.apply(constant(1, b.dtype), b - 1, cond=b_zero)
                da = Where.apply(zero, grad * b * a ** exponent, cond=b_zero)
            if ctx.needs_input_grad[1]:
                cond = (a.data == 0) & (b.data >= 0)
                db = Where.apply(zero, grad * a ** b * a.log(), cond=cond)
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

    @staticmethod
    def backward_graph(ctx, grad):
        return grad * ctx.inputs[0].exp()


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

    @staticmethod
    def backward_graph(ctx, grad):
        return grad / ctx.inputs[0]


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

    @staticmethod
    def backward_graph(ctx, grad):
        return grad / (ctx.inputs[0].sqrt() * 2)


class Abs(Function):
    """out = |a|;  da = g * sign(a), with sign(0) = 0 as in PyTorch."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_arrays
        return grad * np.sign(a)

    @staticmethod
    def backward_graph(ctx, grad):
        return grad * constant(np.sign(ctx.inputs[0].data), grad.dtype)


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
        share_a = cls.share(a, b).astype(grad.dtype)
        return grad * share_a, grad * (1 - share_a)

    @classmethod
    def backward_graph(cls, ctx, grad):
        a, b = ctx.inputs
        share_a = cls.share(a.data, b.data)
        return grad * constant(share_a, grad.dtype), grad * constant(1 - share_a, grad.dtype)


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
        return grad * Clip.inside(ctx, a)

    @staticmethod
    def backward_graph(ctx, grad):
        return grad * constant(Clip.inside(ctx, ctx.inputs[0].data), grad.dtype)


class Where(Function):
    """out = a where cond else b; `cond` is a boolean array, not differentiated."""

    @staticmethod
    def forward(ctx, a, b, cond=None):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        zero = np.zeros((), dtype=grad.dtype)
        da = np.where(ctx.cond, grad, zero) if ctx.needs_input_grad[0] else None
        db = np.where(ctx.cond, zero, grad) if ctx.needs_input_grad[1] else None
        return da, db

    @staticmethod
    def backward_graph(ctx, grad):
        zero = constant(0, grad.dtype)
        da = Where.apply(grad, zero, cond=ctx.cond) if ctx.needs_input_grad[0] else None
        db = Where.apply(zero, grad, cond=ctx.cond) if ctx.needs_input_grad[1] else None
        return da, db
