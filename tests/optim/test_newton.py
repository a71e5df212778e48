"""Damped Newton, exact and conjugate-gradient (Hessian-free), against closed forms and torch's Hessian (O5, O9)."""

import numpy as np
import pytest
import torch

import deepnotes as dn
from deepnotes.optim import SGD, Newton
from deepnotes.optim import testfunctions as T
from tests.doctests import assert_examples_run


def _spd(rng, n, cond=1e3):
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return (q * np.logspace(0, np.log10(cond), n)) @ q.T


@pytest.mark.covers("O5")
@pytest.mark.parametrize("mode", ["exact", "cg"])
@pytest.mark.parametrize("n", [1, 3, 8])
def test_one_step_solves_a_quadratic(mode, n):
    rng = np.random.default_rng(n)
    A, b = _spd(rng, n), rng.normal(size=n)
    x = dn.tensor(rng.normal(size=n), requires_grad=True)
    At, bt = dn.tensor(A), dn.tensor(b)
    opt = Newton([x], damping=0.0, mode=mode, cg_max_iter=4 * n)
    opt.step(lambda: 0.5 * (x @ At @ x) - (bt * x).sum())
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), rtol=1e-8, atol=1e-10)


@pytest.mark.covers("O5")
@pytest.mark.parametrize("mode", ["exact", "cg"])
def test_one_step_solves_least_squares_over_several_parameters(mode):
    """MSE of a linear layer is quadratic in (W, b): one Newton step reaches the least-squares fit."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 4)), rng.normal(size=(30, 2))
    W = dn.tensor(rng.normal(size=(2, 4)), requires_grad=True)
    b = dn.tensor(rng.normal(size=2), requires_grad=True)
    Xt, Yt = dn.tensor(X), dn.tensor(Y)
    opt = Newton([W, b], damping=0.0, mode=mode)
    opt.step(lambda: ((Xt @ W.T + b - Yt) ** 2).mean())
    coef = np.linalg.lstsq(np.hstack([X, np.ones((30, 1))]), Y, rcond=None)[0]
    np.testing.assert_allclose(W.numpy(), coef[:4].T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.numpy(), coef[4], rtol=1e-7, atol=1e-9)


def _mlp_problem(seed=0):
    rng = np.random.default_rng(seed)
    init = {"W1": rng.normal(0, 0.8, (3, 2)), "b1": rng.normal(0, 0.3, 3), "W2": rng.normal(0, 0.8, (1, 3))}
    x, t = rng.normal(size=(12, 2)), rng.normal(size=(12, 1))
    return init, x, t


def _mlp_loss(lib, p, x, t):
    return ((lib.tanh(x @ p["W1"].T + p["b1"]) @ p["W2"].T - t) ** 2).mean()


@pytest.mark.covers("O5")
@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_exact_direction_matches_torchs_hessian(damping):
    init, x, t = _mlp_problem()
    params = {k: dn.tensor(v.copy(), requires_grad=True) for k, v in init.items()}
    opt = Newton(list(params.values()), damping=damping)
    xt, tt = dn.tensor(x), dn.tensor(t)
    opt.step(lambda: _mlp_loss(dn, params, xt, tt))

    shapes = [v.shape for v in init.values()]
    sizes = [v.size for v in init.values()]

    def flat_loss(theta):
        pieces = dict(zip(init, (c.reshape(s) for c, s in zip(torch.split(theta, sizes), shapes))))
        return _mlp_loss(torch, pieces, torch.tensor(x), torch.tensor(t))

    theta = torch.tensor(np.concatenate([v.ravel() for v in init.values()]))
    H = torch.autograd.functional.hessian(flat_loss, theta).numpy()
    g = torch.autograd.functional.jacobian(flat_loss, theta).numpy()
    expected = -np.linalg.lstsq(H + damping * np.eye(len(g)), g, rcond=None)[0]
    state = opt.state[params["W1"]]
    np.testing.assert_allclose(state["last_direction"], expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.concatenate([params[k].grad.numpy().ravel() for k in init]), g, rtol=1e-10)


@pytest.mark.covers("O5")
def test_cg_newton_matches_exact_newton_on_a_convex_problem():
    """Regularized logistic regression: H is positive definite, so CG with n iterations solves exactly."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 2, 40).astype(float)
    Xt, yt = dn.tensor(X), dn.tensor(y)
    paths = {}
    for mode in ("exact", "cg"):
        w = dn.tensor(np.zeros(5), requires_grad=True)
        opt = Newton([w], mode=mode, damping=1e-3, cg_max_iter=20, cg_tol=1e-12)
        path = []

        def closure():
            z = Xt @ w
            return (dn.log(1 + dn.exp(z)) - yt * z).mean() + 0.05 * (w * w).sum()

        for _ in range(5):
            opt.step(closure)
            path.append(w.numpy().copy())
        paths[mode] = np.array(path)
    np.testing.assert_allclose(paths["cg"], paths["exact"], rtol=1e-8, atol=1e-10)
    assert opt.state[w]["cg_iterations"] <= 6


