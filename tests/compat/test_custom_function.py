"""A user's `autograd.Function` written as in PyTorch's tutorials runs unchanged (Tensors in forward and
backward, `ctx.saved_tensors`, one gradient per argument), with PyTorch's values and gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnotes as dn
from tests.oracle import assert_close


def _functions(lib):
    """The same two Functions, written once for `lib` (deepnotes or torch), as a PyTorch user writes them."""

    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            grad = grad_output.clone()
            grad[x < 0] = 0
            return grad

    class ScaledCube(lib.autograd.Function):
        """x^3 * scale, with a non-tensor argument (its gradient slot is None) and a saved output."""

        @staticmethod
        def forward(ctx, x, scale):
            out = x ** 3 * scale
            ctx.scale = scale
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            x, out = ctx.saved_tensors
            return grad_output * 3 * x ** 2 * ctx.scale, None

    return MyReLU, ScaledCube


@pytest.mark.covers("E1")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tutorial_style_functions_match_torch(seed):
    x = np.random.default_rng(seed).standard_normal((4, 5))
    results = {}
    for lib in (dn, torch):
        relu, cube = _functions(lib)
        t = lib.tensor(x, requires_grad=True)
        y = cube.apply(relu.apply(t) - 0.3, 1.7)
        (y * lib.tensor(np.arange(20.0).reshape(4, 5))).sum().backward()
        results[lib.__name__] = (y.detach().numpy(), t.grad.numpy())
    assert_close(results["deepnotes"][0], results["torch"][0], "forward")
    assert_close(results["deepnotes"][1], results["torch"][1], "gradient")


@pytest.mark.covers("E1")
def test_second_derivative_through_a_custom_function_matches_torch():
    x = np.array([0.5, -1.5, 2.0])
    grads = {}
    for lib in (dn, torch):
        _, cube = _functions(lib)
        t = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(cube.apply(t, 2.0).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), t)
        grads[lib.__name__] = (g.detach().numpy(), gg.numpy())
    assert_close(grads["deepnotes"][0], grads["torch"][0], "first derivative 6 x^2")
    assert_close(grads["deepnotes"][1], grads["torch"][1], "second derivative 12 x")


@pytest.mark.covers("E1")
def test_custom_function_mistakes_are_named():
    class TwoOutputs(dn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, a, b):
            return a

    class WrongCount(dn.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = dn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="TwoOutputs.forward returned 2 outputs"):
        TwoOutputs.apply(x)
    with pytest.raises(ValueError, match="WrongCount.backward returned 1 gradients, expected 2"):
        WrongCount.apply(x, x).sum().backward()


@pytest.mark.covers("E1")
def test_without_recording_the_function_leaves_no_graph():
    relu, _ = _functions(dn)
    with dn.no_grad():
        y = relu.apply(dn.tensor([-1.0, 2.0], requires_grad=True))
    assert y.grad_fn is None and y.tolist() == [0.0, 2.0]


def _kind(node):
    """A grad_fn as PyTorch users read it: None, 'AccumulateGrad' (a leaf) or 'op' (an operation)."""
    if node is None:
        return None
    return "AccumulateGrad" if type(node).__name__ == "AccumulateGrad" else "op"


@pytest.mark.covers("E1")
def test_next_functions_walk_the_graph_as_in_pytorch():
    """The tutorial's `loss.grad_fn.next_functions[0][0]`: one step back per input, leaves as AccumulateGrad."""
    x = np.random.default_rng(5).standard_normal((3, 4))
    shapes = {}
    for lib in (dn, torch):
        w = lib.tensor(x, requires_grad=True)
        d = (w * lib.tensor(x)).sum(dim=1) - 1.0
        loss = (d * d).mean()  # (pow with a number exponent: PyTorch lists only the base, deepnotes both)
        node, seen = loss.grad_fn, []
        while node is not None:
            seen.append([(_kind(f), i) for f, i in node.next_functions])
            leaves = [f for f, _ in node.next_functions if _kind(f) == "AccumulateGrad"]
            if leaves:
                assert leaves[0].variable is w
            node = next((f for f, _ in node.next_functions if _kind(f) == "op"), None)
        shapes[lib.__name__] = seen
    assert shapes["deepnotes"] == shapes["torch"]
    assert repr(dn.tensor([1.0], requires_grad=True).mul(2).grad_fn).startswith("<MulBackward object at 0x")
