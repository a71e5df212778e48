"""Augmented Lagrangian and the KKT checker against SciPy's SLSQP and closed forms (inventory T2)."""

import numpy as np
import pytest
from scipy.optimize import minimize

import deepnotes as dn
from deepnotes.optim import SGD, kkt_check, minimize_augmented_lagrangian
from tests.doctests import assert_examples_run


def slsqp(f_np, x0, eq_np=(), ineq_np=()):
    """SciPy's answer and multipliers in our convention.

    SciPy writes inequalities as c(x) >= 0 (we pass c = -g) and its Lagrangian as
    f - sum lambda c, so its equality multipliers have the opposite sign of ours.
    """
    constraints = [{"type": "eq", "fun": h} for h in eq_np] + [{"type": "ineq", "fun": (lambda x, g=g: -g(x))}
                                                                for g in ineq_np]
    res = minimize(f_np, x0, method="SLSQP", constraints=constraints, options={"ftol": 1e-14, "maxiter": 500})
    assert res.success, res.message
    p = len(eq_np)
    return res.x, -res.multipliers[:p], res.multipliers[p:]


# Each problem: f, equalities, inequalities in deepnotes form and the same in NumPy form, and a start.
PROBLEMS = {
    "active_inequality": dict(
        f=lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2, ineq=[lambda x: x[0] + x[1] - 2],
        f_np=lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2, ineq_np=[lambda x: x[0] + x[1] - 2], x0=[0.0, 0.0]),
    "inactive_inequality": dict(
        f=lambda x: (x[0] - 0.5) ** 2 + (x[1] - 0.5) ** 2, ineq=[lambda x: x[0] + x[1] - 2],
        f_np=lambda x: (x[0] - 0.5) ** 2 + (x[1] - 0.5) ** 2, ineq_np=[lambda x: x[0] + x[1] - 2], x0=[3.0, 3.0]),
    "circle_equality": dict(
        f=lambda x: x[0] + x[1], eq=[lambda x: x[0] ** 2 + x[1] ** 2 - 2],
        f_np=lambda x: x[0] + x[1], eq_np=[lambda x: x[0] ** 2 + x[1] ** 2 - 2], x0=[1.0, 0.0]),
    "rosenbrock_in_a_disk": dict(
        f=lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, ineq=[lambda x: x[0] ** 2 + x[1] ** 2 - 1],
        f_np=lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, ineq_np=[lambda x: x[0] ** 2 + x[1] ** 2 - 1],
        x0=[-0.5, 0.5]),
    "mixed": dict(
        f=lambda x: ((x - dn.tensor(np.array([1.0, 2.0, 3.0]))) ** 2).sum(),
        eq=[lambda x: x.sum() - 1], ineq=[lambda x: x[0] ** 2 + x[1] ** 2 - 0.5, lambda x: -x[2]],
        f_np=lambda x: float(((x - np.array([1.0, 2.0, 3.0])) ** 2).sum()),
        eq_np=[lambda x: x.sum() - 1], ineq_np=[lambda x: x[0] ** 2 + x[1] ** 2 - 0.5, lambda x: -x[2]],
        x0=[0.0, 0.0, 0.0]),
}


@pytest.mark.covers("T2")
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_matches_slsqp(name):
    p = PROBLEMS[name]
    eq, ineq = p.get("eq", []), p.get("ineq", [])
    result = minimize_augmented_lagrangian(p["f"], p["x0"], eq=eq, ineq=ineq)
    x_ref, lam_ref, mu_ref = slsqp(p["f_np"], p["x0"], p.get("eq_np", ()), p.get("ineq_np", ()))
    assert result.success
    np.testing.assert_allclose(result.x, x_ref, atol=1e-6)
    np.testing.assert_allclose(result.lam, lam_ref, atol=1e-5)
    np.testing.assert_allclose(result.mu, mu_ref, atol=1e-5)
    assert result.fun == pytest.approx(p["f_np"](x_ref), abs=1e-7)
    assert result.kkt.satisfied and result.kkt.licq, str(result.kkt)


