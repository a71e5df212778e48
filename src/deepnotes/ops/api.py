"""Tensor functions under the top-level namespace: `dn.exp(x)`, `dn.cat([a, b])`, ...

Each is a thin wrapper over a `Function` of the families in this package, with
PyTorch's name and signature.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, as_tensor, binary_operands, true_divide_operands
from . import activation as A
from . import elementwise as E
from . import shape as S


def add(a, b):
    return E.Add.apply(*binary_operands(a, b))


def sub(a, b):
    return E.Sub.apply(*binary_operands(a, b))


def mul(a, b):
    return E.Mul.apply(*binary_operands(a, b))


def div(a, b):
    """True division: integer / integer gives float32, as torch.div."""
    return E.Div.apply(*true_divide_operands(a, b))


def neg(x):
    return -as_tensor(x)


def exp(x):
    return as_tensor(x).exp()


def log(x):
    return as_tensor(x).log()


def sqrt(x):
    return as_tensor(x).sqrt()


def abs(x):  # noqa: A001 - PyTorch's name
    return as_tensor(x).abs()


def pow(x, exponent):  # noqa: A001
    return as_tensor(x) ** exponent


def maximum(a, b):
    """Elementwise max; on ties each argument gets half the gradient (torch.maximum)."""
    return E.Maximum.apply(*binary_operands(a, b))


def minimum(a, b):
    """Elementwise min; on ties each argument gets half the gradient (torch.minimum)."""
    return E.Minimum.apply(*binary_operands(a, b))


def clamp(x, min=None, max=None):  # noqa: A002
    return as_tensor(x).clamp(min, max)


clip = clamp


def where(condition, a, b):
    """Elements of `a` where `condition` holds, else of `b` (all three broadcast together).

    `a` and `b` may be Tensors or numbers; a number takes the other side's dtype.
    """
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor(a)
    return E.Where.apply(*binary_operands(a, b), cond=cond.astype(bool))


def matmul(a, b):
    return as_tensor(a) @ b


def sum(x, dim=None, keepdim=False):  # noqa: A001
    return as_tensor(x).sum(dim, keepdim)


def mean(x, dim=None, keepdim=False):
    return as_tensor(x).mean(dim, keepdim)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return as_tensor(x).var(dim, unbiased, keepdim, correction=correction)


def amax(x, dim=None, keepdim=False):
    return as_tensor(x).amax(dim, keepdim)


def amin(x, dim=None, keepdim=False):
    return as_tensor(x).amin(dim, keepdim)


def max(x, dim=None, keepdim=False):  # noqa: A001
    return as_tensor(x).max(dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001
    return as_tensor(x).min(dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    return as_tensor(x).argmax(dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return as_tensor(x).argmin(dim, keepdim)


def logsumexp(x, dim=None, keepdim=False):
    return as_tensor(x).logsumexp(dim, keepdim)


def reshape(x, shape):
    return as_tensor(x).reshape(shape)


def permute(x, dims):
    return as_tensor(x).permute(dims)


def transpose(x, dim0, dim1):
    return as_tensor(x).transpose(dim0, dim1)


def squeeze(x, dim=None):
    return as_tensor(x).squeeze(dim)


def unsqueeze(x, dim):
    return as_tensor(x).unsqueeze(dim)


def flatten(x, start_dim=0, end_dim=-1):
    return as_tensor(x).flatten(start_dim, end_dim)


def cat(tensors, dim=0):
    """Concatenate along an existing axis (torch.cat)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    return S.Concatenate.apply(*tensors, axis=dim % tensors[0].ndim)


concatenate = cat


def stack(tensors, dim=0):
    """Stack equal-shaped tensors along a new axis (torch.stack)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    return S.Stack.apply(*tensors, axis=dim % (tensors[0].ndim + 1))


def split(x, split_size_or_sections, dim=0):
    return as_tensor(x).split(split_size_or_sections, dim)


def gather(x, dim, index):
    """out[i][j] = x[index[i][j]][j] for dim=0, etc. (torch.gather)."""
    return as_tensor(x).gather(dim, index)


def take_along_dim(x, indices, dim):
    """torch.take_along_dim: like gather, but `x` and `indices` broadcast on the other axes."""
    x = as_tensor(x)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    dim = dim % x.ndim
    x_shape, idx_shape = list(x.shape), list(idx.shape)
    x_shape[dim] = idx_shape[dim] = 1
    common = list(np.broadcast_shapes(tuple(x_shape), tuple(idx_shape)))
    x_target, idx_target = list(common), list(common)
    x_target[dim], idx_target[dim] = x.shape[dim], idx.shape[dim]
    return x.expand(tuple(x_target)).gather(dim, np.broadcast_to(idx, tuple(idx_target)))


def pad_constant(x, pad_width, value=0.0):
    """NumPy-style constant padding: `pad_width` = ((before, after), ...) per axis."""
    return S.Pad.apply(as_tensor(x), pad_width=tuple(tuple(p) for p in pad_width), value=value)


def sigmoid(x):
    return as_tensor(x).sigmoid()


def tanh(x):
    return as_tensor(x).tanh()


def relu(x):
    return as_tensor(x).relu()


def leaky_relu(x, negative_slope=0.01):
    """z for z > 0, negative_slope * z otherwise (F.leaky_relu)."""
    return A.LeakyReLU.apply(as_tensor(x), negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """z for z > 0, alpha (e^z - 1) otherwise (F.elu; Clevert et al. 2016)."""
    return A.ELU.apply(as_tensor(x), alpha=alpha)


def prelu(x, weight):
    """z for z > 0, weight * z otherwise; `weight` has 1 or C (axis 1) values (F.prelu)."""
    return A.PReLU.apply(as_tensor(x), as_tensor(weight))


def softmax(x, dim=-1, temperature=1.0):
    """exp(x / T) / sum exp(x / T) along `dim`, computed after subtracting the max (A5)."""
    return A.Softmax.apply(as_tensor(x), axis=dim, temperature=temperature)


def log_softmax(x, dim=-1, temperature=1.0):
    """log softmax(x / T) along `dim`, stable for any logits (A5)."""
    return A.LogSoftmax.apply(as_tensor(x), axis=dim, temperature=temperature)
