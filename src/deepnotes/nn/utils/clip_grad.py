"""Gradient clipping by norm and by value, as `torch.nn.utils` (inventory I3).

Clipping bounds the size of an update when a gradient explodes (RNNs through
long sequences, a bad batch, a too-high learning rate).  Pascanu, Mikolov &
Bengio (2013) rescale the whole gradient when its norm exceeds a threshold,
which keeps its direction; clipping each entry to [-c, c] is cruder and
changes the direction.

Call between `loss.backward()` and `optimizer.step()`; the gradients are
modified in place.
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters):
    """The gradient arrays of the parameters that have one."""
    return [p.grad._data for p in parameters if p.grad is not None]


def _vector_norm(x, norm_type):
    """The p-norm of `x` seen as one vector: (sum |x|^p)^(1/p); max |x| for inf, min |x| for -inf."""
    a = np.abs(x)
    if norm_type == np.inf:
        return a.max(initial=0.0)
    if norm_type == -np.inf:
        return a.min()
    if norm_type == 0:
        return np.asarray(np.count_nonzero(x), dtype=x.dtype)
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        return np.sqrt(np.sum(a * a))
    return np.sum(a**norm_type) ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The p-norm of all `tensors` (arrays or Tensors) concatenated into one vector.

    Computed as the norm of the per-tensor norms, as PyTorch does; for p > 0
    and p = inf that equals the norm of the concatenation (for p = 0 it counts
    the tensors that are not all zero).  Returns a 0-d Tensor.

    Raises:
        RuntimeError: if `error_if_nonfinite` and the norm is nan or inf.
    """
    arrays = [t._data if isinstance(t, Tensor) else np.asarray(t) for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    dtype = np.result_type(*arrays)
    norms = np.stack([np.asarray(_vector_norm(a, norm_type), dtype=dtype) for a in arrays])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite ({total}), "
            "so it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway"
        )
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = _grads(_as_list(parameters))
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # a non-finite norm gives coef 0 and inf * 0 = nan, as in PyTorch
        for g in grads:
            g *= coef.astype(g.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Rescale the gradients so that their joint p-norm is at most `max_norm` (Pascanu et al., 2013).

        total = || concat(g_1, ..., g_n) ||_p,     g_i <- g_i * min(1, max_norm / (total + 1e-6))

    Args:
        parameters: a Tensor or an iterable of Tensors; those whose `.grad` is
            None are ignored.
        max_norm: the largest allowed norm.
        norm_type: p of the p-norm; `float('inf')` for the largest absolute entry.
        error_if_nonfinite: raise if the total norm is nan or inf (otherwise
            the gradients are scaled by the non-finite norm, as in PyTorch).

    Returns:
        The total norm of the gradients *before* clipping, a 0-d Tensor (as PyTorch returns a tensor).
    """
    parameters = _as_list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient entry to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(_as_list(parameters)):
        np.clip(g, -clip_value, clip_value, out=g)
