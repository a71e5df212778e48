"""The backward pass (src/deepnotes/autograd/engine.py): accumulation, retain_graph, freeing, aliasing."""
import numpy as np
import pytest
import torch

import deepnotes as dn
from deepnotes.autograd import grad
from tests.oracle import assert_close, check_fn, random_inputs
from tests.doctests import assert_examples_run


@pytest.mark.covers("E1")
def test_a_reused_non_leaf_accumulates_its_gradient():
    # z = y^2 + y with y = 2x: dz/dx = (2y + 1) * 2
    check_fn(lambda x: (lambda y: y * y + y)(x * 2), lambda x: (lambda y: y * y + y)(x * 2), random_inputs([(3,)]))
    x = dn.tensor(1.5, requires_grad=True)
    y = x * 2
    (y * y + y).backward()
    assert x.grad.numpy() == pytest.approx((2 * 3.0 + 1) * 2)


@pytest.mark.covers("E1")
def test_diamond_graph():
    def f(x):  # x -> a -> (b, c) -> out: two paths from a to the output
        a = x.exp()
        b, c = a * 3, a.sqrt()
        return (b * c + b).sum()

    check_fn(f, f, random_inputs([(4,)], low=0.1, high=1.0))


@pytest.mark.covers("E1")
def test_chain_rule_through_an_mlp_against_torch():
    x, w1, b1, w2 = random_inputs([(5, 3), (4, 3), (4,), (2, 4)])
    check_fn(lambda x, w1, b1, w2: ((x @ w1.T + b1).tanh() @ w2.T).log_softmax(-1).mean(),
             lambda x, w1, b1, w2: ((x @ w1.T + b1).tanh() @ w2.T).log_softmax(-1).mean(), [x, w1, b1, w2])


@pytest.mark.covers("E1")
def test_backward_twice_without_retain_graph_raises():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        y.backward()


@pytest.mark.covers("E1")
def test_backward_twice_with_retain_graph_accumulates_like_torch():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = (t * t).sum()
    ty.backward(retain_graph=True)
    ty.backward()
    assert_close(x.grad.numpy(), t.grad.numpy(), "accumulated gradient")


@pytest.mark.covers("E1")
def test_saved_arrays_are_freed_after_backward_unless_retained():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    assert len(node.saved_arrays) == 1
    y.sum().backward(retain_graph=True)
    assert len(node.saved_arrays) == 1 and not node.released
    y.sum().backward()
    assert node.saved_arrays == () and node.inputs == () and node.released


@pytest.mark.covers("E1")
def test_backward_on_a_non_scalar_needs_a_gradient():
    x = dn.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        y.backward()
    g = np.arange(6.0).reshape(2, 3)
    y.backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), 3 * g)
    x.grad = None
    (x * 3).backward(grad=dn.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), 3 * g)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 3).backward(np.ones(3))


@pytest.mark.covers("E1")
def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        dn.tensor([1.0]).sum().backward()


@pytest.mark.covers("E1")
def test_backward_on_a_leaf_seeds_its_own_gradient():
    x = dn.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.numpy() == 1.0


@pytest.mark.covers("E1")
def test_leaf_gradients_are_never_aliased():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = dn.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()  # Add hands the same gradient array to both inputs
    assert x.grad is not y.grad and not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    x.grad += 10
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    # Views (reshape, expand, indexing) must not end up as read-only .grad either.
    z = dn.tensor(np.ones((2, 2)), requires_grad=True)
    z.reshape(4).sum().backward()
    z.grad *= 2
    np.testing.assert_array_equal(z.grad.numpy(), 2 * np.ones((2, 2)))


@pytest.mark.covers("E1")
def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).retain_grad()
    z = x * 3
    (y * y + z).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.numpy())
    assert z.grad is None and not y.is_leaf


@pytest.mark.covers("E1")
def test_a_deep_chain_does_not_hit_the_recursion_limit():
    x = dn.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad.numpy() == pytest.approx(1.0001 ** 5000, rel=1e-3)


@pytest.mark.covers("E1")
def test_mixed_dtypes_promote_and_grads_keep_each_inputs_dtype():
    a = dn.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = dn.tensor(np.ones(3, dtype=np.float64), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.numpy().dtype == np.float32 and b.grad.numpy().dtype == np.float64


@pytest.mark.covers("E1")
def test_gradients_of_broadcast_operands_are_summed_back():
    a = dn.tensor(np.ones((3, 1)), requires_grad=True)
    b = dn.tensor(np.ones(4), requires_grad=True)
    (a * b * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 6.0))


