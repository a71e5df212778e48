"""Functional forms: batch, instance, layer and group normalization (inventory N1-N4), over the
one kernel `ops.normalization.Normalize`.

    y = (x - mean) / sqrt(var + eps) * weight + bias

with the biased variance in the forward pass and the unbiased one for running estimates
(PyTorch's conventions); they differ only in the axes the moments are taken over.
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import as_tensor
from ...ops.normalization import Normalize, moments, sum_over  # noqa: F401


def _as_param_shape(param, shape):
    """weight / bias of shape (C,) as a tensor of `shape` that broadcasts against x; None stays None."""
    if param is None:
        return None
    param = as_tensor(param)
    return param if param.shape == shape else param.reshape(shape)


def _affine_args(weight, bias, shape):
    """The optional tensor arguments of `Normalize.apply`: (), (weight,) or (weight, bias)."""
    weight, bias = _as_param_shape(weight, shape), _as_param_shape(bias, shape)
    if weight is None and bias is not None:
        # The kernel takes bias only after a weight; a weight of ones is the identity.
        weight = as_tensor(np.ones(shape, dtype=bias.dtype))
    return tuple(t for t in (weight, bias) if t is not None)


def _update_running(running, batch_value, momentum):
    """running <- (1 - momentum) * running + momentum * batch_value, in place (running is a buffer)."""
    if running is None:
        return
    running._data *= 1.0 - momentum
    running._data += momentum * batch_value.reshape(running.shape).astype(running.dtype, copy=False)


def _channel_check(fn_name, x, min_ndim):
    if x.ndim < min_ndim:
        raise ValueError(
            f"{fn_name}: expected an input with at least {min_ndim} dimensions (N, C, ...), got shape {x.shape}"
        )


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization (Ioffe & Szegedy, 2015) of x: (N, C) or (N, C, *spatial).

    Training: statistics of the batch, per channel, over (N, *spatial);
    `running_mean` and `running_var` (if given) are updated in place with
    running <- (1 - momentum) * running + momentum * batch_statistic, using
    the *unbiased* variance for the running estimate and the biased one to
    normalize (PyTorch's convention).  Evaluation: the running estimates.
    """
    x = as_tensor(input)
    _channel_check("batch_norm", x, 2)
    channels = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    param_shape = (channels,) + (1,) * (x.ndim - 2)
    affine = _affine_args(weight, bias, param_shape)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when training=False")
        stats = (running_mean._data.reshape(param_shape), running_var._data.reshape(param_shape))
        return Normalize.apply(x, *affine, axes=axes, eps=eps, fixed_stats=stats)
    count = x._data.size // max(channels, 1)
    if count <= 1:
        raise ValueError(f"batch_norm: Expected more than 1 value per channel when training, got input size {x.shape}")
    stats = moments(x._data, axes)
    mean, var = stats[:2]
    _update_running(running_mean, mean, momentum)
    _update_running(running_var, var * (count / (count - 1)), momentum)
    return Normalize.apply(x, *affine, axes=axes, eps=eps, batch_stats=stats)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalization (Ulyanov et al., 2016) of x: (N, C, *spatial), each (n, c) slice on its own.

    With `use_input_stats` the statistics are those of each instance; the
    running estimates (if given) move toward the batch average of the
    per-instance mean and unbiased variance, as PyTorch does.  Otherwise the
    running estimates normalize.
    """
    x = as_tensor(input)
    _channel_check("instance_norm", x, 3)
    channels = x.shape[1]
    axes = tuple(range(2, x.ndim))
    param_shape = (channels,) + (1,) * (x.ndim - 2)
    affine = _affine_args(weight, bias, param_shape)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are required when use_input_stats=False")
        stats = (running_mean._data.reshape(param_shape), running_var._data.reshape(param_shape))
        return Normalize.apply(x, *affine, axes=axes, eps=eps, fixed_stats=stats)
    count = int(np.prod(x.shape[2:]))
    if count <= 1:
        raise ValueError(f"instance_norm: Expected more than 1 spatial element when training, got input size {x.shape}")
    stats = moments(x._data, axes)
    mean, var = stats[:2]
    _update_running(running_mean, mean.mean(axis=0), momentum)
    _update_running(running_var, (var * (count / (count - 1))).mean(axis=0), momentum)
    return Normalize.apply(x, *affine, axes=axes, eps=eps, batch_stats=stats)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization (Ba et al., 2016) over the trailing `normalized_shape` axes of x: (*, *normalized_shape).

    Each example (each token, for a Transformer's (N, T, D) input with
    normalized_shape=(D,)) is normalized on its own, the same in training and
    evaluation; weight and bias have shape `normalized_shape`.
    """
    x = as_tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or x.ndim < len(shape):
        raise ValueError(
            f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(x.shape)}"
        )
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    return Normalize.apply(x, *_affine_args(weight, bias, shape), axes=axes, eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization (Wu & He, 2018) of x: (N, C, *spatial) with C divisible by `num_groups`.

    The statistics of each example are taken over each group of C / G
    channels and all spatial positions: x is viewed as (N, G, C/G, *spatial)
    and normalized over axes (2, 3, ...).  One group is LayerNorm over
    (C, *spatial); C groups is InstanceNorm.  weight and bias are per channel.
    """
    x = as_tensor(input)
    _channel_check("group_norm", x, 2)
    n, channels, spatial = x.shape[0], x.shape[1], x.shape[2:]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(
            f"group_norm: expected the number of channels to be divisible by num_groups, "
            f"got input of shape {x.shape} and num_groups={num_groups}"
        )
    per_group = channels // num_groups
    grouped = x.reshape((n, num_groups, per_group) + spatial)
    axes = tuple(range(2, grouped.ndim))
    param_shape = (num_groups, per_group) + (1,) * len(spatial)
    y = Normalize.apply(grouped, *_affine_args(weight, bias, param_shape), axes=axes, eps=eps)
    return y.reshape(x.shape)
