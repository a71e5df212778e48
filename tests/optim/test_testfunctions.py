"""Test functions, their known stationary points, optimizer paths and contour plots (O1, O2, O5, O9)."""
import math

import numpy as np
import pytest
import torch

import deepnotes as dn
from deepnotes.autograd.functional import hessian
from deepnotes.optim import SGD, Adam, LBFGS, Newton
from deepnotes.optim import testfunctions as T
from tests.oracle import check_fn


def _torch_reference(name, obj):
    """Each function written again, independently, in torch (batched over leading dims)."""
    if name == "quadratic":
        A = torch.tensor(obj.hessian)
        return lambda x: 0.5 * torch.einsum("...i,ij,...j->...", x, A, x)
    if name == "rosenbrock":
        return lambda x: torch.sum(100 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1 - x[..., :-1]) ** 2, dim=-1)
    if name == "beale":
        return lambda v: sum((c - v[..., 0] * (1 - v[..., 1] ** k)) ** 2 for k, c in ((1, 1.5), (2, 2.25), (3, 2.625)))
    if name == "saddle":
        return lambda v: v[..., 0] ** 2 - v[..., 1] ** 2
    if name == "monkey_saddle":
        return lambda v: v[..., 0] ** 3 - 3 * v[..., 0] * v[..., 1] ** 2
    if name == "double_well":
        return lambda v: (v[..., 0] ** 2 - 1) ** 2 + 0.3 * v[..., 0] + v[..., 1] ** 2
    raise KeyError(name)


OBJECTIVES = {
    "quadratic": T.quadratic(100.0, 2),
    "quadratic10": T.quadratic(1e4, 10),
    "rosenbrock": T.rosenbrock(),
    "rosenbrock5": T.rosenbrock(5),
    "beale": T.beale(),
    "saddle": T.saddle(),
    "monkey_saddle": T.monkey_saddle(),
    "double_well": T.double_well(0.3),
}


@pytest.mark.covers("O5", "O9")
@pytest.mark.parametrize("key", sorted(OBJECTIVES))
def test_values_and_gradients_match_torch(key):
    obj = OBJECTIVES[key]
    reference = _torch_reference(key.rstrip("0123456789"), obj)
    for batch in ((), (3,), (2, 4)):
        (x,) = [np.random.default_rng(len(batch)).uniform(-2, 2, size=batch + (obj.dim,))]
        check_fn(obj.fn, reference, [x])


def _gradient_and_hessian(obj, point):
    x = dn.tensor(np.array(point, dtype=np.float64), requires_grad=True)
    obj(x).backward()
    return x.grad, hessian(obj.fn, dn.tensor(np.array(point, dtype=np.float64))).data


@pytest.mark.covers("O9")
@pytest.mark.parametrize("key", sorted(OBJECTIVES))
def test_known_stationary_points(key):
    obj = OBJECTIVES[key]
    assert obj.minimizers or obj.saddles
    for point in obj.minimizers + obj.local_minimizers:
        g, H = _gradient_and_hessian(obj, point)
        np.testing.assert_allclose(g, 0.0, atol=1e-10)
        assert np.linalg.eigvalsh(H).min() > 0  # a strict local minimum
    for point in obj.minimizers:
        assert float(obj(dn.tensor(point)).item()) == pytest.approx(obj.minimum, abs=1e-12)
    for point in obj.local_minimizers:
        assert float(obj(dn.tensor(point)).item()) > obj.minimum
    for point in obj.saddles:
        g, H = _gradient_and_hessian(obj, point)
        np.testing.assert_allclose(g, 0.0, atol=1e-10)
        eig = np.linalg.eigvalsh(H)
        assert (eig.min() < 0 < eig.max()) or np.allclose(eig, 0.0)  # indefinite, or degenerate (monkey saddle)


@pytest.mark.covers("O5")
def test_quadratic_has_the_requested_condition_number():
    obj = T.quadratic(250.0, 6)
    H = hessian(obj.fn, dn.tensor(np.ones(6))).data
    np.testing.assert_allclose(H, obj.hessian, atol=1e-12)
    assert np.linalg.cond(H) == pytest.approx(250.0)
    assert not np.allclose(H, np.diag(np.diag(H)))  # rotated: the valley is not axis-aligned


def _steps(obj, factory, target=1e-6, steps=5000):
    return T.trajectory(factory, obj, steps=steps, target=target).reached


