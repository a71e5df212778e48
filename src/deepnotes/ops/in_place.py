"""In-place forms of tensor operations (`add_`, `mul_`, `fill_`, `copy_`, `x += y`, ...), as PyTorch's.

They follow PyTorch's autograd rule: on a tensor that requires grad they raise unless grad mode
is off (`with dn.no_grad():`), and they write into the tensor's own array, so every tensor
sharing it (a `state_dict()` entry, a `detach()`ed alias) sees the change, as PyTorch's shared
storage does.  `x op= y` on a non-leaf inside the graph rebinds the name to the out-of-place
result instead, so its gradient stays right.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor, TensorLike, as_tensor
from . import api
from .tensor_api import masked_fill, t


# ------------------------------------------------------------------ in place
def _check_in_place(x: Tensor, name: str):
    if x.requires_grad and is_grad_enabled():
        what = "a leaf tensor" if x.grad_fn is None else "a tensor in the autograd graph"
        raise RuntimeError(
            f"Tensor.{name}: {what} that requires grad cannot be changed in place while gradients are recorded; "
            "wrap the update in `with deepnotes.no_grad():`, or write it out of place (`x = x + y`)"
        )


def _write(x: Tensor, values, name: str) -> Tensor:
    """Store `values` in x's own array (cast to its dtype as PyTorch's same-kind rule allows)."""
    values = np.asarray(values._data if isinstance(values, Tensor) else values)
    if not np.can_cast(values.dtype, x.dtype, casting="same_kind") and values.ndim:
        raise TypeError(f"Tensor.{name}: result type {values.dtype} cannot be stored in a {x.dtype} tensor")
    if x._data.flags.writeable:
        np.copyto(x._data, np.broadcast_to(values, x.shape), casting="unsafe")
    else:  # a read-only view (a broadcast or a constant): the tensor gets its own array
        x._data = np.array(np.broadcast_to(values, x.shape), dtype=x.dtype)
    return x


def _in_place(fn, name):
    def method(x: Tensor, *args, **kwargs) -> Tensor:
        _check_in_place(x, name)
        return _write(x, fn(Tensor._from_op(x._data, None), *args, **kwargs), name)

    method.__name__ = name
    method.__doc__ = f"In-place `{fn.__name__}`: writes into this tensor and returns it."
    return method


def _with_alpha(fn):
    def op(x, other, alpha=1):
        return fn(x, other if alpha == 1 else api.mul(other, alpha))

    op.__name__ = fn.__name__
    return op


add_, sub_ = _in_place(_with_alpha(api.add), "add_"), _in_place(_with_alpha(api.sub), "sub_")
mul_, div_ = _in_place(api.mul, "mul_"), _in_place(api.div, "div_")
clamp_, pow_ = _in_place(api.clamp, "clamp_"), _in_place(api.pow, "pow_")
masked_fill_ = _in_place(masked_fill, "masked_fill_")
neg_, abs_, exp_, sqrt_ = (_in_place(f, n) for f, n in ((api.neg, "neg_"), (api.abs, "abs_"),
                                                        (api.exp, "exp_"), (api.sqrt, "sqrt_")))


def fill_(x: Tensor, value) -> Tensor:
    _check_in_place(x, "fill_")
    return _write(x, np.asarray(value._data if isinstance(value, Tensor) else value, dtype=x.dtype), "fill_")


def zero_(x: Tensor) -> Tensor:
    return fill_(x, 0)


def copy_(x: Tensor, src: TensorLike, non_blocking: bool = False) -> Tensor:
    """Copy `src` (broadcast to x's shape, cast to x's dtype) into x."""
    _check_in_place(x, "copy_")
    return _write(x, np.asarray(as_tensor(src)._data, dtype=x.dtype), "copy_")


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    from .. import random as _random

    _check_in_place(x, "uniform_")
    rng = generator or _random.default_generator()
    return _write(x, rng.uniform(a, b, size=x.shape).astype(x.dtype), "uniform_")


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    from .. import random as _random

    _check_in_place(x, "normal_")
    rng = generator or _random.default_generator()
    return _write(x, rng.normal(mean, std, size=x.shape).astype(x.dtype), "normal_")


def _reshape_in_place(fn, name):
    def method(x: Tensor, *args) -> Tensor:
        _check_in_place(x, name)
        x._data = fn(Tensor._from_op(x._data, None), *args)._data
        return x

    method.__name__ = name
    return method


unsqueeze_, squeeze_ = _reshape_in_place(api.unsqueeze, "unsqueeze_"), _reshape_in_place(api.squeeze, "squeeze_")
t_ = _reshape_in_place(t, "t_")


def _augmented(fn, name):
    """`x op= y`: in place like PyTorch, except on a non-leaf in the graph, where the name is rebound
    to the out-of-place result (the gradient is then right for that name)."""
    def method(x: Tensor, other) -> Tensor:
        if x.requires_grad and is_grad_enabled() and x.grad_fn is not None:
            return fn(x, other)
        _check_in_place(x, name)
        return _write(x, fn(Tensor._from_op(x._data, None), other), name)

    method.__name__ = name
    return method


AUGMENTED = {"__iadd__": api.add, "__isub__": api.sub, "__imul__": api.mul, "__itruediv__": api.div,
             "__ipow__": api.pow}
