"""PyTorch's tensor functions beyond the core of `api.py`: conversion, views, comparisons, sorting,
norms, more elementwise math and the in-place forms (the names CPU tutorials use).

Each is written once and attached to `Tensor` by the method table in `tensor_methods.py`
(`x.eq(y)` is `dn.eq(x, y)`).  Everything differentiable is built from the differentiable
primitives (`api`, `ops.math`), so gradients need no new backward rules here.

In-place forms (`add_`, `mul_`, `fill_`, `x += y`, ...) follow PyTorch's autograd rule: on a
leaf that requires grad they raise unless grad mode is off (`with dn.no_grad():`), and they
write into the tensor's own array, so every tensor sharing it (a `state_dict()` entry, a
`detach()`ed alias) sees the change, as PyTorch's shared storage does.
"""
from __future__ import annotations

import math

import builtins

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import DEFAULT_FLOAT, Tensor, TensorLike, as_tensor
from ..device import check_device, cpu
from . import api
from . import elementwise_math as M
from .api import ValuesIndices


class Size(tuple):
    """A tensor's shape, as `torch.Size`: a tuple that prints as `deepnotes.Size([2, 3])`."""

    __slots__ = ()

    def __repr__(self):
        return f"deepnotes.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


def size(x: Tensor, dim: int | None = None):
    """The shape as a `Size`, or the length of dimension `dim` (negative counts from the end)."""
    return Size(x.data.shape) if dim is None else x.data.shape[dim]


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
    return int(as_tensor(x).data.size)


def element_size(x: Tensor) -> int:
    return int(x.data.itemsize)


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
        a = input.data if isinstance(input, Tensor) else np.asarray(input)
        b = other.data if isinstance(other, Tensor) else other
        return Tensor(ufunc(a, b))

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise {ufunc.__name__} as a bool tensor (outside the graph)."
    return compare