@pytest.mark.covers("O1", "O2", "O5")
def test_momentum_beats_gradient_descent_on_an_ill_conditioned_quadratic():
    """With each method's best constant step: GD needs O(kappa) steps, heavy ball O(sqrt(kappa)), Newton 1."""
    kappa = 100.0
    obj = T.quadratic(kappa, 2)
    gd = _steps(obj, lambda p: SGD(p, lr=2 / (1 + kappa)))
    heavy_ball = _steps(obj, lambda p: SGD(p, lr=4 / (1 + math.sqrt(kappa)) ** 2,
                                           momentum=((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2))
    newton = _steps(obj, lambda p: Newton(p, damping=0.0))
    assert gd is not None and heavy_ball is not None
    assert heavy_ball * 4 < gd  # measured: 69 vs 444
    assert newton == 1


@pytest.mark.covers("O1")
def test_gradient_descent_diverges_above_two_over_the_largest_curvature():
    obj = T.quadratic(100.0, 2)
    stable = T.trajectory(lambda p: SGD(p, lr=1.9 / 100), obj, steps=200)
    unstable = T.trajectory(lambda p: SGD(p, lr=2.1 / 100), obj, steps=200)
    assert stable.losses[-1] < stable.losses[0]
    assert unstable.losses[-1] > 1e3 * unstable.losses[0]


@pytest.mark.covers("O9")
def test_where_gradient_descent_ends_depends_on_where_it_starts():
    obj = T.double_well(0.3)
    right = T.trajectory(lambda p: SGD(p, lr=0.05), obj, x0=[1.8, 1.0], steps=400)
    left = T.trajectory(lambda p: SGD(p, lr=0.05), obj, x0=[-1.8, 1.0], steps=400)
    np.testing.assert_allclose(right.points[-1], obj.local_minimizers[0], atol=1e-6)
    np.testing.assert_allclose(left.points[-1], obj.minimizers[0], atol=1e-6)
    assert right.losses[-1] > left.losses[-1] + 0.5  # stuck in the worse, local minimum
    # A convex function has no such trap: from anywhere, the global minimizer.
    quad = T.quadratic(10.0, 2)
    for x0 in ([1.8, 1.0], [-1.8, 1.0], [0.1, -1.5]):
        end = T.trajectory(lambda p: SGD(p, lr=0.15), quad, x0=x0, steps=300).points[-1]
        np.testing.assert_allclose(end, 0.0, atol=1e-6)


@pytest.mark.covers("O9")
def test_saddle_attracts_only_from_its_stable_manifold():
    obj = T.saddle()
    on_axis = T.trajectory(lambda p: SGD(p, lr=0.1), obj, x0=[1.0, 0.0], steps=100)
    np.testing.assert_allclose(on_axis.points[-1], 0.0, atol=1e-8)  # gradient is 0 at a saddle: GD stops there
    nudged = T.trajectory(lambda p: SGD(p, lr=0.1), obj, x0=[1.0, 1e-6], steps=100)
    assert abs(nudged.points[-1, 1]) > 1.0  # the smallest perturbation escapes (and f falls without bound)


@pytest.mark.covers("O5", "O1")
def test_trajectory_records_every_iterate_and_stops_at_the_target_or_on_divergence():
    obj = T.rosenbrock()
    path = T.trajectory(lambda p: LBFGS(p, max_iter=1, line_search_fn="strong_wolfe"), obj, steps=15)
    assert path.points.shape == (16, 2) and path.losses.shape == (16,)
    np.testing.assert_array_equal(path.points[0], obj.x0)
    assert path.losses[0] == pytest.approx(24.2)
    assert path.evaluations >= 15
    reached = T.trajectory(lambda p: LBFGS(p, max_iter=1, line_search_fn="strong_wolfe"), obj, steps=500,
                           target=1e-8)
    assert reached.reached is not None and len(reached.points) == reached.reached + 1
    assert reached.losses[-1] <= 1e-8
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point
        blowup = T.trajectory(lambda p: SGD(p, lr=0.01), obj, steps=100)
    assert len(blowup.points) < 101 and not math.isfinite(blowup.losses[-1])


@pytest.mark.covers("O1", "O2", "O9")
def test_plot_trajectories_writes_an_image(tmp_path):
    obj = T.beale()
    paths = {
        "GD": T.trajectory(lambda p: SGD(p, lr=0.01), obj, steps=100),
        "Adam": T.trajectory(lambda p: Adam(p, lr=0.05), obj, steps=100).points,
    }
    out = T.plot_trajectories(obj, paths, tmp_path / "beale.png")
    assert out.exists() and out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="shape"):
        T.plot_trajectories(obj, {"bad": np.zeros((5, 3))}, tmp_path / "bad.png")


@pytest.mark.covers("O9")
def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="condition number"):
        T.quadratic(0.5)
    with pytest.raises(ValueError, match="dim"):
        T.rosenbrock(1)
    with pytest.raises(ValueError, match="tilt"):
        T.double_well(5.0)
    with pytest.raises(ValueError, match="x0"):
        T.trajectory(lambda p: SGD(p, lr=0.1), lambda x: (x * x).sum())