@pytest.mark.covers("E1")
def test_only_inputs_that_require_grad_get_one():
    a = dn.tensor([1.0, 2.0], requires_grad=True)
    b = dn.tensor([3.0, 4.0])
    (a * b).sum().backward()
    assert b.grad is None and a.grad.numpy().tolist() == [3.0, 4.0]


@pytest.mark.covers("E3")
def test_backward_fills_grad_and_changes_no_value():
    """Backprop computes gradients; updating the parameters is a separate step (an optimizer's)."""
    w = dn.tensor([0.5, -1.0], requires_grad=True)
    x = dn.tensor([2.0, 3.0])
    before = w.numpy().copy()
    loss = ((w * x).sum() - 1.0) ** 2
    loss.backward()
    np.testing.assert_array_equal(w.numpy(), before)  # backward did not move w
    expected = 2 * ((before * x.numpy()).sum() - 1.0) * x.numpy()
    np.testing.assert_allclose(w.grad.numpy(), expected)
    with dn.no_grad():  # the gradient-descent step: a separate, explicit update
        w.data -= 0.01 * w.grad.numpy()
    np.testing.assert_allclose(w.numpy(), before - 0.01 * expected, rtol=1e-6)
    new_loss = ((w * x).sum() - 1.0) ** 2
    assert new_loss.item() < loss.item()


@pytest.mark.covers("E1")
def test_grad_returns_gradients_without_touching_dot_grad():
    x, w = random_inputs([(3, 2), (2,)])
    dx, dw = dn.tensor(x, requires_grad=True), dn.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    gx, gw = grad((dx @ dw).tanh().sum(), [dx, dw])
    tgx, tgw = torch.autograd.grad((tx @ tw).tanh().sum(), [tx, tw])
    assert_close(gx, tgx, "grad x")
    assert_close(gw, tgw, "grad w")
    assert dx.grad is None and dw.grad is None


@pytest.mark.covers("E1")
def test_grad_of_a_non_leaf_and_with_grad_outputs():
    x = dn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * x
    y = h * 2
    (gh,) = grad(y, h, grad_outputs=dn.tensor([1.0, 0.0, -1.0]), retain_graph=True)
    assert gh.tolist() == [2.0, 0.0, -2.0]
    (gx,) = grad(y.sum(), x)
    assert gx.tolist() == [4.0, 8.0, 12.0]


@pytest.mark.covers("E1")
def test_grad_errors_name_the_problem():
    x = dn.tensor([1.0], requires_grad=True)
    unused = dn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 .* was not used.*allow_unused"):
        grad((x * 2).sum(), [x, unused])
    gx, gu = grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.tolist() == [2.0]
    with pytest.raises(RuntimeError, match="input 0 .* does not require grad"):
        grad((x * 2).sum(), [dn.tensor([1.0])])


@pytest.mark.covers("E1")
def test_one_backward_serves_create_graph_and_a_once_differentiable_op_names_itself():
    class Square(dn.Function):
        on_arrays = True  # the kernel interface: arrays in and out

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_arrays
            return 2 * a * g

    x = dn.tensor([3.0], requires_grad=True)
    Square.apply(x).sum().backward()
    assert x.grad.numpy().tolist() == [6.0]
    # The same backward runs on Tensors: d/dx (2 x) = 2.
    (g,) = dn.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    (gg,) = dn.autograd.grad(g.sum(), x)
    assert g.tolist() == [6.0] and gg.tolist() == [2.0]

    class SquareOnArrays(Square):
        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_arrays
            return np.multiply(2 * a, g)  # NumPy refuses Tensors

    with pytest.raises(NotImplementedError, match="SquareOnArrays's backward does not run on Tensors"):
        SquareOnArrays.apply(x).sum().backward(create_graph=True)

    class SquareOnce(SquareOnArrays):
        once_differentiable = True

    SquareOnce.apply(x).sum().backward()  # first order is fine
    with pytest.raises(NotImplementedError, match="SquareOnce is once differentiable"):
        SquareOnce.apply(x).sum().backward(create_graph=True)


@pytest.mark.covers("E1", "O5")
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_with_create_graph_makes_grad_differentiable():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, dn.Tensor) and g.requires_grad
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    x.grad = None
    (g * dn.tensor([1.0, 1.0])).sum().backward()  # d/dx sum(3x^2) = 6x
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    (t ** 3).sum().backward(create_graph=True)
    gt = t.grad
    t.grad = None
    gt.sum().backward()
    assert_close(x.grad.numpy(), t.grad.float().numpy(), "double backward via .grad", rtol=1e-6)


@pytest.mark.covers("E1")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.autograd.engine")
