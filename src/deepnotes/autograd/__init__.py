"""Reverse-mode automatic differentiation: Tensor, Function, grad mode, graph export."""
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import grad
from .function import Function, unbroadcast
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor

__all__ = [
    "Function", "Tensor", "as_tensor", "unbroadcast", "grad",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
]

from .graph import render, to_dot  # noqa: E402

__all__ += ["to_dot", "render", "functional"]


def __getattr__(name):
    # `autograd.functional` (jacobian, hessian, hvp) is built on the ops, which sit above
    # this package: it is imported on first use, so the engine never imports upwards.
    if name == "functional":
        import importlib

        return importlib.import_module(f"{__name__}.functional")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
