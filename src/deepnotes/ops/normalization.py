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
kernel keeps only the statistics (mean and 1/std, one value per slice) and
computes the gradient in closed form.  Its input stays alive anyway (the graph
holds it), so backward recomputes xhat from it, as PyTorch's BatchNorm does,
rather than keep a second activation-sized array through the whole step.  The
tests check it against PyTorch and against the composed version.
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
        inv_std = inv_std.astype(x.dtype, copy=False)
        y = centered if fixed_stats is None else np.subtract(x, mean, dtype=x.dtype)
        y *= inv_std  # xhat; the output is made in its array: backward recomputes xhat from x
        if weight is not None:
            y *= weight
        if bias is not None:
            y += bias
        if ctx.tracked:
            # fixed statistics are views of the running buffers, which a later forward updates in place
            fixed = None if fixed_stats is None else tuple(np.array(a) for a in fixed_stats)
            ctx.axes, ctx.eps, ctx.fixed = axes, eps, fixed
            ctx.save_for_backward(mean if fixed is None else fixed[0], inv_std, weight)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def _xhat(ctx):
        """xhat = (x - mean) * (1 / std) from the input, bit for bit as forward computed it."""
        x = ctx.inputs[0]._data
        mean, inv_std = ctx.saved_arrays[:2]
        xhat = np.subtract(x, mean, dtype=x.dtype)
        xhat *= inv_std
        return xhat

    @staticmethod
    def backward(ctx, grad):
        _, inv_std, weight = ctx.saved_arrays
        needs, axes = ctx.needs_input_grad, ctx.axes
        if weight is None or _constant_along(weight, axes, grad.ndim):
            return Normalize._backward_per_slice_affine(ctx, grad)
        xhat = Normalize._xhat(ctx)
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
        _, inv_std, weight = ctx.saved_arrays
        needs, axes = ctx.needs_input_grad, ctx.axes
        xhat = Normalize._xhat(ctx)
        scale = inv_std if weight is None else inv_std * weight
        sum_g = sum_over(axes, grad)
        sum_g_xhat = sum_over(axes, grad, xhat)
        dx = None
        if needs[0]:
            if ctx.fixed is not None:
                dx = grad * scale
            else:
                n = xhat.size // inv_std.size
                dx = xhat  # its own array, not needed after the sums: dx is made in it
                dx *= sum_g_xhat / n
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
