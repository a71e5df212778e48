"""Reverse-mode automatic differentiation: Tensor, Function, grad mode, graph export."""
from .engine import grad
from .function import Function, unbroadcast
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor

__all__ = [
    "Function", "Tensor", "as_tensor", "unbroadcast", "grad",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
]

from . import functional  # noqa: E402  (vjp, jacobian, hvp, hessian; needs the ops loaded)
from .graph import render, to_dot  # noqa: E402

__all__ += ["to_dot", "render", "functional"]
