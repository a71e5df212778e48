"""Fast path: `Sequential.forward` with its ReLUs in place, after max pooling, or fused into a Linear.

Within a Sequential, the output of a Linear or convolution goes to the next module alone. When
that module is a ReLU, rectifying the fresh array in place loses nothing and saves an
allocation and a pass over memory; the mask out > 0 is the same either way.

A ReLU followed by max pooling runs after it instead: max and ReLU commute (ReLU is monotone),
max(relu(window)) = relu(max(window)), and the gradient reaches the same element (the window's
maximum, or nowhere when it is <= 0), so the ReLU works on the pooled output, a quarter of the
size under 2 x 2 pooling, forward and backward.

A run Linear, ReLU, Linear, ..., Linear (or the same after a ReLU) becomes one node,
`LinearChain`: a forward of GEMMs and in-place rectifications, and a backward that applies each
ReLU's mask in place to the fresh product g W, where separate ReLU nodes each allocate a new
array (the gradient they receive may be shared). One node for the whole run is also one `apply`
and one step of the backward walk instead of two per layer, and no module calls: on an MLP
these calls, not the arithmetic, are what the framework adds to a hand-written NumPy step.
Its input checks are Linear's (dtype, widths) and one NaN check of the output, since a NaN
anywhere in the run reaches it; when one fails the modules run one by one and raise their own
errors.

Only the exact classes qualify (a subclass may return something else), and never a module with
hooks or a `forward` replaced on the instance: those must run and see what they would see
without the shortcut. `tests/fast/test_fast_paths.py` compares every result and gradient with
the reference path.
"""
from __future__ import annotations

from .. import _checks
from .._checks import holds_nan
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backends import blas
from ..nn.layers.activation import ReLU
from ..nn.layers.conv import Conv1d, Conv2d
from ..nn.layers.linear import Linear
from ..nn.layers.pooling import MaxPool1d, MaxPool2d
from ..ops.activation import ReLU as ReLUFunction
from ..ops.activation import rectify
from . import register

# Layers whose output is a new array that nothing else keeps: their backward reads their
# inputs, never their output.
_PRIVATE_OUTPUT = (Linear, Conv1d, Conv2d)
_MAX_POOLS = (MaxPool1d, MaxPool2d)


def _layers(params, has_bias):
    """[(W_i, b_i or None)] from the flat parameter list (biases only where `has_bias`)."""
    layers, k = [], 0
    for bias in has_bias:
        layers.append((params[k], params[k + 1] if bias else None))
        k += 1 + bias
    return layers


class LinearChain(Function):
    """A run of Linear layers with a ReLU before each one but the first (and before the first
    too with `relu_first`), as one node:

        a_0 = x (or relu(x)),   h_i = a_i W_i^T + b_i,   a_{i+1} = relu(h_i),   output h_{k-1}

    x: (..., in), W_i: (out_i, in_i), b_i: (out_i,) or absent (`has_bias`); the inputs are x and
    then each layer's W_i and b_i. Leading axes of x are folded into one for the products.
    Forward rectifies each h_i in place (this node's own array; x itself only with `overwrite`).
    Backward from g = dL/dh_{k-1}, layer by layer down:
        dW_i = g^T a_i,   db_i = sum_rows g,   g <- (g W_i) * 1[a_i > 0]
    with the mask applied in place to the fresh product g W_i (ReLU'(0) = 0), where separate
    ReLU nodes each allocate a new array (the gradient they receive may be shared).
    """

    @staticmethod
    def forward(ctx, x, *params, has_bias, relu_first=False, overwrite=False):
        h = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        inputs, weights = [], []
        for i, (w, b) in enumerate(_layers(params, has_bias)):
            if i or relu_first:
                h = rectify(h, overwrite=bool(i) or overwrite)
            inputs.append(h)
            weights.append(w)
            h = blas.gemm(h, w, trans_b=True)
            if b is not None:
                h += b
        ctx.save_for_backward(*inputs, *weights)
        ctx.has_bias, ctx.relu_first, ctx.x_shape = has_bias, relu_first, x.shape
        return h if x.ndim == 2 else h.reshape(x.shape[:-1] + (h.shape[1],))

    @staticmethod
    def backward(ctx, grad):
        n, needs = len(ctx.has_bias), ctx.needs_input_grad
        inputs, weights = ctx.saved_arrays[:n], ctx.saved_arrays[n:]
        g = grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1])
        grads, slot = [None] * len(needs), len(needs)
        for i in reversed(range(n)):
            if ctx.has_bias[i]:
                slot -= 1
                grads[slot] = g.sum(axis=0) if needs[slot] else None
            slot -= 1
            grads[slot] = blas.matmul(g, inputs[i], trans_a=True) if needs[slot] else None
            if i == 0 and not needs[0]:
                break
            g = blas.matmul(g, weights[i])  # a new array: the mask goes in place
            if i or ctx.relu_first:
                g *= inputs[i] > 0
        if needs[0]:
            grads[0] = g if len(ctx.x_shape) == 2 else g.reshape(ctx.x_shape)
        return tuple(grads)

    @staticmethod
    def backward_graph(ctx, grad):
        """The same gradients from Tensor ops (create_graph=True): the activations are recomputed
        with recorded ops from the inputs, so a second derivative sees them (x may hold relu(x)
        already, with `overwrite`: relu is idempotent and its mask the same)."""
        x, needs = ctx.inputs[0], ctx.needs_input_grad
        layers = _layers(ctx.inputs[1:], ctx.has_bias)
        h, inputs = x.reshape(-1, x.shape[-1]), []
        for i, (w, b) in enumerate(layers):
            h = h.relu() if i or ctx.relu_first else h
            inputs.append(h)
            h = h @ w.T if b is None else h @ w.T + b
        g = grad.reshape(-1, grad.shape[-1])
        grads, slot = [None] * len(needs), len(needs)
        for i in reversed(range(len(layers))):
            if ctx.has_bias[i]:
                slot -= 1
                grads[slot] = g.sum(dim=0) if needs[slot] else None
            slot -= 1
            grads[slot] = g.T @ inputs[i] if needs[slot] else None
            g = g @ layers[i][0]
            if i or ctx.relu_first:
                g = g * ctx.graph_xp.constant(inputs[i]._data > 0, g.dtype)
        grads[0] = g.reshape(x.shape) if needs[0] else None
        return tuple(grads)