eq, ne = _compare(np.equal), _compare(np.not_equal)
gt, lt, ge, le = _compare(np.greater), _compare(np.less), _compare(np.greater_equal), _compare(np.less_equal)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def equal(input: TensorLike, other: TensorLike) -> bool:
    """True when both have the same shape and the same elements (torch.equal)."""
    a, b = as_tensor(input).data, as_tensor(other).data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def isclose(input: TensorLike, other: TensorLike, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol |other|, elementwise (torch.isclose)."""
    return Tensor(np.isclose(as_tensor(input).data, as_tensor(other).data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: TensorLike, other: TensorLike, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan).data))


def any(input: TensorLike, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Whether any element (along `dim`) is nonzero, as a bool tensor."""
    return Tensor(np.any(as_tensor(input).data, axis=dim, keepdims=keepdim))


def all(input: TensorLike, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Whether every element (along `dim`) is nonzero, as a bool tensor."""
    return Tensor(np.all(as_tensor(input).data, axis=dim, keepdims=keepdim))


def count_nonzero(input: TensorLike, dim=None) -> Tensor:
    return Tensor(np.asarray(np.count_nonzero(as_tensor(input).data, axis=dim), dtype=np.int64))


def nonzero(input: TensorLike, *, as_tuple: bool = False):
    """Indices of the nonzero elements: (n, ndim) int64, or one index tensor per dimension with as_tuple."""
    where = np.nonzero(as_tensor(input).data)
    if as_tuple:
        return tuple(Tensor(w.astype(np.int64)) for w in where)
    return Tensor(np.stack(where, axis=1).astype(np.int64))


def unique(input: TensorLike, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim=None):
    """The distinct values (sorted), optionally with the inverse indices and the counts (torch.unique)."""
    data = as_tensor(input).data
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
    m = np.broadcast_to(as_tensor(mask).data.astype(bool), x.shape)
    value = value.data.reshape(()).item() if isinstance(value, Tensor) else value
    return api.where(m, Tensor._from_op(np.asarray(value, dtype=x.dtype), None), x)


# --------------------------------------------------------------- sorting, norms
def sort(x: TensorLike, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    """(values, indices) sorted along `dim`; ties keep their order (a stable sort)."""
    x = as_tensor(x)
    key = -x.data if descending and x.dtype.kind != "b" else x.data
    if descending and x.dtype.kind == "b":
        key = ~x.data
    idx = np.argsort(key, axis=dim, kind="stable")
    return ValuesIndices(api.gather(x, dim, idx), Tensor(idx.astype(np.int64)))


def argsort(x: TensorLike, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(x, dim, descending, stable).indices


def topk(x: TensorLike, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:  # noqa: A002
    """The k largest (or smallest) values along `dim` and their indices, largest first (torch.topk)."""
    x = as_tensor(x)
    if not 0 <= k <= x.shape[dim]:
        raise ValueError(f"topk: k={k} is out of range for dimension {dim} of size {x.shape[dim]}")
    idx = api.getitem(sort(x, dim, descending=largest).indices, _slice_along(x.ndim, dim, k)).data
    return ValuesIndices(api.gather(x, dim, idx), Tensor(idx))


def _slice_along(ndim, dim, k):
    return (slice(None),) * (dim % ndim) + (slice(0, k),)


def kthvalue(x: TensorLike, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    x = as_tensor(x)
    idx = np.take(np.argsort(x.data, axis=dim, kind="stable"), [k - 1], axis=dim)
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
    values = np.asarray(values.data if isinstance(values, Tensor) else values)
    if not np.can_cast(values.dtype, x.dtype, casting="same_kind") and values.ndim:
        raise TypeError(f"Tensor.{name}: result type {values.dtype} cannot be stored in a {x.dtype} tensor")
    if x.data.flags.writeable:
        np.copyto(x.data, np.broadcast_to(values, x.shape), casting="unsafe")
    else:  # a read-only view (a broadcast or a constant): the tensor gets its own array
        x.data = np.array(np.broadcast_to(values, x.shape), dtype=x.dtype)
    return x


def _in_place(fn, name):
    def method(x: Tensor, *args, **kwargs) -> Tensor:
        _check_in_place(x, name)
        return _write(x, fn(Tensor._from_op(x.data, None), *args, **kwargs), name)

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
    return _write(x, np.asarray(value.data if isinstance(value, Tensor) else value, dtype=x.dtype), "fill_")


def zero_(x: Tensor) -> Tensor:
    return fill_(x, 0)


def copy_(x: Tensor, src: TensorLike, non_blocking: bool = False) -> Tensor:
    """Copy `src` (broadcast to x's shape, cast to x's dtype) into x."""
    _check_in_place(x, "copy_")
    return _write(x, np.asarray(as_tensor(src).data, dtype=x.dtype), "copy_")


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
        x.data = fn(Tensor._from_op(x.data, None), *args).data
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
        return _write(x, fn(Tensor._from_op(x.data, None), other), name)

    method.__name__ = name
    return method


AUGMENTED = {"__iadd__": api.add, "__isub__": api.sub, "__imul__": api.mul, "__itruediv__": api.div,
             "__ipow__": api.pow}


# ---------------------------------------------------------- Python protocols
def _one_element(x: Tensor, what: str):
    if x.data.size != 1:
        raise ValueError(f"Tensor.{what}: only a one-element tensor converts to a Python number, this one has "
                         f"shape {x.shape}")
    return x.data.reshape(()).item()


class AmbiguousTruthValue(ValueError, RuntimeError):
    """`if t:` on a tensor of several elements: a RuntimeError as in PyTorch (and a ValueError as in NumPy)."""


def bool_(x: Tensor) -> bool:
    if x.data.size != 1:
        raise AmbiguousTruthValue(f"Tensor: the truth value of a tensor of shape {x.shape} is ambiguous; "
                                  "use .any() or .all() (or compare one element)")
    return bool(x.data)


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
        return format(x.data.item(), format_spec)
    return object.__format__(x, format_spec)

