"""PyTorch's tensor functions beyond the core of `api.py`: conversion, devices, views, new tensors,
comparisons, reductions to booleans and Python's number protocols (the names CPU tutorials use).
Sorting, norms and more elementwise math are in `tensor_math.py`, the in-place forms in `in_place.py`.

Each is written once and attached to `Tensor` by the method table in `tensor_methods.py`
(`x.eq(y)` is `dn.eq(x, y)`).  Everything differentiable is built from the differentiable
primitives (`api`, `ops.math`), so gradients need no new backward rules here.

"""
from __future__ import annotations

import math

import builtins

import numpy as np

from ..autograd.tensor import Tensor, TensorLike, as_tensor
from ..device import check_device, cpu
from . import api


class Size(tuple):
    """A tensor's shape, as `torch.Size`: a tuple that prints as `deepnotes.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self):
        return f"deepnotes.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


def size(x: Tensor, dim: int | None = None):
    """The shape as a `Size`, or the length of dimension `dim` (negative counts from the end)."""
    return Size(x._data.shape) if dim is None else x._data.shape[dim]


# ------------------------------------------------------------------ conversion
def _dtype_of(value):
    try:
        return np.dtype(value)
    except TypeError:
        return None


def to(x: Tensor, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False,
       memory_format=None) -> Tensor:
    """`x.to(dtype)`, `x.to(device)`, `x.to(device, dtype)`, `x.to(other)` as in PyTorch.

    The device may be "cpu", a `deepnotes.device` or None; any other device raises (deepnotes
    computes with NumPy on the CPU).  Returns `x` itself when nothing changes (unless `copy`).
    """
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype if dtype is None else dtype
        elif isinstance(arg, (str, int)) or type(arg).__name__ == "device":
            device = arg
        elif arg is not None:
            if _dtype_of(arg) is None:
                raise TypeError(f"Tensor.to: expected a dtype, a device or a tensor, got {type(arg).__name__} {arg!r}")
            dtype = arg
    if device is not None:
        check_device(device, "Tensor.to")
    out = x if dtype is None else api.astype(x, dtype)
    return api.clone(out) if copy and out is x else out


def cpu_(x: Tensor, memory_format=None) -> Tensor:
    """The tensor itself: deepnotes tensors always live on the CPU."""
    return x


def cuda(x: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    """Always raises: deepnotes has no CUDA backend."""
    check_device("cuda", "Tensor.cuda")


_TYPE_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
               np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor",
               np.dtype(np.int32): "IntTensor", np.dtype(np.int16): "ShortTensor",
               np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor", np.dtype(np.bool_): "BoolTensor"}


def type_(x: Tensor, dtype=None, non_blocking: bool = False):
    """Without `dtype`: the type name (`'deepnotes.FloatTensor'`); with one: `x` cast to it."""
    if dtype is None:
        return f"deepnotes.{_TYPE_NAMES.get(x.dtype, str(x.dtype))}"
    if isinstance(dtype, str):
        names = {f"{prefix}.{v}": k for k, v in _TYPE_NAMES.items() for prefix in ("torch", "deepnotes")}
        if dtype not in names:
            raise TypeError(f"Tensor.type: unknown type name {dtype!r}, expected one of {sorted(names)}")
        dtype = names[dtype]
    return api.astype(x, dtype)


def type_as(x: Tensor, other: Tensor) -> Tensor:
    return api.astype(x, other.dtype)


def is_floating_point(x: TensorLike) -> bool:
    return as_tensor(x).dtype.kind == "f"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(x: TensorLike) -> int:
    return int(as_tensor(x)._data.size)


def element_size(x: Tensor) -> int:
    return int(x._data.itemsize)


def device_of(x: Tensor):
    return cpu


# ---------------------------------------------------------------- shape helpers
def view_as(x: Tensor, other: Tensor) -> Tensor:
    return api.reshape(x, other.shape)


reshape_as = view_as


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return api.expand(x, other.shape)


def t(x: TensorLike) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors are returned as they are (torch.t)."""
    x = as_tensor(x)
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dimensions, got {x.ndim} (use transpose or permute)")
    return x if x.ndim < 2 else api.transpose(x, 0, 1)


