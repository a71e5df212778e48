"""Norms of weights and the penalties built from them (inventory R3).

    l0_count(W)       = #{w : |w| > tol}        "how many weights are used"; not differentiable
    l1_penalty(W)     = sum |w|                 lasso: its subgradient sign(w) has the same size
                                                for tiny weights as for big ones, so it pushes
                                                weights to exactly 0 (sparsity)
    l2_penalty(W)     = sum w^2                 ridge: its gradient 2w fades as w shrinks, so
                                                weights get small but rarely 0
    frobenius_norm(W) = sqrt(sum w^2)           the L2 norm of all entries (not squared)
    nuclear_norm(W)   = sum of singular values  the convex surrogate of rank (low-rank penalty)

Each penalty takes one tensor or an iterable of them (`model.parameters()`)
and returns a scalar tensor to add to the loss.

L2 penalty vs weight decay.  With the convention loss + (lambda / 2) *
l2_penalty(params), the penalty's gradient is lambda * w, so plain SGD takes
w <- w - lr (grad + lambda w), exactly SGD(weight_decay=lambda).  For adaptive
optimizers the two differ: Adam divides the penalty's gradient by its running
RMS, so large-gradient weights are decayed less; AdamW applies the decay
w <- w - lr lambda w outside the adaptive step ("decoupled weight decay",
Loshchilov & Hutter, 2019).
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor, as_tensor
from ...backends import blas


def _tensors(params, name):
    """One tensor or an iterable of tensors -> a non-empty list of tensors."""
    if isinstance(params, (Tensor, np.ndarray)):
        return [as_tensor(params)]
    tensors = [as_tensor(p) for p in params]
    if not tensors:
        raise ValueError(f"{name}: expected a tensor or a non-empty iterable of tensors, got an empty iterable")
    return tensors


def _sum_terms(terms):
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def l1_penalty(params):
    """sum over all entries of all tensors of |w|; gradient sign(w) (0 at w = 0, as PyTorch)."""
    return _sum_terms([p.abs().sum() for p in _tensors(params, "l1_penalty")])


def l2_penalty(params):
    """sum over all entries of all tensors of w^2 (no 1/2); gradient 2w.  See the module docstring
    for the (lambda / 2) * l2_penalty convention that equals SGD's weight_decay=lambda."""
    return _sum_terms([(p * p).sum() for p in _tensors(params, "l2_penalty")])


def l0_count(params, tol=0.0):
    """The number of entries with |w| > tol, as a Python int (the "L0 norm"; not differentiable)."""
    return int(sum(np.count_nonzero(np.abs(p._data) > tol) for p in _tensors(params, "l0_count")))


class FrobeniusNorm(Function):
    """out = sqrt(sum w^2) over all entries;  dw = g * w / out (0 when w = 0, as PyTorch's norm)."""

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, w):
        norm = np.sqrt(np.sum(w * w))
        ctx.save_for_backward(w, norm)
        return np.asarray(norm, dtype=w.dtype)

    @staticmethod
    def backward(ctx, grad):
        w, norm = ctx.saved_arrays
        if norm == 0:
            return np.zeros_like(w)
        return grad * (w / norm)


def frobenius_norm(w):
    """||W||_F = sqrt(sum of squared entries) of a tensor of any shape.

    For a matrix this is torch.linalg.matrix_norm(W, 'fro'); for any shape it
    is the vector 2-norm of the flattened tensor.  Returns a scalar tensor.
    """
    return FrobeniusNorm.apply(as_tensor(w))


class NuclearNorm(Function):
    """out = sum of the singular values of W (per matrix of a batch (..., m, n)).

    With the reduced SVD W = U diag(s) V^T, the gradient is dW = g * U V^T:
    a singular value moves by u_i^T dW v_i when W moves by dW.  It is exact
    where W has full rank and distinct singular values (elsewhere U V^T is
    one subgradient).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, w):
        u, s, vh = np.linalg.svd(w, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s.sum(axis=-1)

    @staticmethod
    def backward(ctx, grad):
        u, vh = ctx.saved_arrays
        return np.asarray(grad)[..., None, None] * blas.matmul(u, vh)


def nuclear_norm(w):
    """||W||_* = sum of singular values of W: (m, n) -> scalar, or (..., m, n) -> (...,).

    The same as torch.linalg.matrix_norm(W, ord='nuc'); penalizing it drives W
    toward low rank, as L1 drives a vector toward sparsity (it is the L1 norm
    of the singular values).
    """
    w = as_tensor(w)
    if w.ndim < 2:
        raise ValueError(f"nuclear_norm: expected a matrix (..., m, n), got shape {w.shape}")
    return NuclearNorm.apply(w)
