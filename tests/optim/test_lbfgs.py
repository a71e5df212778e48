"""L-BFGS against torch.optim.LBFGS: whole trajectories, the line search, the state (inventory O5)."""

import numpy as np
import pytest
import torch
from torch.optim.lbfgs import _cubic_interpolate, _strong_wolfe

import deepnotes as dn
from deepnotes.optim import LBFGS
from deepnotes.optim.lbfgs import cubic_interpolate, strong_wolfe
from tests.optim.trajectory import compare_trajectories, torch_float64
from tests.doctests import assert_examples_run

# Settings whose trajectories stay well-conditioned on the MLP for 12 steps.  (With many unsafeguarded
# iterations per step, L-BFGS on a non-convex loss amplifies 1e-16 rounding differences exponentially:
# torch against itself with the weights perturbed by 1e-15 drifts by as much; the convex test below covers
# the defaults.)
MLP_SETTINGS = [
    dict(max_iter=2),
    dict(max_iter=4, history_size=3),
    dict(max_iter=1, lr=0.1),
    dict(max_iter=4, line_search_fn="strong_wolfe"),
    dict(max_iter=3, history_size=2, line_search_fn="strong_wolfe"),
    dict(max_iter=5, history_size=5, lr=0.8, line_search_fn="strong_wolfe"),
    dict(max_iter=6, max_eval=4, line_search_fn="strong_wolfe"),
]


def _counters(opt):
    state = opt.state[opt.param_groups[0]["params"][0]]
    return state["func_evals"], state["n_iter"]


@pytest.mark.covers("O5")
@pytest.mark.parametrize("settings", MLP_SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_mlp_trajectory_matches_torch(settings):
    result = compare_trajectories(lambda optim, params: optim.LBFGS(params, **settings), steps=12, closure=True)
    assert _counters(result["dn"].optimizer) == _counters(result["torch"].optimizer)
    assert result["losses"][-1] < result["losses"][0]


def _logistic_problem(seed, n=60, d=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.where(x @ rng.normal(size=d) + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    return x, y, rng.normal(size=d), 0.3


def _logistic_loss(lib, w, b, x, y):
    z = -y * (x @ w + b)
    return lib.log(1 + lib.exp(z)).mean() + 0.01 / 2 * (w * w).sum()


@pytest.mark.covers("O5")
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("settings", [dict(), dict(history_size=3, max_iter=7)], ids=["defaults", "m3"])
def test_convex_trajectory_with_default_iterations_matches_torch(line_search_fn, settings):
    x, y, w0, b0 = _logistic_problem(1)
    with torch_float64():
        sides = {}
        for name, lib in (("dn", dn), ("torch", torch)):
            w, b = lib.tensor(w0.copy(), requires_grad=True), lib.tensor(np.array(b0), requires_grad=True)
            xt, yt = lib.tensor(x), lib.tensor(y)
            opt = (LBFGS if name == "dn" else torch.optim.LBFGS)([w, b], line_search_fn=line_search_fn, **settings)

            def closure(lib=lib, w=w, b=b, xt=xt, yt=yt, opt=opt):
                opt.zero_grad()
                loss = _logistic_loss(lib, w, b, xt, yt)
                loss.backward()
                return loss

            sides[name] = (w, b, opt, closure)
        for step in range(10):
            losses = {name: opt.step(closure).item() for name, (_, _, opt, closure) in sides.items()}
            assert losses["dn"] == pytest.approx(losses["torch"], rel=1e-10), f"step {step}"
            (w, b, opt, _), (tw, tb, topt, _) = sides["dn"], sides["torch"]
            np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-8, atol=1e-11, err_msg=f"step {step}")
            np.testing.assert_allclose(b.numpy(), tb.detach().numpy(), rtol=1e-8, atol=1e-11, err_msg=f"step {step}")
            assert _counters(opt) == _counters(topt), f"step {step}"


def _slice_problems():
    """(f, grad) pairs for 1-d line searches: a curved valley and a wavy function."""
    def rosen(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    def rosen_grad(x):
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])

    def wave(x):
        return float(np.sum(np.sin(3 * x) + 0.1 * x ** 2))

    def wave_grad(x):
        return 3 * np.cos(3 * x) + 0.2 * x

    return [(rosen, rosen_grad, 2), (wave, wave_grad, 3)]


@pytest.mark.covers("O5")
@pytest.mark.parametrize("seed", range(4))
def test_strong_wolfe_matches_torch(seed):
    """Many starts, first trial steps from 1e-5 to 100 and small evaluation budgets reach every branch."""
    rng = np.random.default_rng(seed)
    evaluations = set()
    for fn, grad, dim in _slice_problems():
        for trial in range(12):
            x = rng.normal(size=dim) * 1.5
            g = grad(x)
            d = -g if trial % 2 == 0 else -g * rng.uniform(0.1, 2.0, size=dim)
            t0, max_ls = 10.0 ** rng.uniform(-5, 2), (25, 25, 3, 2)[trial % 4]
            gtd = float(g @ d)
            ours = strong_wolfe(lambda t: (fn(x + t * d), grad(x + t * d)), t0, d, fn(x), g, gtd, max_ls=max_ls)
            theirs = _strong_wolfe(
                lambda xx, t, dd: (float(fn((xx + t * dd).numpy())), torch.tensor(grad((xx + t * dd).numpy()))),
                torch.tensor(x), t0, torch.tensor(d), fn(x), torch.tensor(g), torch.tensor(gtd, dtype=torch.float64),
                max_ls=max_ls)
            assert ours[3] == theirs[3]
            assert ours[0] == pytest.approx(float(theirs[0]), rel=1e-12)
            assert ours[2] == pytest.approx(float(theirs[2]), rel=1e-12)
            np.testing.assert_allclose(ours[1], theirs[1].numpy(), rtol=1e-12)
            evaluations.add(ours[3])
    assert len(evaluations) >= 3  # accepted at once, after extrapolation, after zooming


@pytest.mark.covers("O5")
def test_cubic_interpolate_matches_torch():
    rng = np.random.default_rng(0)
    for _ in range(300):
        a = rng.normal(size=6)
        bounds = None if rng.random() < 0.5 else tuple(sorted(rng.normal(size=2)))
        expected = float(_cubic_interpolate(*[torch.tensor(v) for v in a], bounds=bounds))
        assert cubic_interpolate(*a, bounds=bounds) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    # Exact for a cubic: the minimizer of (t - 1)^3 - 3 (t - 1) is t = 2.
    f, df = (lambda t: (t - 1) ** 3 - 3 * (t - 1)), (lambda t: 3 * (t - 1) ** 2 - 3)
    assert cubic_interpolate(1.5, f(1.5), df(1.5), 3.0, f(3.0), df(3.0)) == pytest.approx(2.0)


def _rosenbrock_run(dtype, steps=1, **kw):
    x = dn.tensor(np.array([-1.2, 1.0], dtype=dtype), requires_grad=True)
    opt = LBFGS([x], **kw)

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    first = [opt.step(closure) for _ in range(steps)]
    return x, opt, first


@pytest.mark.covers("O5")
def test_rosenbrock_converges_and_step_returns_the_first_loss():
    x, opt, first = _rosenbrock_run(np.float64, line_search_fn="strong_wolfe", max_iter=100, tolerance_change=1e-14)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-6)
    assert float(first[0].item()) == pytest.approx(24.2)  # f(-1.2, 1), before any update
    assert opt.state[x]["func_evals"] > opt.state[x]["n_iter"] > 20


