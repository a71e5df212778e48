"""More activations with PyTorch's names, built from differentiable primitives (inventory A1-A3).

silu(x) = x sigmoid(x) (Elfwing et al. 2018; "swish", Ramachandran et al. 2017);
softplus(x) = log(1 + e^(beta x)) / beta, linear above `threshold` for stability (Dugas et al. 2001);
mish(x) = x tanh(softplus(x)) (Misra 2019); hardtanh clamps to [min_val, max_val], relu6 to [0, 6];
logsigmoid(x) = -softplus(-x); softsign(x) = x / (1 + |x|).
"""
from __future__ import annotations

from ...autograd.tensor import Tensor, as_tensor
from ...ops import api as ops
from ...ops.tensor_math import log1p


def silu(input, inplace: bool = False) -> Tensor:
    x = as_tensor(input)
    return x * ops.sigmoid(x)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    x = as_tensor(input)
    scaled = x * beta
    # the branch not taken is clamped so it never overflows (its gradient is masked to 0 anyway)
    smooth = log1p(ops.exp(ops.clamp(scaled, max=threshold))) / beta
    return ops.where(scaled._data > threshold, x, smooth)


def mish(input, inplace: bool = False) -> Tensor:
    x = as_tensor(input)
    return x * ops.tanh(softplus(x))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    return ops.clamp(as_tensor(input), min=min_val, max=max_val)


def relu6(input, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0)


def logsigmoid(input) -> Tensor:
    return -softplus(-as_tensor(input))


def softsign(input) -> Tensor:
    x = as_tensor(input)
    return x / (ops.abs(x) + 1)
