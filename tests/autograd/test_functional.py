"""Higher-order derivatives (src/deepnotes/autograd/functional.py) against torch.autograd.functional (O5)."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import deepnotes as dn
from deepnotes.autograd import functional as F
from tests.oracle import assert_close
from tests.doctests import assert_examples_run


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def log_sum_exp(x):
    return x.logsumexp(0) if isinstance(x, dn.Tensor) else torch.logsumexp(x, 0)


def _mlp_pieces(lib):
    """A tiny MLP's loss as a function of its flat weight vector (3 -> 4 -> 2, tanh, log-softmax NLL)."""
    rng = np.random.default_rng(0)
    x, targets = rng.standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    onehot = np.eye(2)[targets]
    X, Y = lib.tensor(x), lib.tensor(onehot)

    def loss(w):
        w1, b1, w2, b2 = w[:12].reshape(4, 3), w[12:16], w[16:24].reshape(2, 4), w[24:26]
        logits = (X @ w1.T + b1).tanh() @ w2.T + b2
        return -(logits.log_softmax(-1) * Y).sum() / 5

    return loss


FUNCTIONS = {
    "rosenbrock": (rosenbrock, rosenbrock, 5),
    "log_sum_exp": (log_sum_exp, log_sum_exp, 6),
    "quartic": (lambda x: (x ** 4).sum() + (x[0] * x[1]), lambda x: (x ** 4).sum() + (x[0] * x[1]), 3),
    "mlp_loss": (_mlp_pieces(dn), _mlp_pieces(torch), 26),
    "sigmoid_softmax_mix": (lambda x: (x.sigmoid() * x.softmax(0)).sum() + x.var(),
                            lambda x: (x.sigmoid() * x.softmax(0)).sum() + x.var(), 4),
}


def _point(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, n), rng.standard_normal(n)


@pytest.mark.covers("O5")
@pytest.mark.parametrize("name", FUNCTIONS)
def test_hvp_matches_torch(name):
    dn_f, th_f, n = FUNCTIONS[name]
    x, v = _point(n)
    out, hv = F.hvp(dn_f, dn.tensor(x), dn.tensor(v))
    t_out, t_hv = TF.hvp(th_f, torch.tensor(x), torch.tensor(v))
    assert_close(out, t_out, "function value")
    assert_close(hv, t_hv, "Hessian-vector product", atol=1e-8, rtol=1e-7)
    assert not hv.requires_grad


@pytest.mark.covers("O5")
@pytest.mark.parametrize("name", FUNCTIONS)
def test_hessian_matches_torch(name):
    dn_f, th_f, n = FUNCTIONS[name]
    x, _ = _point(n, seed=1)
    H = F.hessian(dn_f, dn.tensor(x))
    t_H = TF.hessian(th_f, torch.tensor(x))
    assert_close(H, t_H, "Hessian", atol=1e-8, rtol=1e-7)
    np.testing.assert_allclose(H.data, H.data.T, atol=1e-10)  # symmetric (Schwarz)


@pytest.mark.covers("O5")
def test_hessian_of_several_inputs_and_matrix_shapes():
    def f(a, b):
        return ((a @ b).tanh() ** 2).sum() + (a * a).sum() * b.sum()

    a, b = np.random.default_rng(2).standard_normal((2, 3)), np.random.default_rng(3).standard_normal((3, 2))
    H = F.hessian(f, (dn.tensor(a), dn.tensor(b)))
    t_H = TF.hessian(f, (torch.tensor(a), torch.tensor(b)))
    for i in range(2):
        for j in range(2):
            assert_close(H[i][j], t_H[i][j], f"Hessian block ({i}, {j})", atol=1e-8, rtol=1e-7)
    _, hv = F.hvp(f, (dn.tensor(a), dn.tensor(b)), (dn.tensor(np.ones_like(a)), dn.tensor(np.ones_like(b))))
    _, t_hv = TF.hvp(f, (torch.tensor(a), torch.tensor(b)), (torch.ones(2, 3, dtype=torch.float64),
                                                            torch.ones(3, 2, dtype=torch.float64)))
    for i in range(2):
        assert_close(hv[i], t_hv[i], f"hvp {i}", atol=1e-8, rtol=1e-7)


@pytest.mark.covers("O5")
def test_vjp_and_jacobian_match_torch():
    def f(x):
        return (x.softmax(0) * x).tanh()

    x, v = _point(4, seed=4)
    out, g = F.vjp(f, dn.tensor(x), dn.tensor(v))
    t_out, t_g = TF.vjp(f, torch.tensor(x), torch.tensor(v))
    assert_close(out, t_out, "vjp output")
    assert_close(g, t_g, "vjp")
    assert_close(F.jacobian(f, dn.tensor(x)), TF.jacobian(f, torch.tensor(x)), "Jacobian")


@pytest.mark.covers("O5")
def test_hessian_of_a_linear_function_is_zero_and_of_a_quadratic_is_constant():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    H = F.hessian(lambda x: (x * dn.tensor([1.0, -2.0], dtype=np.float64)).sum(), dn.tensor(np.ones(2)))
    np.testing.assert_array_equal(H.data, np.zeros((2, 2)))
    H = F.hessian(lambda x: 0.5 * (x @ dn.tensor(A) @ x), dn.tensor(np.array([0.3, -0.7])))
    np.testing.assert_allclose(H.data, A)


@pytest.mark.covers("O5")
def test_newton_step_solves_a_quadratic_in_one_step():
    """x_new = x - H^-1 g: exact for a quadratic, the point of second-order methods."""
    A, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])

    def f(x):
        return 0.5 * (x @ dn.tensor(A) @ x) - (dn.tensor(b) * x).sum()

    x = np.array([5.0, -4.0])
    xt = dn.tensor(x, requires_grad=True)
    (g,) = dn.autograd.grad(f(xt), xt)
    x_new = x - np.linalg.solve(F.hessian(f, dn.tensor(x)).data, g.data)
    np.testing.assert_allclose(x_new, np.linalg.solve(A, b), atol=1e-12)


@pytest.mark.covers("O5")
def test_inputs_and_their_grads_are_untouched():
    x = dn.tensor(np.array([0.5, -0.5]), requires_grad=True)
    F.hvp(rosenbrock, x, dn.tensor(np.ones(2)))
    F.hessian(rosenbrock, x)
    assert x.grad is None and x.grad_fn is None


@pytest.mark.covers("O5")
def test_create_graph_makes_the_hvp_differentiable():
    """Third derivative of sum(x^4): d/dx <H v, 1> with H = diag(12 x^2) gives 24 x v."""
    x = dn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    v = dn.tensor(np.array([1.0, 3.0]))
    _, hv = F.hvp(lambda t: (t ** 4).sum(), x, v, create_graph=True)
    (third,) = dn.autograd.grad(hv.sum(), x)
    np.testing.assert_allclose(third.data, 24 * x.data * v.data)


@pytest.mark.covers("O5")
def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="hvp: func must return a one-element Tensor"):
        F.hvp(lambda x: x * 2, dn.tensor(np.ones(2)), dn.tensor(np.ones(2)))
    with pytest.raises(ValueError, match="hvp: v must match"):
        F.hvp(rosenbrock, dn.tensor(np.ones(2)), dn.tensor(np.ones(3)))
    with pytest.raises(TypeError, match="floating point"):
        F.hessian(rosenbrock, dn.tensor([1, 2]))


@pytest.mark.covers("O5")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.autograd.functional")