@pytest.mark.covers("O5")
def test_float32_parameters_stay_float32():
    x, opt, _ = _rosenbrock_run(np.float32, steps=3, line_search_fn="strong_wolfe", max_iter=5)
    assert x.dtype == np.float32
    assert np.all(np.isfinite(x.numpy()))


@pytest.mark.covers("O5")
def test_history_size_bounds_the_memory():
    _, opt, _ = _rosenbrock_run(np.float64, steps=4, history_size=3, max_iter=10, line_search_fn="strong_wolfe")
    state = next(iter(opt.state.values()))
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 3


@pytest.mark.covers("O5")
def test_state_dict_resumes_the_same_trajectory():
    def make(w):
        return LBFGS([w], max_iter=3, history_size=4, line_search_fn="strong_wolfe")

    def closure_for(w, opt):
        def closure():
            opt.zero_grad()
            loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2 + (w[2] - w[1]) ** 2
            loss.backward()
            return loss
        return closure

    start = np.array([-1.0, 0.5, 2.0])
    straight = dn.tensor(start.copy(), requires_grad=True)
    opt = make(straight)
    for _ in range(6):
        opt.step(closure_for(straight, opt))

    first = dn.tensor(start.copy(), requires_grad=True)
    opt1 = make(first)
    for _ in range(3):
        opt1.step(closure_for(first, opt1))
    snapshot = opt1.state_dict()
    resumed = dn.tensor(first.numpy().copy(), requires_grad=True)
    opt2 = make(resumed)
    opt2.load_state_dict(snapshot)
    for _ in range(3):
        opt2.step(closure_for(resumed, opt2))
    np.testing.assert_array_equal(resumed.numpy(), straight.numpy())


@pytest.mark.covers("O5")
def test_bad_arguments_raise():
    a, b = dn.tensor(np.ones(2), requires_grad=True), dn.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([a], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="closure"):
        LBFGS([a]).step(None)


@pytest.mark.covers("O5")
def test_docstring_examples():
    assert_examples_run("deepnotes.optim.lbfgs")
