"""More of PyTorch's tensor functions that scripts use, each built from the differentiable ops.

Masks (`tril`, `triu`), reordering (`flip`, `roll`, `index_select`, `repeat`, `tile`,
`repeat_interleave`, `movedim`), small products (`outer`, `dot`, `mv`, `addmm`, `lerp`), diagonals
(`diag`, `diagonal`, `trace`), `cumsum`, NaN handling (`isnan`, `isinf`, `isfinite`, `nan_to_num`),
logical ops, and sampling (`multinomial`, `bernoulli`).  Names, arguments and results are
PyTorch's; the gradients come from the ops they are written with (`getitem`'s scatter-add for
the index-based ones), so each is checked against PyTorch's values and gradients in tests/compat.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, TensorLike, as_tensor
from . import api


def _axis(x: Tensor, dim: int, fn: str) -> int:
    if not -x.ndim <= dim < max(x.ndim, 1):
        raise IndexError(f"{fn}: dim {dim} is out of range for a tensor of {x.ndim} dimensions")
    return dim % max(x.ndim, 1)


# ------------------------------------------------------------------ masks and logic
def _keep(x: TensorLike, mask: np.ndarray) -> Tensor:
    x = as_tensor(x)
    return api.where(Tensor(np.broadcast_to(mask, x.shape)), x, Tensor(np.zeros((), dtype=x.dtype)))


def tril(input: TensorLike, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (j - i <= diagonal), zeros above."""
    x = as_tensor(input)
    return _keep(x, np.tril(np.ones(x.shape[-2:], dtype=bool), diagonal))


