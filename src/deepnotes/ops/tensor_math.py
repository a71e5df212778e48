"""Sorting, norms and more elementwise math with PyTorch's names (`sort`, `topk`, `norm`, `sin`,
`log2`, `floor`, ...), attached to `Tensor` by `tensor_methods.py`.  Values that are selected
(sorting, top-k) keep their gradient through a gather; step functions have a zero gradient.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import DEFAULT_FLOAT, Tensor, TensorLike, as_tensor
from . import api
from . import elementwise_math as M
from .api import ValuesIndices


# --------------------------------------------------------------- sorting, norms
def sort(x: TensorLike, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    """(values, indices) sorted along `dim`; ties keep their order (a stable sort)."""
    x = as_tensor(x)
    key = -x._data if descending and x.dtype.kind != "b" else x._data
    if descending and x.dtype.kind == "b":
        key = ~x._data
    idx = np.argsort(key, axis=dim, kind="stable")
    return ValuesIndices(api.gather(x, dim, idx), Tensor(idx.astype(np.int64)))


def argsort(x: TensorLike, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(x, dim, descending, stable).indices


def topk(x: TensorLike, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:  # noqa: A002
    """The k largest (or smallest) values along `dim` and their indices, largest first (torch.topk)."""
    x = as_tensor(x)
    if not 0 <= k <= x.shape[dim]:
        raise ValueError(f"topk: k={k} is out of range for dimension {dim} of size {x.shape[dim]}")
    idx = api.getitem(sort(x, dim, descending=largest).indices, _slice_along(x.ndim, dim, k))._data
    return ValuesIndices(api.gather(x, dim, idx), Tensor(idx))


def _slice_along(ndim, dim, k):
    return (slice(None),) * (dim % ndim) + (slice(0, k),)


def kthvalue(x: TensorLike, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    x = as_tensor(x)
    idx = np.take(np.argsort(x._data, axis=dim, kind="stable"), [k - 1], axis=dim)
    values, indices = api.gather(x, dim, idx), Tensor(idx)
    return ValuesIndices(values, indices) if keepdim else ValuesIndices(api.squeeze(values, dim),
                                                                         api.squeeze(indices, dim))


def norm(x: TensorLike, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector p-norm over `dim` (all elements by default): p = 2 / "fro", 1, inf, -inf or any p > 0."""
    x = as_tensor(x) if dtype is None else api.astype(x, dtype)
    if p in ("fro", 2, 2.0):
        return api.sqrt(api.sum(x * x, dim, keepdim))
    if p in (float("inf"), "inf"):
        return api.amax(api.abs(x), dim, keepdim)
    if p in (float("-inf"), "-inf"):
        return api.amin(api.abs(x), dim, keepdim)
    if p == 1:
        return api.sum(api.abs(x), dim, keepdim)
    if isinstance(p, (int, float)) and p > 0:
        return api.pow(api.sum(api.pow(api.abs(x), float(p)), dim, keepdim), 1.0 / p)
    raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r} (nuclear norm: nn.utils)")


def dist(a: TensorLike, b: TensorLike, p: float = 2) -> Tensor:
    return norm(api.sub(a, b), p)


# ------------------------------------------------------------- elementwise math
def sin(x: TensorLike) -> Tensor:
    return M.Sin.apply(as_tensor(x))


def cos(x: TensorLike) -> Tensor:
    return M.Cos.apply(as_tensor(x))


def tan(x: TensorLike) -> Tensor:
    return api.div(sin(x), cos(x))


def exp2(x: TensorLike) -> Tensor:
    return api.exp(api.mul(_float(x), math.log(2.0)))


def log2(x: TensorLike) -> Tensor:
    return api.div(api.log(_float(x)), math.log(2.0))


def log10(x: TensorLike) -> Tensor:
    return api.div(api.log(_float(x)), math.log(10.0))


def log1p(x: TensorLike) -> Tensor:
    return M.Log1p.apply(_float(x))


def expm1(x: TensorLike) -> Tensor:
    return M.Expm1.apply(_float(x))


def rsqrt(x: TensorLike) -> Tensor:
    return api.div(1.0, api.sqrt(_float(x)))


def square(x: TensorLike) -> Tensor:
    return api.mul(x, x)


def reciprocal(x: TensorLike) -> Tensor:
    return api.div(1.0, _float(x))


def _float(x):
    x = as_tensor(x)
    return x if x.dtype.kind == "f" else api.astype(x, DEFAULT_FLOAT)


def _piecewise_constant(fn, name):
    def op(x: TensorLike) -> Tensor:
        return M.PiecewiseConstant.apply(as_tensor(x), fn=fn)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; its gradient is zero (as PyTorch's)."
    return op


floor, ceil, trunc, sign = (_piecewise_constant(f, n) for f, n in
                            ((np.floor, "floor"), (np.ceil, "ceil"), (np.trunc, "trunc"), (np.sign, "sign")))


def round(x: TensorLike, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even (as PyTorch and NumPy), to `decimals` places; zero gradient."""
    return M.PiecewiseConstant.apply(as_tensor(x), fn=lambda a: np.round(a, decimals))
