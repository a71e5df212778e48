"""Functional form: `linear`, y = x W^T + b (inventory E4), with the one validation `nn.Linear` uses."""
from __future__ import annotations

import numpy as np

from ... import _checks
from ..._checks import holds_nan
from ...autograd.tensor import Tensor, as_tensor
from ...errors import DTypeError, NonFiniteError, ShapeError
from ...ops.api import matmul as _matmul
from ...ops.matmul import Linear as LinearFunction


def linear(input, weight, bias=None, *, _name="linear"):
    """y = x W^T + b for x: (..., in), W: (out, in), b: (out,) -> (..., out); one fused node.

    Checks (errors name `_name`, a string or a function giving it: "Linear(784, 512)" when the layer
    calls, formatted only when an error is raised): W is 2-d; x is
    floating point, of W's dtype (TypeError, as PyTorch), with last dimension `in`; b has shape
    (out,); x holds no NaN (ValueError). The NaN check is cheap: a NaN in x makes its whole output
    row NaN, so when the output is the smaller array it is searched instead of x, and x only when
    the output holds a NaN (which a NaN weight could also have put there).

    Example:
        >>> import deepnotes as dn, deepnotes.nn.functional as F
        >>> F.linear(dn.ones(2, 3), dn.ones(4, 3), dn.zeros(4)).tolist()
        [[3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0]]
    """
    x = input if isinstance(input, Tensor) else as_tensor(input)
    w = weight if isinstance(weight, Tensor) else as_tensor(weight)
    if w._data.ndim != 2:
        raise ValueError(f"{_label(_name)}: weight must be 2-d (out_features, in_features), got shape {w.shape}")
    check_input(x, w, _name, nan=False)
    if w._data.shape[1] == 0:  # Linear(0, n): the fused kernel cannot fold an empty last axis; the answer is the bias
        return _matmul(x, w.T) if bias is None else _matmul(x, w.T) + bias
    if bias is None:
        out = LinearFunction.apply(x, w)
    else:
        b = bias if isinstance(bias, Tensor) else as_tensor(bias)
        if b._data.shape != (w._data.shape[0],):
            raise ValueError(f"{_label(_name)}: bias must have shape ({w.shape[0]},), got {b.shape}")
        out = LinearFunction.apply(x, w, b)
    if not _checks.ENABLED or (0 < out._data.size < x._data.size and not holds_nan(out._data)):
        return out
    check_input(x, w, _name)
    return out


def _label(name):
    return name() if callable(name) else name


def check_input(x, weight, name, nan=True):
    """Raise the error `linear` gives for the input x: not floating point, wrong last dimension,
    a dtype other than the weight's, or (with `nan`) a NaN anywhere."""
    xd, wd = x._data, weight._data  # arrays: this runs on every Linear forward
    if xd.dtype.kind == "f" and xd.ndim and xd.shape[-1] == wd.shape[1] and xd.dtype == wd.dtype and not (
            nan and holds_nan(xd)):
        return
    name = _label(name)
    if x.dtype.kind != "f":
        raise DTypeError(f"{name}: expected a floating-point input tensor, got dtype {x.dtype}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"{name}: expected input of shape (..., {weight.shape[1]}), got {x.shape}")
    if x.dtype != weight.dtype:
        raise DTypeError(
            f"{name}: input dtype {x.dtype} differs from the weight's {weight.dtype}; "
            f"cast one of them (x.astype(...), or layer.to(...))"
        )
    if nan and holds_nan(x._data):
        raise NonFiniteError(f"{name}: input of shape {x.shape} contains {int(np.isnan(x._data).sum())} NaN value(s)")
