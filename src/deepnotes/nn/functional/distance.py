"""`F.normalize`, `F.cosine_similarity`, `F.pairwise_distance`, as PyTorch's."""
from __future__ import annotations

from ...autograd.tensor import Tensor, as_tensor
from ...ops import api as ops
from ...ops.tensor_math import norm


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along `dim`."""
    x = as_tensor(input)
    return x / ops.clamp(norm(x, p, dim, keepdim=True), min=eps)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / max(||x1|| ||x2||, eps) along `dim` (inputs broadcast), PyTorch's formula."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    dot = ops.sum(x1 * x2, dim)
    return dot / ops.clamp(norm(x1, 2, dim) * norm(x2, 2, dim), min=eps)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension."""
    return norm(as_tensor(x1) - as_tensor(x2) + eps, p, -1, keepdim)
