"""`TensorOps`: the backward vocabulary of `autograd.function.ArrayOps`, on Tensors.

With `create_graph=True` the engine runs each op's one `backward` with `ctx.xp = TensorOps`,
so the same lines that compute a gradient on arrays record it as a graph of ops on Tensors
(differentiable again: Hessian-vector products, gradient penalties).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, binary_operands
from . import api
from . import elementwise as E
from . import shape as S


class TensorOps:
    """Same names and meanings as `ArrayOps`; arguments may be Tensors, arrays or numbers."""

    exp = staticmethod(api.exp)
    log = staticmethod(api.log)
    sqrt = staticmethod(api.sqrt)
    tanh = staticmethod(api.tanh)

    @staticmethod
    def data(x):
        return x._data if isinstance(x, Tensor) else np.asarray(x)

    @staticmethod
    def constant(array, dtype):
        return Tensor._from_op(np.asarray(array._data if isinstance(array, Tensor) else array, dtype=dtype), None)

    @staticmethod
    def where(cond, a, b):
        """a where the bool array `cond` holds, else b (cond is not differentiated)."""
        cond = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
        a, b = binary_operands(a, b)
        return E.Where.apply(a, b, cond=cond.astype(bool, copy=False))

    @staticmethod
    def permute(x, axes):
        return api.permute(x, tuple(axes))

    @staticmethod
    def expand_dims(x, axes):
        axes = (axes,) if isinstance(axes, int) else tuple(axes)
        ndim = x.ndim + len(axes)
        axes = sorted(a % ndim for a in axes)
        shape = list(x.shape)
        for a in axes:
            shape.insert(a, 1)
        return api.reshape(x, tuple(shape))

    @staticmethod
    def broadcast_to(x, shape):
        return api.expand(x, tuple(shape))

    @staticmethod
    def swapaxes(x, a, b):
        return api.transpose(x, a, b)

    @staticmethod
    def matmul(a, b, trans_a=False, trans_b=False):
        return api.matmul(api.transpose(a, -1, -2) if trans_a else a, api.transpose(b, -1, -2) if trans_b else b)

    @staticmethod
    def scatter(x, index, shape, unique=False):
        return S.Scatter.apply(x, index=index, shape=shape, unique=unique)


Function.graph_xp = TensorOps