@pytest.mark.covers("T2")
def test_plain_gradient_descent_as_the_inner_solver():
    p = PROBLEMS["active_inequality"]
    result = minimize_augmented_lagrangian(p["f"], p["x0"], ineq=p["ineq"], inner_max_iter=2000,
                                           inner_optimizer=lambda params: SGD(params, lr=0.04))
    assert result.success
    np.testing.assert_allclose(result.x, [1.5, 0.5], atol=1e-7)
    assert result.mu[0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.covers("T2")
def test_active_and_inactive_multipliers():
    active = minimize_augmented_lagrangian(PROBLEMS["active_inequality"]["f"], [0.0, 0.0],
                                           ineq=PROBLEMS["active_inequality"]["ineq"])
    inactive = minimize_augmented_lagrangian(PROBLEMS["inactive_inequality"]["f"], [3.0, 3.0],
                                             ineq=PROBLEMS["inactive_inequality"]["ineq"])
    np.testing.assert_allclose(active.x, [1.5, 0.5], atol=1e-7)
    assert active.mu[0] == pytest.approx(1.0, abs=1e-6) and active.kkt.active == [0]
    np.testing.assert_allclose(inactive.x, [0.5, 0.5], atol=1e-7)
    assert inactive.mu[0] == 0.0 and inactive.kkt.active == []


@pytest.mark.covers("T2")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equality_constrained_quadratic_matches_the_closed_form(seed):
    """min x^T Q x / 2 + c^T x s.t. A x = b: the KKT system [[Q, A^T], [A, 0]] [x; lambda] = [-c; b]."""
    rng = np.random.default_rng(seed)
    n, p = 5, 2
    M = rng.normal(size=(n, n))
    Q, c, A, b = M @ M.T + np.eye(n), rng.normal(size=n), rng.normal(size=(p, n)), rng.normal(size=p)
    kkt = np.block([[Q, A.T], [A, np.zeros((p, p))]])
    solution = np.linalg.solve(kkt, np.concatenate([-c, b]))
    Qt, ct = dn.tensor(Q), dn.tensor(c)
    eq = [lambda x, a=dn.tensor(A[i]), bi=b[i]: (a * x).sum() - bi for i in range(p)]
    result = minimize_augmented_lagrangian(lambda x: 0.5 * (x @ Qt @ x) + (ct * x).sum(), np.zeros(n), eq=eq)
    assert result.success
    np.testing.assert_allclose(result.x, solution[:n], atol=1e-7)
    np.testing.assert_allclose(result.lam, solution[n:], atol=1e-6)


@pytest.mark.covers("T2")
def test_licq_failure_with_parallel_constraint_gradients():
    """x <= 1 and 2x <= 2 are the same constraint: x* is found, the multipliers are a segment, not a point."""
    f = lambda x: (x[0] - 2) ** 2 + x[1] ** 2  # noqa: E731
    ineq = [lambda x: x[0] - 1, lambda x: 2 * x[0] - 2]
    result = minimize_augmented_lagrangian(f, [0.0, 0.0], ineq=ineq)
    x_ref, _, mu_ref = slsqp(lambda x: (x[0] - 2) ** 2 + x[1] ** 2, [0.0, 0.0],
                             ineq_np=[lambda x: x[0] - 1, lambda x: 2 * x[0] - 2])
    np.testing.assert_allclose(result.x, x_ref, atol=1e-6)
    np.testing.assert_allclose(result.x, [1.0, 0.0], atol=1e-7)
    # Stationarity pins down only mu_1 + 2 mu_2 = -df/dx = 2; both solvers land somewhere on that segment.
    for mu in (result.mu, mu_ref):
        assert mu.min() >= 0 and mu[0] + 2 * mu[1] == pytest.approx(2.0, abs=1e-5)
    report = result.kkt
    assert report.satisfied and not report.licq and report.multiplier_freedom == 1
    assert "LICQ fails" in str(report)
    # Another point of the segment is just as valid.
    other = kkt_check(f, result.x, ineq=ineq, mu=[2.0, 0.0], tol=1e-5)
    assert other.satisfied and not other.licq


@pytest.mark.covers("T2")
def test_degenerate_constraint_has_no_multiplier():
    """min x s.t. x^2 <= 0: x* = 0 but grad g(0) = 0, so no mu satisfies 1 + mu * 0 = 0."""
    result = minimize_augmented_lagrangian(lambda x: x[0], [1.0], ineq=[lambda x: x[0] ** 2], max_outer=30)
    assert not result.success
    assert abs(result.x[0]) < 1e-3
    assert result.mu[0] > 100  # growing without bound
    assert not result.kkt.satisfied and "do NOT hold" in str(result.kkt)
    at_solution = kkt_check(lambda x: x[0], [0.0], ineq=[lambda x: x[0] ** 2], mu=[1e6])
    assert not at_solution.licq and at_solution.min_stationarity == pytest.approx(1.0)


@pytest.mark.covers("T2")
def test_kkt_check_flags_each_violated_condition():
    f = PROBLEMS["active_inequality"]["f"]
    g = PROBLEMS["active_inequality"]["ineq"]
    good = kkt_check(f, [1.5, 0.5], ineq=g, mu=[1.0])
    assert good.satisfied and good.stationarity < 1e-12
    wrong_mu = kkt_check(f, [1.5, 0.5], ineq=g, mu=[0.5])
    assert not wrong_mu.satisfied and wrong_mu.stationarity == pytest.approx(np.sqrt(0.5))
    infeasible = kkt_check(f, [2.0, 1.0], ineq=g, mu=[0.0])
    assert infeasible.primal_feasibility == pytest.approx(1.0) and not infeasible.satisfied
    negative = kkt_check(lambda x: -(x[0] - 2) ** 2 * 0 + x[0], [0.0], ineq=[lambda x: x[0]], mu=[-1.0])
    assert negative.dual_feasibility == pytest.approx(1.0) and negative.stationarity == 0.0
    slack = kkt_check(PROBLEMS["inactive_inequality"]["f"], [0.5, 0.5], ineq=PROBLEMS["inactive_inequality"]["ineq"],
                      mu=[0.3])
    assert slack.complementary_slackness == pytest.approx(0.3) and not slack.satisfied


@pytest.mark.covers("T2")
def test_bad_inputs_raise():
    with pytest.raises(TypeError, match="Tensor"):
        minimize_augmented_lagrangian(lambda x: 1.0, [0.0])
    with pytest.raises(ValueError, match="one number"):
        minimize_augmented_lagrangian(lambda x: x * x, [0.0, 1.0])
    with pytest.raises(ValueError, match="lambdas"):
        kkt_check(lambda x: (x * x).sum(), [0.0], eq=[lambda x: x[0]], lam=[1.0, 2.0])


@pytest.mark.covers("T2")
def test_docstring_examples():
    assert_examples_run("deepnotes.optim.constrained")
