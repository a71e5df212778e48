"""Fast path: `Sequential.forward` with its ReLUs in place, after max pooling, or fused into a Linear.

Within a Sequential, the output of a Linear or convolution goes to the next module alone. When
that module is a ReLU, rectifying the fresh array in place loses nothing and saves an
allocation and a pass over memory; the mask out > 0 is the same either way.

A ReLU followed by max pooling runs after it instead: max and ReLU commute (ReLU is monotone),
max(relu(window)) = relu(max(window)), and the gradient reaches the same element (the window's
maximum, or nowhere when it is <= 0), so the ReLU works on the pooled output, a quarter of the
size under 2 x 2 pooling, forward and backward.

A ReLU followed by a Linear becomes one node, `ReLULinear`: y = relu(z) W^T + b. Its backward
computes dz = (g W) * 1[relu(z) > 0] with the mask applied in place to the product g W, a fresh
array only this node holds; the separate ReLU node has to allocate a new array for it, because
the gradient it receives may be shared. One node instead of two is also one fewer `apply`, one
fewer step of the backward walk and one fewer module call: on a small MLP these calls, not the
arithmetic, are what the framework adds to a hand-written NumPy step.

Only the exact classes qualify (a subclass may return something else), and never a module with
hooks or a `forward` replaced on the instance: those must run and see what they would see
without the shortcut. `tests/fast/test_fast_paths.py` compares every result and gradient with
the reference path.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..nn.functional.linear import apply_checked
from ..nn.layers.activation import ReLU
from ..nn.layers.conv import Conv1d, Conv2d
from ..nn.layers.linear import Linear
from ..nn.layers.pooling import MaxPool1d, MaxPool2d
from ..ops.activation import ReLU as ReLUFunction
from ..ops.activation import rectify
from ..ops.matmul import Linear as LinearFunction
from . import register

# Layers whose output is a new array that nothing else keeps: their backward reads their
# inputs, never their output.
_PRIVATE_OUTPUT = (Linear, Conv1d, Conv2d)
_MAX_POOLS = (MaxPool1d, MaxPool2d)


class ReLULinear(Function):
    """y = relu(z) W^T + b as one node, for z (..., in), W (out, in), b (out,) or absent.

    Forward: a = max(z, 0) (written into z with `overwrite`), then the Linear kernel on a.
    Backward: the Linear kernel's gradients (dW = g^T a, db = sum g, da = g W), then
    dz = da * 1[a > 0] in place (ReLU'(0) = 0, as the ReLU node).
    """

    @staticmethod
    def forward(ctx, z, weight, bias=None, overwrite=False):
        a = rectify(z, overwrite)
        return LinearFunction.forward(ctx, a, weight, bias)  # saves (a, W)

    @staticmethod
    def backward(ctx, grad):
        grads = LinearFunction.backward(ctx, grad)
        if grads[0] is None:
            return grads
        dz = grads[0]  # g W: a new array (or a view of one) that nothing else holds
        dz *= ctx.saved_arrays[0] > 0
        return (dz,) + grads[1:]

    @staticmethod
    def backward_graph(ctx, grad):
        """The same gradients from Tensor ops (create_graph=True): the ReLU is recorded, so a
        second derivative sees its mask."""
        z, weight = ctx.inputs[0], ctx.inputs[1]
        a = z.relu()  # z may hold relu(z) already (overwrite): relu is idempotent, its mask the same
        g2, a2 = grad.reshape(-1, grad.shape[-1]), a.reshape(-1, a.shape[-1])
        needs = ctx.needs_input_grad
        mask = ctx.graph_xp.constant(a._data > 0, z.dtype)
        dz = (g2 @ weight).reshape(z.shape) * mask if needs[0] else None
        dw = g2.T @ a2 if needs[1] else None
        db = g2.sum(dim=0) if len(needs) == 3 and needs[2] else None
        return (dz, dw) if len(needs) == 2 else (dz, dw, db)


def _plain(module, cls):
    """Whether `module` is exactly a `cls`, with no hooks and no `forward` set on the instance."""
    return type(module) is cls and not module.has_hooks and "forward" not in module.__dict__


def _relu_linear(z, linear, overwrite):
    weight, bias = linear._weight_and_bias()
    z = z if isinstance(z, Tensor) else as_tensor(z)
    return apply_checked(ReLULinear, z, weight, bias, linear._name, overwrite=overwrite)


@register("sequential_relu_in_place", replaces="deepnotes.nn.Sequential.forward")
def sequential_forward(modules, x):
    """Call `modules` in order; a ReLU rectifies in place after a Linear/conv, runs after the
    max pooling that follows it, and with the Linear that follows it as one `ReLULinear` node."""
    modules = tuple(modules)
    previous, i = None, 0
    while i < len(modules):
        m = modules[i]
        if not _plain(m, ReLU):
            x = m(x)
        else:
            overwrite = type(previous) in _PRIVATE_OUTPUT and _plain(previous, type(previous))
            after = modules[i + 1] if i + 1 < len(modules) else None
            if _plain(after, Linear) and after.in_features:
                m = after
                i += 1
                x = _relu_linear(x, m, overwrite)
            elif type(after) in _MAX_POOLS and _plain(after, type(after)) and not after.return_indices:
                m = after  # max pooling commutes with ReLU: pool first, rectify the smaller output
                i += 1
                x = ReLUFunction.apply(m(x))
            else:
                x = ReLUFunction.apply(x, overwrite=True) if overwrite else m(x)
        previous = m
        i += 1
    return x
