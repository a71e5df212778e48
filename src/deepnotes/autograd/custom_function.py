"""PyTorch-style custom Functions written by users: forward and backward on Tensors.

deepnotes' own ops (`ops/`) run `forward` and `backward` on NumPy arrays, the cheap form for a
kernel.  A user's subclass of `deepnotes.autograd.Function` is written as in PyTorch's tutorial
instead: `forward(ctx, input, ...)` receives Tensors (and any other arguments as given),
`ctx.save_for_backward(t, ...)` keeps Tensors, `backward(ctx, grad_output)` reads them from
`ctx.saved_tensors`, receives and returns Tensors, one gradient (or None) per forward argument:

    class Cube(dn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x ** 2      # d x^3 / dx

    y = Cube.apply(t)                            # as PyTorch: apply, never forward directly

`adapt(cls)` (called by `Function.__init_subclass__` for such a subclass) wraps the user's methods
so that the engine sees the array interface it runs on.  Both run with gradient recording off, as
in PyTorch; under `backward(create_graph=True)` the user's backward runs recorded instead, on the
graph's own tensors, so a backward written with differentiable tensor ops gives second derivatives
too.  A Function returns one Tensor.  (A user who wants the kernel interface, arrays in and out,
sets `on_arrays = True` in the class body, as deepnotes' own ops have it.)
"""
from __future__ import annotations

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor

# stands in, in the graph, for an argument of `apply` that is not a Tensor (it never gets a gradient)
_NOT_A_TENSOR = np.zeros(())


def adapt(cls):
    """Give the user's Function `cls` the array interface the engine calls (forward, backward, apply)."""
    if "forward" in cls.__dict__:
        cls.forward = staticmethod(_array_forward(cls, cls.forward))
    if "backward" in cls.__dict__:
        cls.backward = staticmethod(_array_backward(cls, cls.backward))
    cls.apply = staticmethod(_apply(cls))
    return cls


def _array_forward(cls, user_forward):
    def forward(ctx, *values, **kwargs):
        with no_grad():
            out = user_forward(ctx, *values, **kwargs)
        if isinstance(out, tuple):
            raise NotImplementedError(
                f"{cls.__name__}.forward returned {len(out)} outputs; deepnotes' custom Functions return one "
                "Tensor (split the computation into one Function per output)")
        return out._data if isinstance(out, Tensor) else np.asarray(out)

    return forward


def _array_backward(cls, user_backward):
    def backward(ctx, grad):
        if isinstance(grad, Tensor):  # create_graph: recorded, on the graph's tensors
            return _checked(cls, ctx, user_backward(ctx, grad), lambda g: g)
        with no_grad():
            grads = user_backward(ctx, Tensor._from_op(grad, None))
        return _checked(cls, ctx, grads, lambda g: g._data if isinstance(g, Tensor) else np.asarray(g))

    return backward


def _checked(cls, ctx, grads, convert):
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(ctx.inputs):
        raise ValueError(f"{cls.__name__}.backward returned {len(grads)} gradients, expected "
                         f"{len(ctx.inputs)} (one per argument of forward, None for those without one)")
    return tuple(None if g is None else convert(g) for g in grads)


def _apply(cls):
    def apply(*args, **kwargs):
        inputs = tuple(a if isinstance(a, Tensor) else Tensor._from_op(_NOT_A_TENSOR, None) for a in args)
        ctx = cls(inputs)
        # forward sees the caller's Tensors cut off from the graph, and every other argument as given
        values = [Tensor._from_op(a._data, None) if isinstance(a, Tensor) else a for a in args]
        out = Tensor._from_op(cls.forward(ctx, *values, **kwargs), ctx if ctx.tracked else None)
        if not ctx.tracked:
            ctx.inputs = ()
        return out

    return apply
