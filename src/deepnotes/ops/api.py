"""The tensor functions, written once: `dn.exp(x)` and `x.exp()` are the same function.

Each is a thin wrapper over a `Function` of the families in this package, with
PyTorch's name and signature; `ops/tensor_methods.py` attaches them to `Tensor`
as methods and operators (`x.sum(1)`, `x + y`, `x[0]`), so a method and the
top-level function cannot drift apart.  Where PyTorch's method takes varargs
(`x.reshape(2, 3)`) the function accepts both forms (`dn.reshape(x, (2, 3))`).

Longer than 400 lines on purpose: this is the one list of tensor functions (the rest of
PyTorch's surface is in `tensor_api.py` and `tensor_math.py`); splitting it would make two.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import builtins

import numpy as np

from .._checks import check_dim, check_index_range
from ..errors import DTypeError, ShapeError
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor, TensorLike, as_tensor, binary_operands, true_divide_operands
from . import activation as A
from . import elementwise as E
from . import matmul as M
from . import reduce as R
from . import shape as S

_python_sum = builtins.sum  # `sum` below is the tensor reduction

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def check_matmul(a, b):
    """The error for a @ b of arrays whose dtypes or shapes PyTorch refuses to multiply."""
    if not a.ndim or not b.ndim:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    inner = b.shape[-2 if b.ndim > 1 else 0]
    if a.shape[-1] != inner:
        raise ShapeError(f"matmul: the inner dimensions differ: a {a.shape} @ b {b.shape} needs a's last size "
                         f"({a.shape[-1]}) to equal b's {'second-to-last' if b.ndim > 1 else 'only'} size ({inner})")
    if a.dtype != b.dtype:
        raise DTypeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}; "
                         "cast one (x.float(), x.double() or x.astype(...))")


def _dims(dims):
    """Accept f(x, 2, 3) as well as f(x, (2, 3)) (PyTorch's varargs methods)."""
    return tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else tuple(dims)


def _alias(dim, axis, keepdim, keepdims):
    """Accept NumPy's `axis`/`keepdims` as well as PyTorch's `dim`/`keepdim`."""
    return (axis if dim is None else dim), (keepdim if keepdims is None else keepdims)


def _index_array(index):
    return index._data if isinstance(index, Tensor) else np.asarray(index)


def _plain_index(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index._data if isinstance(index, Tensor) else index


# ------------------------------------------------------------------ conversion
def astype(x: TensorLike, dtype) -> Tensor:
    """`x` as `dtype` (the same tensor when it already is); differentiable between float dtypes."""
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if x.requires_grad and dtype.kind == "f":
        return E.Cast.apply(x, dtype=dtype)
    return Tensor(x._data.astype(dtype))


def clone(x: TensorLike) -> Tensor:
    """A copy that stays in the graph (its gradient flows back to `x`)."""
    x = as_tensor(x)
    return E.Cast.apply(x, dtype=x.dtype, copy=True)


# ------------------------------------------------------------------ arithmetic


def add(a: TensorLike, b: TensorLike) -> Tensor:
    return E.Add.apply(*binary_operands(a, b))


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    return E.Sub.apply(*binary_operands(a, b))


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    return E.Mul.apply(*binary_operands(a, b))


def div(a: TensorLike, b: TensorLike) -> Tensor:
    """True division: integer / integer gives float32, as torch.div."""
    return E.Div.apply(*true_divide_operands(a, b))


def neg(x: TensorLike) -> Tensor:
    return E.Neg.apply(as_tensor(x))


def pow(x: TensorLike, exponent: TensorLike) -> Tensor:  # noqa: A001 - PyTorch's name
    return E.Pow.apply(*binary_operands(x, exponent))


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """a @ b with np.matmul's rules for 1-d and batched operands; as PyTorch, both must be at
    least 1-d, of one dtype (float32 @ float64 is refused, not promoted) and agree on the inner size."""
    a, b = as_tensor(a), as_tensor(b)
    ad, bd = a._data, b._data
    if ad.dtype != bd.dtype or not ad.ndim or not bd.ndim or ad.shape[-1] != bd.shape[-2 if bd.ndim > 1 else 0]:
        check_matmul(ad, bd)
    return M.MatMul.apply(a, b)


def exp(x: TensorLike) -> Tensor:
    return E.Exp.apply(as_tensor(x))


def log(x: TensorLike) -> Tensor:
    return E.Log.apply(as_tensor(x))


def sqrt(x: TensorLike) -> Tensor:
    return E.Sqrt.apply(as_tensor(x))


def abs(x: TensorLike) -> Tensor:  # noqa: A001 - PyTorch's name
    return E.Abs.apply(as_tensor(x))


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise max; on ties each argument gets half the gradient (torch.maximum)."""
    return E.Maximum.apply(*binary_operands(a, b))


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise min; on ties each argument gets half the gradient (torch.minimum)."""
    return E.Minimum.apply(*binary_operands(a, b))


def clamp(x: TensorLike, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return E.Clip.apply(as_tensor(x), low=min, high=max)


clip = clamp


def where(condition: TensorLike, a: TensorLike, b: TensorLike) -> Tensor:
    """Elements of `a` where `condition` holds, else of `b` (all three broadcast together).

    `a` and `b` may be Tensors or numbers; a number takes the other side's dtype.
    """
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor(a)
    return E.Where.apply(*binary_operands(a, b), cond=cond.astype(bool))


# ------------------------------------------------------------------ reductions
def sum(x: TensorLike, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:  # noqa: A001
    x = as_tensor(x)
    dim, keepdim = _alias(dim, axis, keepdim, keepdims)
    return R.Sum.apply(x, axes=R.normalize_dims(dim, x.ndim), keepdim=keepdim)


def mean(x: TensorLike, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    x = as_tensor(x)
    dim, keepdim = _alias(dim, axis, keepdim, keepdims)
    return R.Mean.apply(x, axes=R.normalize_dims(dim, x.ndim), keepdim=keepdim)


def var(x: TensorLike, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None) -> Tensor:
    """Variance; unbiased (correction=1) by default, as in PyTorch."""
    x = as_tensor(x)
    dim, keepdim = _alias(dim, axis, keepdim, keepdims)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return R.Var.apply(x, axes=R.normalize_dims(dim, x.ndim), correction=correction, keepdim=keepdim)


def std(x: TensorLike, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


def amax(x: TensorLike, dim=None, keepdim: bool = False) -> Tensor:
    x = as_tensor(x)
    return R.Amax.apply(x, axes=R.normalize_dims(dim, x.ndim), keepdim=keepdim)


def amin(x: TensorLike, dim=None, keepdim: bool = False) -> Tensor:
    x = as_tensor(x)
    return R.Amin.apply(x, axes=R.normalize_dims(dim, x.ndim), keepdim=keepdim)


def max(x: TensorLike, dim=None, keepdim: bool = False):  # noqa: A001
    """Without `dim`: the maximum (ties share the gradient).  With an int `dim`:
    (values, indices) as in PyTorch, the gradient going to the returned index."""
    if dim is None:
        return amax(x)
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return maximum(x, dim)
    x = as_tensor(x)
    return ValuesIndices(R.MaxAlongDim.apply(x, dim=dim, keepdim=keepdim), argmax(x, dim, keepdim))


def min(x: TensorLike, dim=None, keepdim: bool = False):  # noqa: A001
    if dim is None:
        return amin(x)
    if isinstance(dim, Tensor):  # torch.min(a, b): the elementwise minimum
        return minimum(x, dim)
    x = as_tensor(x)
    return ValuesIndices(R.MinAlongDim.apply(x, dim=dim, keepdim=keepdim), argmin(x, dim, keepdim))


def _arg_reduce(fn, data, dim, keepdim):
    if dim is not None:
        dim = check_dim(fn.__name__, dim, data.ndim)
    if dim is None:
        out = fn(data)
        return np.asarray(out).reshape((1,) * data.ndim) if keepdim else np.asarray(out)
    out = fn(data, axis=dim)
    return np.expand_dims(out, dim) if keepdim else out


def argmax(x: TensorLike, dim=None, keepdim: bool = False) -> Tensor:
    return Tensor(_arg_reduce(np.argmax, as_tensor(x)._data, dim, keepdim))


def argmin(x: TensorLike, dim=None, keepdim: bool = False) -> Tensor:
    return Tensor(_arg_reduce(np.argmin, as_tensor(x)._data, dim, keepdim))


def logsumexp(x: TensorLike, dim=None, keepdim: bool = False) -> Tensor:
    x = as_tensor(x)
    return R.LogSumExp.apply(x, axes=R.normalize_dims(dim, x.ndim), keepdim=keepdim)


# ----------------------------------------------------------------------- shape
def reshape(x: TensorLike, *shape) -> Tensor:
    return S.Reshape.apply(as_tensor(x), shape=_dims(shape))


def flatten(x: TensorLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    x = as_tensor(x)
    start, end = check_dim("flatten", start_dim, x.ndim, "start_dim"), check_dim("flatten", end_dim, x.ndim, "end_dim")
    if x.ndim == 0:
        return reshape(x, 1)
    if start > end:
        raise ValueError(f"flatten: start_dim={start_dim} cannot come after end_dim={end_dim} (shape {tuple(x.shape)})")
    # the flattened size spelled out, not -1: with a size-0 axis elsewhere -1 would be ambiguous
    return reshape(x, x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1 :])


def permute(x: TensorLike, *dims) -> Tensor:
    x = as_tensor(x)
    axes = tuple(check_dim("permute", d, x.ndim) for d in _dims(dims))
    if len(axes) != x.ndim or len(set(axes)) != x.ndim:
        raise ShapeError(f"permute: dims {_dims(dims)} must name each of the {x.ndim} dims of a tensor of "
                         f"shape {tuple(x.shape)} exactly once")
    return S.Permute.apply(x, axes=axes)


def transpose(x: TensorLike, dim0: int, dim1: int) -> Tensor:
    x = as_tensor(x)
    axes = list(range(x.ndim))
    dim0, dim1 = check_dim("transpose", dim0, x.ndim, "dim0"), check_dim("transpose", dim1, x.ndim, "dim1")
    if x.ndim == 0:
        return S.Permute.apply(x, axes=())
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return S.Permute.apply(x, axes=tuple(axes))


def expand(x: TensorLike, *shape) -> Tensor:
    x = as_tensor(x)
    shape = _dims(shape)
    lead = len(shape) - x.ndim
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return S.Expand.apply(x, shape=full)


def squeeze(x: TensorLike, dim=None) -> Tensor:
    x = as_tensor(x)
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = {check_dim("squeeze", d, x.ndim) for d in ((dim,) if isinstance(dim, (int, np.integer)) else dim)}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x: TensorLike, dim) -> Tensor:
    x = as_tensor(x)
    dim = check_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def getitem(x: TensorLike, index) -> Tensor:
    """x[index] (basic and advanced indexing); the gradient scatters back."""
    return S.GetItem.apply(as_tensor(x), index=_plain_index(index))


def setitem(x: TensorLike, index, value) -> None:
    """x[index] = value, in place; refused on a tensor that requires grad while grad mode is on."""
    if x.requires_grad and is_grad_enabled():
        raise RuntimeError(
            "Tensor.__setitem__: in-place assignment into a tensor that requires grad would "
            "corrupt its gradient; do it under dn.no_grad() or build a new tensor"
        )
    x._data[_plain_index(index)] = value._data if isinstance(value, Tensor) else value


def cat(tensors: Sequence[TensorLike], dim=0) -> Tensor:
    """Concatenate along an existing axis (torch.cat)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    return S.Concatenate.apply(*tensors, axis=check_dim("cat", dim, tensors[0].ndim))


concatenate = cat


def stack(tensors: Sequence[TensorLike], dim=0) -> Tensor:
    """Stack equal-shaped tensors along a new axis (torch.stack)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    return S.Stack.apply(*tensors, axis=dim % (tensors[0].ndim + 1))


def split(x: TensorLike, split_size_or_sections: int | Sequence[int], dim=0) -> tuple[Tensor, ...]:
    """Split into chunks of `split_size` (int) or of the given sizes (list), as torch.split."""
    x = as_tensor(x)
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if _python_sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {dim}")
    pieces, start = [], 0
    lead = (slice(None),) * (dim % x.ndim)
    for size in sizes:
        pieces.append(getitem(x, lead + (slice(start, start + size),)))
        start += size
    return tuple(pieces)


def gather(x: TensorLike, dim, index) -> Tensor:
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim=0, etc. (torch.gather).

    `index` has as many dimensions as `x` and may be smaller than it along the
    other dimensions; it does not broadcast.
    """
    x, index = as_tensor(x), _index_array(index)
    dim = check_dim("gather", dim, x.ndim)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"gather: expected an integer index tensor, got dtype {index.dtype}")
    if index.ndim == x.ndim:  # else Gather's forward names the mismatch
        check_index_range("gather", index, x.shape[dim] if x.ndim else 1, "index", negative=False)
    return S.Gather.apply(x, indices=index, axis=dim)


def take_along_dim(x: TensorLike, indices: TensorLike, dim) -> Tensor:
    """torch.take_along_dim: like gather, but `x` and `indices` broadcast on the other axes."""
    x = as_tensor(x)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    dim = check_dim("take_along_dim", dim, x.ndim)
    if idx.ndim != x.ndim:
        raise ShapeError(f"take_along_dim: indices must have as many dimensions as the input ({x.ndim}), "
                         f"got shape {idx.shape}")
    check_index_range("take_along_dim", idx, x.shape[dim], "index", negative=False)
    x_shape, idx_shape = list(x.shape), list(idx.shape)
    x_shape[dim] = idx_shape[dim] = 1
    common = list(np.broadcast_shapes(tuple(x_shape), tuple(idx_shape)))
    x_target, idx_target = list(common), list(common)
    x_target[dim], idx_target[dim] = x.shape[dim], idx.shape[dim]
    return gather(expand(x, tuple(x_target)), dim, np.broadcast_to(idx, tuple(idx_target)))


def pad_constant(x: TensorLike, pad_width: Sequence[Sequence[int]], value=0.0) -> Tensor:
    """NumPy-style constant padding: `pad_width` = ((before, after), ...) per axis."""
    return S.Pad.apply(as_tensor(x), pad_width=tuple(tuple(p) for p in pad_width), value=value)


# ----------------------------------------------------------------- activations
def sigmoid(x: TensorLike) -> Tensor:
    return A.Sigmoid.apply(as_tensor(x))


def tanh(x: TensorLike) -> Tensor:
    return A.Tanh.apply(as_tensor(x))


def relu(x: TensorLike) -> Tensor:
    return A.ReLU.apply(as_tensor(x))


def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    """z for z > 0, negative_slope * z otherwise (F.leaky_relu)."""
    return A.LeakyReLU.apply(as_tensor(x), negative_slope=negative_slope)


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """z for z > 0, alpha (e^z - 1) otherwise (F.elu; Clevert et al. 2016)."""
    return A.ELU.apply(as_tensor(x), alpha=alpha)


def prelu(x: TensorLike, weight: TensorLike) -> Tensor:
    """z for z > 0, weight * z otherwise; `weight` has 1 or C (axis 1) values (F.prelu)."""
    return A.PReLU.apply(as_tensor(x), as_tensor(weight))


def softmax(x: TensorLike, dim=-1, temperature: float = 1.0) -> Tensor:
    """exp(x / T) / sum exp(x / T) along `dim`, computed after subtracting the max (A5)."""
    return A.Softmax.apply(as_tensor(x), axis=dim, temperature=temperature)


def log_softmax(x: TensorLike, dim=-1, temperature: float = 1.0) -> Tensor:
    """log softmax(x / T) along `dim`, stable for any logits (A5)."""
    return A.LogSoftmax.apply(as_tensor(x), axis=dim, temperature=temperature)
