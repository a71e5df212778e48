"""Normalization kernel: one fused `Function` behind BatchNorm, LayerNorm, InstanceNorm and GroupNorm
(inventory N1, N2, N4).

All four layers compute the same thing and differ only in the axes they
reduce over:

    y = (x - mean) / sqrt(var + eps) * weight + bias

with `mean` and the *biased* variance `var` taken over `axes` (epsilon inside
the square root, as in PyTorch).  BatchNorm reduces over (N, *spatial),
LayerNorm over the trailing `normalized_shape` axes, InstanceNorm over
(*spatial) and GroupNorm over (C/G, *spatial) of the (N, G, C/G, *spatial)
view (`deepnotes.nn.utils.normalization_axes` lists them).

Written out as primitives (mean, var, sub, sqrt, div, mul, add) the graph has
about eight nodes, each keeping its own copy of the activations; the fused
kernel keeps two arrays (xhat and 1/std) and computes the gradient in closed
form.  The tests check it against PyTorch and against the composed version.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function, unbroadcast
from ..autograd.tensor import as_tensor


def sum_over(axes, *arrays):
    """sum over `axes` of the product of `arrays` (same shape), keeping the reduced axes as 1.

    An einsum: no temporary for the product, and about three times faster than
    `ndarray.sum` on these reductions (which sums pairwise for accuracy; in float32
    the plain sum still has a relative error near 1e-7 over a 50,000-element channel).
    """
    ndim = arrays[0].ndim
    letters = "abcdefghijklmnopqrstuvwxyz"[:ndim]
    kept = "".join(letter for i, letter in enumerate(letters) if i not in axes)
    total = np.einsum(",".join([letters] * len(arrays)) + "->" + kept, *arrays)
    return total.reshape(tuple(1 if i in axes else n for i, n in enumerate(arrays[0].shape)))


def moments(x, axes):
    """Mean, biased variance and centered values of the array `x` over `axes`.

    Returns (mean, var, x - mean), mean and var with keepdims (for broadcasting).
    The biased variance (divide by the count n) is what normalization uses in
    the forward pass; running estimates use the unbiased one, var * n / (n - 1).
    Two passes (the mean, then the mean squared deviation) for accuracy.
    """
    n = x.size // max(np.prod([x.shape[a] for a in range(x.ndim) if a not in axes], dtype=int), 1)
    mean = sum_over(axes, x) / x.dtype.type(n)
    centered = np.subtract(x, mean, dtype=x.dtype)
    var = sum_over(axes, centered, centered) / x.dtype.type(n)
    return mean, var, centered


def _constant_along(param, axes, ndim):
    """Whether `param` (broadcast against an ndim array) has size 1 on every axis of `axes`."""
    shape = (1,) * (ndim - param.ndim) + param.shape
    return all(shape[a] == 1 for a in axes)


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over `axes`.

    Call as `Normalize.apply(x)`, `Normalize.apply(x, weight)` or
    `Normalize.apply(x, weight, bias)`; `weight` and `bias` must broadcast
    against x (BatchNorm2d passes them as (C, 1, 1)).

    Args (keywords):
        axes: tuple of the axes the statistics reduce over.
        eps: added to the variance inside the square root.
        batch_stats: optional (mean, var, x - mean) over `axes` from `moments`,
            already computed by the caller (BatchNorm needs them for its
            running estimates); they are functions of x and the gradient
            flows through them.  The kernel scales x - mean into xhat in place.
        fixed_stats: optional (mean, var) that are constants (running
            estimates at evaluation time); the gradient does not flow
            through them.  Both must broadcast against x.

    Backward, with xhat = (x - mean) / sqrt(var + eps), dxhat = g * weight and
    n the number of elements in each reduced slice (Ioffe & Szegedy, 2015):

        dweight = sum(g * xhat),  dbias = sum(g)   (over the broadcast axes)
        batch statistics:
            dx = (1 / (n * sqrt(var + eps))) * (n * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
        fixed statistics:
            dx = dxhat / sqrt(var + eps)

    The sums in dx run over `axes`.  The two subtracted terms are the paths
    through the mean and through the variance: shifting every element of a
    slice, or scaling it about its mean, leaves xhat unchanged, so dx has no
    component along those directions.
    """

    @staticmethod
    def forward(ctx, x, *affine, axes=(), eps=1e-5, batch_stats=None, fixed_stats=None):
        if fixed_stats is not None:
            mean, var = fixed_stats
        else:
            mean, var, centered = batch_stats if batch_stats is not None else moments(x, axes)
        inv_std = 1.0 / np.sqrt(var + eps)
        weight = affine[0] if affine else None
        bias = affine[1] if len(affine) == 2 else None
        if fixed_stats is not None and not ctx.tracked:  # evaluation: y = x * scale + shift, per channel
            scale = inv_std if weight is None else inv_std * weight
            shift = -mean * scale if bias is None else bias - mean * scale
            y = x * scale.astype(x.dtype, copy=False)
            y += shift.astype(x.dtype, copy=False)
            return y
        xhat = centered if fixed_stats is None else np.subtract(x, mean, dtype=x.dtype)
        xhat *= inv_std.astype(x.dtype, copy=False)
        if not ctx.tracked:  # nothing to keep: finish in place
            y = xhat
            if weight is not None:
                y *= weight
        else:
            y = xhat if weight is None else xhat * weight
            ctx.axes, ctx.eps, ctx.fixed = axes, eps, fixed_stats
            ctx.save_for_backward(xhat, inv_std.astype(x.dtype, copy=False), weight)
        if bias is not None:
            y += bias
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xhat, inv_std, weight = ctx.saved_arrays
        needs, axes = ctx.needs_input_grad, ctx.axes
        if weight is None or _constant_along(weight, axes, grad.ndim):
            return Normalize._backward_per_slice_affine(ctx, grad)
        dxhat = grad * weight
        dx = None
        if needs[0]:
            if ctx.fixed is not None:
                dx = dxhat
                dx *= inv_std
            else:
                n = xhat.size // inv_std.size
                mean_dxhat = sum_over(axes, dxhat) / n
                dx = xhat * (sum_over(axes, dxhat, xhat) / n)
                np.subtract(dxhat, dx, out=dx)
                dx -= mean_dxhat
                dx *= inv_std
        # Parameter gradients reduced here to the parameters' shapes (the engine's unbroadcast).
        grads = (dx,)
        if len(needs) > 1:
            grads += (unbroadcast(grad * xhat, weight.shape) if needs[1] else None,)
        if len(needs) > 2:
            grads += (unbroadcast(grad, ctx.inputs[2].shape) if needs[2] else None,)
        return grads

    @staticmethod
    def _backward_per_slice_affine(ctx, grad):
        """Backward when weight and bias are constant over each normalized slice (BatchNorm,
        InstanceNorm): they come out of the sums, sum(dxhat) = weight sum(g), and
        sum(dxhat xhat) = weight sum(g xhat), which are also db and dW.  Two reductions, one
        temporary array:  dx = weight inv_std (g - mean(g) - xhat mean(g xhat))."""
        xhat, inv_std, weight = ctx.saved_arrays
        needs, axes = ctx.needs_input_grad, ctx.axes
        scale = inv_std if weight is None else inv_std * weight
        sum_g = sum_over(axes, grad)
        sum_g_xhat = sum_over(axes, grad, xhat)
        dx = None
        if needs[0]:
            if ctx.fixed is not None:
                dx = grad * scale
            else:
                n = xhat.size // inv_std.size
                dx = xhat * (sum_g_xhat / n)
                np.subtract(grad, dx, out=dx)
                dx -= sum_g / n
                dx *= scale
        grads = (dx,)
        if len(needs) > 1:
            grads += (unbroadcast(sum_g_xhat, weight.shape) if needs[1] else None,)  # InstanceNorm: sum over N
        if len(needs) > 2:
            grads += (unbroadcast(sum_g, ctx.inputs[2].shape) if needs[2] else None,)
        return grads

    @staticmethod
    def backward_graph(ctx, grad):
        """The same gradients as Tensor operations, for create_graph=True (gradient penalties).

        The statistics are recomputed from the input tensor, so that second
        derivatives include their dependence on x.
        """
        x, weight = ctx.inputs[0], (ctx.inputs[1] if len(ctx.inputs) > 1 else None)
        needs, axes = ctx.needs_input_grad, ctx.axes
        if ctx.fixed is not None:
            mean, var = (as_tensor(a) for a in ctx.fixed)
        else:
            mean, var = x.mean(dim=axes, keepdim=True), x.var(dim=axes, keepdim=True, correction=0)
        inv_std = 1.0 / (var + ctx.eps).sqrt()
        xhat = (x - mean) * inv_std
        dxhat = grad * weight if weight is not None else grad
        dx = None
        if needs[0]:
            if ctx.fixed is not None:
                dx = dxhat * inv_std
            else:
                n = x.numel() // inv_std.numel()
                sum_dxhat = dxhat.sum(dim=axes, keepdim=True)
                sum_dxhat_xhat = (dxhat * xhat).sum(dim=axes, keepdim=True)
                dx = (inv_std / n) * (dxhat * n - sum_dxhat - xhat * sum_dxhat_xhat)
        grads = (dx,)
        if len(needs) > 1:
            grads += (grad * xhat if needs[1] else None,)
        if len(needs) > 2:
            grads += (grad if needs[2] else None,)
        return grads


# ----------------------------------------------------------------------------------------------
# Functional forms (PyTorch's torch.nn.functional signatures), exported by deepnotes.nn.functional.


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
    running.data *= 1.0 - momentum
    running.data += momentum * batch_value.reshape(running.shape).astype(running.dtype, copy=False)


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
        stats = (running_mean.data.reshape(param_shape), running_var.data.reshape(param_shape))
        return Normalize.apply(x, *affine, axes=axes, eps=eps, fixed_stats=stats)
    count = x.data.size // max(channels, 1)
    if count <= 1:
        raise ValueError(f"batch_norm: Expected more than 1 value per channel when training, got input size {x.shape}")
    stats = moments(x.data, axes)
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
        stats = (running_mean.data.reshape(param_shape), running_var.data.reshape(param_shape))
        return Normalize.apply(x, *affine, axes=axes, eps=eps, fixed_stats=stats)
    count = int(np.prod(x.shape[2:]))
    if count <= 1:
        raise ValueError(f"instance_norm: Expected more than 1 spatial element when training, got input size {x.shape}")
    stats = moments(x.data, axes)
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
