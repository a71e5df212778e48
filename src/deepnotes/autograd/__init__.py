"""Reverse-mode automatic differentiation: Tensor, Function, grad mode, graph export."""
from .function import Function, unbroadcast
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor

__all__ = [
    "Function", "Tensor", "as_tensor", "unbroadcast",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
]