@pytest.mark.covers("O5")
@pytest.mark.parametrize("mode", ["exact", "cg"])
def test_rosenbrock_converges_quadratically(mode):
    f = T.rosenbrock()
    path = T.trajectory(lambda p: Newton(p, mode=mode, damping=0.0), f, steps=30, target=1e-20)
    assert path.reached is not None and path.reached <= 10
    np.testing.assert_allclose(path.points[-1], [1.0, 1.0], atol=1e-10)
    # Quadratic convergence: the distance to the minimizer roughly squares in the last steps.
    err = np.linalg.norm(path.points - 1.0, axis=1)
    close = [(a, b) for a, b in zip(err, err[1:]) if 1e-8 < a < 1e-2 and b > 0]
    assert close and all(b < 10 * a ** 2 for a, b in close)


@pytest.mark.covers("O5", "O9")
def test_exact_newton_jumps_to_a_saddle_while_gradient_descent_escapes_it():
    f = T.saddle()
    newton = T.trajectory(lambda p: Newton(p, damping=0.0), f, x0=[1.0, 0.5], steps=1)
    np.testing.assert_allclose(newton.points[-1], [0.0, 0.0], atol=1e-12)  # the stationary point of the model
    gd = T.trajectory(lambda p: SGD(p, lr=0.1), f, x0=[1.0, 0.5], steps=30)
    assert abs(gd.points[-1, 1]) > 10 and gd.losses[-1] < -100  # unbounded below: descent runs away
    # CG meets negative curvature and stops short of the saddle: the step still decreases f.
    cg = T.trajectory(lambda p: Newton(p, damping=0.0, mode="cg"), f, x0=[1.0, 0.5], steps=1)
    assert cg.losses[-1] < cg.losses[0]


@pytest.mark.covers("O5", "O9")
def test_exact_newton_converges_to_beales_saddle_and_cg_newton_to_its_minimum():
    f = T.beale()
    exact = T.trajectory(lambda p: Newton(p, damping=0.0), f, steps=40)
    np.testing.assert_allclose(exact.points[-1], f.saddles[0], atol=1e-8)
    cg = T.trajectory(lambda p: Newton(p, damping=0.0, mode="cg"), f, steps=40, target=1e-10)
    assert cg.reached is not None
    np.testing.assert_allclose(cg.points[-1], f.minimizers[0], atol=1e-4)


@pytest.mark.covers("O5")
def test_closure_conventions():
    def run(kind):
        x = dn.tensor(np.array([0.5, -0.3]), requires_grad=True)
        opt = Newton([x])

        def closure():
            opt.zero_grad()
            loss = (x ** 4).sum() + (x[0] * x[1]) ** 2
            if kind == "create_graph":
                loss.backward(create_graph=True)
            elif kind == "plain":
                loss.backward()
            return loss

        opt.step(closure)
        return x, opt

    x_loss, _ = run("loss")
    x_graph, _ = run("create_graph")
    np.testing.assert_allclose(x_graph.numpy(), x_loss.numpy(), rtol=1e-12)
    assert isinstance(x_loss.grad.numpy(), np.ndarray)  # a plain gradient after the step
    with pytest.raises(RuntimeError, match="create_graph"):
        run("plain")


@pytest.mark.covers("O5")
def test_float32_and_bad_arguments():
    x = dn.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    opt = Newton([x], mode="cg")
    opt.step(lambda: ((x - 3.0) ** 2).sum())
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.numpy(), [3.0, 3.0], rtol=1e-3)
    with pytest.raises(ValueError, match="mode"):
        Newton([x], mode="bfgs")
    with pytest.raises(ValueError, match="damping"):
        Newton([x], damping=-1.0)
    with pytest.raises(RuntimeError, match="closure"):
        Newton([x]).step(None)


@pytest.mark.covers("O5")
def test_docstring_examples():
    assert_examples_run("deepnotes.optim.newton")