def mm(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product of two 2-d tensors (torch.mm; no broadcasting)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expects two 2-d tensors, got shapes {a.shape} and {b.shape} (use matmul to broadcast)")
    return api.matmul(a, b)


def bmm(a: TensorLike, b: TensorLike) -> Tensor:
    """Batched matrix product of (B, n, m) and (B, m, p) tensors (torch.bmm)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: expects (B, n, m) and (B, m, p) tensors, got shapes {a.shape} and {b.shape}")
    return api.matmul(a, b)


def narrow(x: TensorLike, dim: int, start: int, length: int) -> Tensor:
    x = as_tensor(x)
    dim = dim % x.ndim
    return api.getitem(x, (slice(None),) * dim + (slice(start, start + length),))


def chunk(x: TensorLike, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` pieces of ceil(n / chunks) along `dim` (torch.chunk)."""
    x = as_tensor(x)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    return api.split(x, builtins.max(1, math.ceil(x.shape[dim] / chunks)), dim)


def unbind(x: TensorLike, dim: int = 0) -> tuple[Tensor, ...]:
    x = as_tensor(x)
    return tuple(api.squeeze(p, dim) for p in api.split(x, 1, dim))


def _new(x: Tensor, fill, size, dtype, requires_grad):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    return Tensor(np.full(shape, fill, dtype=x.dtype if dtype is None else np.dtype(dtype)),
                  requires_grad=requires_grad)


def new_zeros(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of `size` with `x`'s dtype unless `dtype` is given."""
    return _new(x, 0, size, dtype, requires_grad)


def new_ones(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new(x, 1, size, dtype, requires_grad)


def new_full(x: Tensor, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new(x, fill_value, (size,), dtype, requires_grad)


def new_empty(x: Tensor, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _new(x, 0, size, dtype, requires_grad)


def new_tensor(x: Tensor, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.array(data, dtype=x.dtype if dtype is None else np.dtype(dtype)), requires_grad=requires_grad)


# ------------------------------------------------------------------ comparisons
def _compare(ufunc):
    def compare(input: TensorLike, other: TensorLike) -> Tensor:
        a = input._data if isinstance(input, Tensor) else np.asarray(input)
        b = other._data if isinstance(other, Tensor) else other
        return Tensor(ufunc(a, b))

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise {ufunc.__name__} as a bool tensor (outside the graph)."
    return compare


eq, ne = _compare(np.equal), _compare(np.not_equal)
gt, lt, ge, le = _compare(np.greater), _compare(np.less), _compare(np.greater_equal), _compare(np.less_equal)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def equal(input: TensorLike, other: TensorLike) -> bool:
    """True when both have the same shape and the same elements (torch.equal)."""
    a, b = as_tensor(input)._data, as_tensor(other)._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def isclose(input: TensorLike, other: TensorLike, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol |other|, elementwise (torch.isclose)."""
    return Tensor(np.isclose(as_tensor(input)._data, as_tensor(other)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: TensorLike, other: TensorLike, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def any(input: TensorLike, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Whether any element (along `dim`) is nonzero, as a bool tensor."""
    return Tensor(np.any(as_tensor(input)._data, axis=dim, keepdims=keepdim))


def all(input: TensorLike, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Whether every element (along `dim`) is nonzero, as a bool tensor."""
    return Tensor(np.all(as_tensor(input)._data, axis=dim, keepdims=keepdim))


def count_nonzero(input: TensorLike, dim=None) -> Tensor:
    return Tensor(np.asarray(np.count_nonzero(as_tensor(input)._data, axis=dim), dtype=np.int64))


def nonzero(input: TensorLike, *, as_tuple: bool = False):
    """Indices of the nonzero elements: (n, ndim) int64, or one index tensor per dimension with as_tuple."""
    where = np.nonzero(as_tensor(input)._data)
    if as_tuple:
        return tuple(Tensor(w.astype(np.int64)) for w in where)
    return Tensor(np.stack(where, axis=1).astype(np.int64))


def unique(input: TensorLike, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim=None):
    """The distinct values (sorted), optionally with the inverse indices and the counts (torch.unique)."""
    data = as_tensor(input)._data
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=dim)
    out = [Tensor(values)]
    if return_inverse:
        out.append(Tensor(inverse.reshape(data.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def masked_fill(x: TensorLike, mask: TensorLike, value) -> Tensor:
    """`value` where the bool `mask` (broadcast to x's shape) is True, else x; the gradient flows where not."""
    x = as_tensor(x)
    m = np.broadcast_to(as_tensor(mask)._data.astype(bool), x.shape)
    value = value._data.reshape(()).item() if isinstance(value, Tensor) else value
    return api.where(m, Tensor._from_op(np.asarray(value, dtype=x.dtype), None), x)


# ---------------------------------------------------------- Python protocols
def _one_element(x: Tensor, what: str):
    if x._data.size != 1:
        raise ValueError(f"Tensor.{what}: only a one-element tensor converts to a Python number, this one has "
                         f"shape {x.shape}")
    return x._data.reshape(()).item()


class AmbiguousTruthValue(ValueError, RuntimeError):
    """`if t:` on a tensor of several elements: a RuntimeError as in PyTorch (and a ValueError as in NumPy)."""


def bool_(x: Tensor) -> bool:
    if x._data.size != 1:
        raise AmbiguousTruthValue(f"Tensor: the truth value of a tensor of shape {x.shape} is ambiguous; "
                                  "use .any() or .all() (or compare one element)")
    return bool(x._data)


def index_(x: Tensor) -> int:
    if x.dtype.kind not in "iub":
        raise TypeError(f"Tensor.__index__: only integer tensors can be used as an index, got dtype {x.dtype}")
    return int(_one_element(x, "__index__"))


def int_(x: Tensor) -> int:
    return int(_one_element(x, "__int__"))


def float_(x: Tensor) -> float:
    return float(_one_element(x, "__float__"))


def format_(x: Tensor, format_spec: str) -> str:
    """`'{:.2f}'.format(t)` formats a 0-d tensor's number; other tensors only take an empty spec (PyTorch)."""
    if x.ndim == 0:
        return format(x._data.item(), format_spec)
    return object.__format__(x, format_spec)