def _plain(module, cls):
    """Whether `module` is exactly a `cls`, with no hooks and no `forward` set on the instance."""
    return type(module) is cls and not module.has_hooks and "forward" not in module.__dict__


def _chain_end(modules, start):
    """The index after the last Linear of the chain Linear (ReLU Linear)* at modules[start]."""
    end = start + 1
    while (end + 1 < len(modules) and _plain(modules[end], ReLU) and _plain(modules[end + 1], Linear)
           and modules[end + 1].in_features):
        end += 2
    return end


def _run_chain(x, linears, relu_first, overwrite):
    """The chain's output as one `LinearChain` node; None when a check fails or the output holds
    a NaN (the caller then runs the modules one by one, whose checks raise the errors)."""
    x = x if isinstance(x, Tensor) else as_tensor(x)
    params, has_bias, width, dtype = [], [], x._data.shape[-1] if x._data.ndim else None, x._data.dtype
    if dtype.kind != "f":
        return None
    for layer in linears:
        w, b = layer._weight_and_bias()
        if w._data.ndim != 2 or w._data.shape[1] != width or w._data.dtype != dtype or (
                b is not None and b._data.shape != (w._data.shape[0],)):
            return None
        params.append(w)
        if b is not None:
            params.append(b)
        has_bias.append(b is not None)
        width = w._data.shape[0]
    out = LinearChain.apply(x, *params, has_bias=tuple(has_bias), relu_first=relu_first, overwrite=overwrite)
    return None if _checks.ENABLED and holds_nan(out._data) else out


@register("feed_forward_chain", replaces="deepnotes.nn.TransformerEncoderLayer._ff_block (ReLU, no dropout)")
def feed_forward(linear1, linear2, x):
    """linear2(relu(linear1(x))) as one `LinearChain` node (a Transformer's feed-forward sublayer:
    its hidden activation, the largest of the layer, is rectified in place); None when either
    layer is not a plain Linear or a check fails (the caller then runs the layers one by one)."""
    if not (_plain(linear1, Linear) and _plain(linear2, Linear) and linear1.in_features):
        return None
    return _run_chain(x, (linear1, linear2), False, False)


@register("sequential_relu_in_place", replaces="deepnotes.nn.Sequential.forward")
def sequential_forward(modules, x):
    """Call `modules` in order; a ReLU rectifies in place after a Linear/conv, runs after the
    max pooling that follows it, and a run Linear (ReLU Linear)* (or ReLU Linear (ReLU Linear)*)
    is one `LinearChain` node."""
    modules = tuple(modules)
    previous, i = None, 0
    while i < len(modules):
        m = modules[i]
        relu = _plain(m, ReLU)
        # a ReLU may overwrite its input when that is the fresh output of the module before it
        overwrite = relu and type(previous) in _PRIVATE_OUTPUT and _plain(previous, type(previous))
        start = i + 1 if relu else i
        if start < len(modules) and _plain(modules[start], Linear) and modules[start].in_features:
            end = _chain_end(modules, start)
            if relu or end > start + 1:  # at least one ReLU to fuse
                out = _run_chain(x, modules[start:end:2], relu, overwrite)
                if out is not None:
                    x, previous, i = out, modules[end - 1], end
                    continue
                for module in modules[i:end]:  # a failed check or a NaN: the modules raise their errors
                    x = module(x)
                previous, i = modules[end - 1], end
                continue
        if not relu:
            x = m(x)
        else:
            after = modules[i + 1] if i + 1 < len(modules) else None
            if type(after) in _MAX_POOLS and _plain(after, type(after)) and not after.return_indices:
                m = after  # max pooling commutes with ReLU: pool first, rectify the smaller output
                i += 1
                x = ReLUFunction.apply(m(x))
            else:
                x = ReLUFunction.apply(x, overwrite=True) if overwrite else m(x)
        previous = m
        i += 1
    return x
