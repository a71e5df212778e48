"""The one table of Tensor methods: each is a function of `ops.api`, attached to `Tensor`.

`x.exp()` *is* `dn.exp(x)`, `x.sum(1)` is `dn.sum(x, 1)`, `x + y` is `dn.add(x, y)`:
one function, so a method and the top-level function cannot drift apart. The
reflected operators (`2 - x`) swap their operands. `autograd/tensor.py` holds the
data structure; this module gives it its math.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from . import api
from . import in_place as I
from . import tensor_api as T
from . import tensor_math as TM
from . import tensor_more as TX

# method name -> the function it is (the tensor is the first argument)
METHODS = {
    # conversion
    "astype": api.astype, "clone": api.clone,
    # arithmetic and math
    "add": api.add, "sub": api.sub, "mul": api.mul, "div": api.div, "neg": api.neg, "pow": api.pow,
    "matmul": api.matmul, "exp": api.exp, "log": api.log, "sqrt": api.sqrt, "abs": api.abs,
    "maximum": api.maximum, "minimum": api.minimum, "clamp": api.clamp, "clip": api.clamp,
    "sigmoid": api.sigmoid, "tanh": api.tanh, "relu": api.relu,
    "softmax": api.softmax, "log_softmax": api.log_softmax,
    # reductions
    "sum": api.sum, "mean": api.mean, "var": api.var, "std": api.std, "amax": api.amax, "amin": api.amin,
    "max": api.max, "min": api.min, "argmax": api.argmax, "argmin": api.argmin, "logsumexp": api.logsumexp,
    # shape
    "reshape": api.reshape, "view": api.reshape, "flatten": api.flatten, "permute": api.permute,
    "transpose": api.transpose, "expand": api.expand, "squeeze": api.squeeze, "unsqueeze": api.unsqueeze,
    "split": api.split, "gather": api.gather,
    # operators
    "__add__": api.add, "__sub__": api.sub, "__mul__": api.mul, "__truediv__": api.div, "__pow__": api.pow,
    "__matmul__": api.matmul, "__neg__": api.neg, "__abs__": api.abs, "__getitem__": api.getitem, "__setitem__": api.setitem,
}

# PyTorch's other tensor methods that tutorials use (ops/tensor_api.py)
TORCH_METHODS = {
    "to": T.to, "cpu": T.cpu_, "cuda": T.cuda, "type": T.type_, "type_as": T.type_as, "size": T.size,
    "is_floating_point": T.is_floating_point, "element_size": T.element_size,
    "view_as": T.view_as, "reshape_as": T.reshape_as, "expand_as": T.expand_as, "t": T.t, "mm": T.mm, "bmm": T.bmm,
    "narrow": T.narrow, "chunk": T.chunk, "unbind": T.unbind, "new_zeros": T.new_zeros, "new_ones": T.new_ones,
    "new_full": T.new_full, "new_empty": T.new_empty, "new_tensor": T.new_tensor,
    "eq": T.eq, "ne": T.ne, "gt": T.gt, "lt": T.lt, "ge": T.ge, "le": T.le, "equal": T.equal,
    "isclose": T.isclose, "allclose": T.allclose, "masked_fill": T.masked_fill, "any": T.any, "all": T.all,
    "count_nonzero": T.count_nonzero, "nonzero": T.nonzero, "unique": T.unique,
    "sort": TM.sort, "argsort": TM.argsort, "topk": TM.topk, "kthvalue": TM.kthvalue, "norm": TM.norm, "dist": TM.dist,
    "sin": TM.sin, "cos": TM.cos, "tan": TM.tan, "exp2": TM.exp2, "log2": TM.log2, "log10": TM.log10, "log1p": TM.log1p,
    "expm1": TM.expm1, "rsqrt": TM.rsqrt, "square": TM.square, "reciprocal": TM.reciprocal, "floor": TM.floor,
    "ceil": TM.ceil, "trunc": TM.trunc, "sign": TM.sign, "round": TM.round, "where": lambda x, cond, y: api.where(cond, x, y),
    "add_": I.add_, "sub_": I.sub_, "mul_": I.mul_, "div_": I.div_, "clamp_": I.clamp_, "clip_": I.clamp_,
    "pow_": I.pow_, "neg_": I.neg_, "abs_": I.abs_, "exp_": I.exp_, "sqrt_": I.sqrt_, "masked_fill_": I.masked_fill_,
    "fill_": I.fill_, "zero_": I.zero_, "copy_": I.copy_, "uniform_": I.uniform_, "normal_": I.normal_,
    "unsqueeze_": I.unsqueeze_, "squeeze_": I.squeeze_, "t_": I.t_,
    "__bool__": T.bool_, "__index__": T.index_, "__int__": T.int_, "__float__": T.float_, "__format__": T.format_,
}

# reflected operators: `other OP x` with the tensor on the right
REFLECTED = {"__radd__": api.add, "__rsub__": api.sub, "__rmul__": api.mul, "__rtruediv__": api.div,
             "__rpow__": api.pow, "__rmatmul__": api.matmul}

# comparisons give a bool tensor outside the graph
COMPARISONS = {"__lt__": np.less, "__le__": np.less_equal, "__gt__": np.greater, "__ge__": np.greater_equal,
               "__eq__": np.equal, "__ne__": np.not_equal}

# dtype shorthands, as PyTorch's
CASTS = {"float": np.float32, "double": np.float64, "long": np.int64, "int": np.int32, "bool": np.bool_,
         "half": np.float16, "short": np.int16, "char": np.int8, "byte": np.uint8}


def _reflected(fn):
    def method(self, other):
        return fn(other, self)

    method.__name__, method.__doc__ = fn.__name__, f"`other {fn.__name__} self` ({fn.__name__} with operands swapped)."
    return method


def _comparison(ufunc):
    def method(self, other):
        return Tensor(ufunc(self._data, other._data if isinstance(other, Tensor) else other))

    method.__name__ = ufunc.__name__
    return method


def _cast(dtype):
    def method(self):
        return api.astype(self, dtype)

    method.__name__ = np.dtype(dtype).name
    return method


def _attach():
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    for name, fn in REFLECTED.items():
        setattr(Tensor, name, _reflected(fn))
    for name, ufunc in COMPARISONS.items():
        setattr(Tensor, name, _comparison(ufunc))
    for name, dtype in CASTS.items():
        setattr(Tensor, name, _cast(dtype))
    for name, fn in TORCH_METHODS.items():
        setattr(Tensor, name, fn)
    for name in TX.METHODS:
        setattr(Tensor, name, getattr(TX, name))
    Tensor.swapaxes = api.transpose
    for name, fn in (("relu_", api.relu), ("sigmoid_", api.sigmoid), ("tanh_", api.tanh), ("log_", api.log)):
        setattr(Tensor, name, I._in_place(fn, name))
    Tensor.clamp_min = lambda self, min: api.clamp(self, min=min)
    Tensor.clamp_max = lambda self, max: api.clamp(self, max=max)
    for name, fn in I.AUGMENTED.items():
        setattr(Tensor, name, I._augmented(fn, name))
    Tensor.device = property(T.device_of)
    Tensor.is_cuda = property(lambda self: False)
    Tensor.contiguous = lambda self: self  # arrays here have no layout to fix
    Tensor.T = property(lambda self: api.permute(self, *reversed(range(self.ndim))))
    Tensor.mT = property(lambda self: api.transpose(self, -2, -1))
    Tensor.__hash__ = object.__hash__  # defining __eq__ would otherwise drop it


_attach()