def triu(input: TensorLike, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (j - i >= diagonal), zeros below."""
    x = as_tensor(input)
    return _keep(x, np.triu(np.ones(x.shape[-2:], dtype=bool), diagonal))


def _predicate(ufunc):
    def fn(input: TensorLike, *others) -> Tensor:
        return Tensor(ufunc(as_tensor(input)._data, *[as_tensor(o)._data for o in others]))

    fn.__name__ = ufunc.__name__
    return fn


isnan, isinf, isfinite = _predicate(np.isnan), _predicate(np.isinf), _predicate(np.isfinite)
logical_not, logical_and = _predicate(np.logical_not), _predicate(np.logical_and)
logical_or, logical_xor = _predicate(np.logical_or), _predicate(np.logical_xor)


def nan_to_num(input: TensorLike, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN -> nan, +inf -> posinf (default: the dtype's largest), -inf -> neginf; the gradient passes elsewhere."""
    x = as_tensor(input)
    info = np.finfo(x.dtype) if x.dtype.kind == "f" else None
    if info is None:
        return x.clone()
    for where, value in ((np.isnan(x._data), nan), (np.isposinf(x._data), info.max if posinf is None else posinf),
                         (np.isneginf(x._data), info.min if neginf is None else neginf)):
        if where.any():
            x = api.where(Tensor(where), Tensor(np.asarray(value, dtype=x.dtype)), x)
    return x


# ------------------------------------------------------------------ reordering by index
def index_select(input: TensorLike, dim: int, index: TensorLike) -> Tensor:
    """The slices `index` (1-D ints) of `input` along `dim`; repeated indices add their gradients."""
    x = as_tensor(input)
    d = _axis(x, dim, "index_select")
    return api.getitem(x, (slice(None),) * d + (np.asarray(as_tensor(index)._data, dtype=np.int64).reshape(-1),))


def flip(input: TensorLike, dims) -> Tensor:
    x = as_tensor(input)
    index = [slice(None)] * x.ndim
    for d in (dims,) if isinstance(dims, int) else dims:
        index[_axis(x, d, "flip")] = slice(None, None, -1)
    return api.getitem(x, tuple(index))


def roll(input: TensorLike, shifts, dims=None) -> Tensor:
    """Elements shifted by `shifts` along `dims` (the flattened tensor when dims is None), wrapping round."""
    x = as_tensor(input)
    if dims is None:
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    for shift, d in zip(shifts, dims):
        n = x.shape[_axis(x, d, "roll")]
        x = index_select(x, d, (np.arange(n) - shift) % n)
    return x


def repeat(input: TensorLike, *sizes) -> Tensor:
    """Tensor.repeat: the tensor tiled `sizes[d]` times along each dim (leading new dims allowed)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes
    x = as_tensor(input)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes for a tensor of {x.ndim} dimensions; give at least one per dim")
    x = x.reshape((1,) * (len(sizes) - x.ndim) + tuple(x.shape))
    for d, r in enumerate(sizes):
        if r != 1:
            x = index_select(x, d, np.tile(np.arange(x.shape[d]), r))
    return x


def tile(input: TensorLike, dims) -> Tensor:
    x = as_tensor(input)
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(input: TensorLike, repeats, dim: int | None = None) -> Tensor:
    """Each element (or slice along `dim`) repeated `repeats` times in place: [1, 2] -> [1, 1, 2, 2]."""
    x = as_tensor(input)
    if dim is None:
        x, dim = x.reshape(-1), 0
    n = x.shape[_axis(x, dim, "repeat_interleave")]
    counts = np.asarray(as_tensor(repeats)._data if isinstance(repeats, Tensor) else repeats, dtype=np.int64)
    return index_select(x, dim, np.repeat(np.arange(n), counts))


def movedim(input: TensorLike, source, destination) -> Tensor:
    """The dims `source` moved to the positions `destination`, the others keeping their order (NumPy's moveaxis)."""
    x = as_tensor(input)
    src = [_axis(x, d, "movedim") for d in ((source,) if isinstance(source, int) else source)]
    dst = [_axis(x, d, "movedim") for d in ((destination,) if isinstance(destination, int) else destination)]
    order = [d for d in range(x.ndim) if d not in src]
    for d, s_ in sorted(zip(dst, src)):
        order.insert(d, s_)
    return api.permute(x, *order)


# ------------------------------------------------------------------ small products and diagonals
def outer(input: TensorLike, vec2: TensorLike) -> Tensor:
    return api.mul(as_tensor(input).reshape(-1, 1), as_tensor(vec2).reshape(1, -1))


def dot(input: TensorLike, other: TensorLike) -> Tensor:
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"dot: expected two 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return api.sum(api.mul(a, b))


def mv(input: TensorLike, vec: TensorLike) -> Tensor:
    return api.matmul(input, vec)


def addmm(input: TensorLike, mat1: TensorLike, mat2: TensorLike, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); batched operands (baddbmm) multiply batch by batch."""
    product = api.matmul(mat1, mat2)
    return api.add(api.mul(input, beta) if beta != 1 else as_tensor(input), api.mul(product, alpha) if alpha != 1 else product)


def lerp(input: TensorLike, end: TensorLike, weight) -> Tensor:
    """input + weight * (end - input)."""
    return api.add(input, api.mul(weight, api.sub(end, input)))


def diagonal(input: TensorLike, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, shifted by `offset`, as the last dim."""
    x = as_tensor(input)
    x = movedim(x, (dim1, dim2), (-2, -1))
    rows, cols = x.shape[-2], x.shape[-1]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    r = np.arange(n) - min(offset, 0)
    return api.getitem(x, (Ellipsis, r, r + offset))


_diagonal = diagonal  # `diag` names its parameter `diagonal`, as PyTorch's


def diag(input: TensorLike, diagonal: int = 0) -> Tensor:  # noqa: F811 - PyTorch's parameter name
    """1-D: the square matrix with `input` on its `diagonal`-th diagonal; 2-D: that diagonal."""
    x = as_tensor(input)
    if x.ndim == 2:
        return _diagonal(x, diagonal)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(x.shape)}")
    k, n = diagonal, x.shape[0] + abs(diagonal)
    # entry (i, i + k) holds x[i]: column c holds x[c - k] (k >= 0) or x[c] (k < 0)
    column_value = api.cat([Tensor(np.zeros(max(k, 0), dtype=x.dtype)), x, Tensor(np.zeros(max(-k, 0), dtype=x.dtype))])
    return _keep(api.expand(column_value.reshape(1, n), n, n), np.eye(n, k=k, dtype=bool))


def trace(input: TensorLike) -> Tensor:
    return api.sum(diagonal(input))


class Cumsum(Function):
    """y = cumsum(x) along one axis;  dx = the reversed cumulative sum of dy (each x_i feeds every y_j, j >= i)."""

    once_differentiable = True  # its backward runs on arrays only

    @staticmethod
    def forward(ctx, a, axis=0):
        ctx.axis = axis
        return np.cumsum(a, axis=axis, dtype=a.dtype if a.dtype.kind == "f" else np.int64)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


def cumsum(input: TensorLike, dim: int, *, dtype=None) -> Tensor:
    x = as_tensor(input)
    out = Cumsum.apply(x, axis=_axis(x, dim, "cumsum"))
    return out if dtype is None else api.astype(out, dtype)


# ------------------------------------------------------------------ sampling
def multinomial(input: TensorLike, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Indices drawn from each row's (unnormalized) weights: (C,) -> (num_samples,), (R, C) -> (R, num_samples)."""
    from .. import random as _random

    w = np.asarray(as_tensor(input)._data, dtype=np.float64)
    if w.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ValueError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: the weights must be finite, non-negative, with a positive sum in every row")
    if not replacement and num_samples > int((rows > 0).sum(axis=1).min()):
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from a row with "
                         f"{int((rows > 0).sum(axis=1).min())} non-zero weights")
    rng = generator or _random.default_generator()
    out = np.stack([rng.choice(rows.shape[1], size=num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return Tensor(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


def bernoulli(input: TensorLike, p: float | None = None, *, generator=None) -> Tensor:
    """1 with probability `input` (or `p`) per element, else 0, in the input's dtype."""
    from .. import random as _random

    x = as_tensor(input)
    prob = x._data if p is None else np.full(x.shape, p)
    rng = generator or _random.default_generator()
    return Tensor((rng.random(x.shape) < prob).astype(x.dtype if x.dtype.kind == "f" else np.float32))



# ------------------------------------------------------------------ stacking and broadcasting
def hstack(tensors) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    return api.cat(tensors, dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return api.cat([t.reshape(1, -1) if t.ndim == 1 else t for t in (as_tensor(t) for t in tensors)], dim=0)


def broadcast_to(input: TensorLike, size) -> Tensor:
    return api.expand(input, *size)


def masked_select(input: TensorLike, mask: TensorLike) -> Tensor:
    """The elements where `mask` (broadcast with `input`) is True, as a 1-D tensor."""
    x, m = as_tensor(input), np.asarray(as_tensor(mask)._data, dtype=bool)
    shape = np.broadcast_shapes(tuple(x.shape), m.shape)
    if tuple(x.shape) != shape:
        x = api.expand(x, *shape)
    return api.getitem(x, np.broadcast_to(m, shape))


def argwhere(input: TensorLike) -> Tensor:
    return Tensor(np.argwhere(as_tensor(input)._data).astype(np.int64))


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids of 1-D tensors: 'ij' (the default, as None is in PyTorch) gives shape (n1, n2, ...),
    'xy' swaps the first two."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [as_tensor(t).reshape(-1) for t in tensors]
    shape = tuple(t.shape[0] for t in ts)
    grids = [api.expand(t.reshape(*[-1 if j == i else 1 for j in range(len(ts))]), *shape) for i, t in enumerate(ts)]
    if indexing == "xy" and len(grids) >= 2:  # Cartesian: the first two axes of the 'ij' grids swapped
        grids = [api.transpose(g, 0, 1) for g in grids]
    return tuple(grids)


def var_mean(input: TensorLike, dim=None, *, correction=1, keepdim: bool = False) -> tuple:
    return api.var(input, dim, keepdim=keepdim, correction=correction), api.mean(input, dim, keepdim=keepdim)


def std_mean(input: TensorLike, dim=None, *, correction=1, keepdim: bool = False) -> tuple:
    return api.std(input, dim, keepdim=keepdim, correction=correction), api.mean(input, dim, keepdim=keepdim)


baddbmm = addmm  # the same formula; matmul already works batch by batch


FUNCTIONS = ["tril", "triu", "isnan", "isinf", "isfinite", "logical_not", "logical_and", "logical_or", "logical_xor",
             "nan_to_num", "index_select", "flip", "roll", "tile", "repeat_interleave", "movedim", "outer", "dot",
             "mv", "addmm", "lerp", "diagonal", "diag", "trace", "cumsum", "multinomial", "bernoulli",
             "hstack", "vstack", "broadcast_to", "masked_select", "argwhere", "meshgrid", "var_mean", "std_mean",
             "baddbmm"]
METHODS = [n for n in FUNCTIONS if n not in ("hstack", "vstack", "meshgrid", "var_mean", "std_mean")] + ["repeat"]
