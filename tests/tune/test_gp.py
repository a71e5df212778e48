"""The Gaussian process and the acquisitions against scikit-learn and closed forms (H1).

Comparisons go through the shared oracle's `assert_close` (same shape, same dtype, float64, tolerances stated).
"""
import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from deepnotes.tune import acquisition
from deepnotes.tune.gp import GaussianProcess
from tests.oracle import assert_close


def _data(seed, n=12, d=3):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, -1] + 0.05 * rng.standard_normal(n)
    return X, y, rng.random((20, d))


def _sklearn(ls, amp, noise, jitter, normalize_y, optimize=False):
    kernel = (ConstantKernel(amp, (1e-3, 1e3)) * Matern(ls, (1e-3, 1e3), nu=2.5)
              + WhiteKernel(noise, (1e-8, 1.0)))
    return GaussianProcessRegressor(kernel, alpha=jitter, optimizer="fmin_l_bfgs_b" if optimize else None,
                                    normalize_y=normalize_y, n_restarts_optimizer=4 if optimize else 0,
                                    random_state=0)


@pytest.mark.covers("H1")
@pytest.mark.parametrize("normalize_y", [False, True])
def test_posterior_and_likelihood_match_sklearn_with_fixed_hyperparameters(normalize_y):
    X, y, Xs = _data(0)
    ls, amp, noise = np.array([0.3, 0.7, 1.5]), 1.7, 1e-3
    ours = GaussianProcess(ls, amp, noise, optimize=False, normalize_y=normalize_y, jitter=1e-10).fit(X, y)
    ref = _sklearn(ls, amp, noise, 1e-10, normalize_y).fit(X, y)
    mu, sd = ours.predict(Xs, return_std=True, include_noise=True)  # sklearn's WhiteKernel adds noise to std
    mu_ref, sd_ref = ref.predict(Xs, return_std=True)
    assert_close(mu, mu_ref, "GP posterior mean vs sklearn", atol=1e-8, rtol=0)
    assert_close(sd, sd_ref, "GP posterior std vs sklearn", atol=1e-8, rtol=0)
    # sklearn's theta is log(amplitude, length scales..., noise): the same order as ours
    theta = np.log(np.concatenate([[amp], ls, [noise]]))
    assert_close(ref.kernel_.theta, theta, "sklearn's theta layout", atol=1e-12)
    lml, grad = ours.log_marginal_likelihood(theta, eval_gradient=True)
    lml_ref, grad_ref = ref.log_marginal_likelihood(theta, eval_gradient=True)
    assert lml == pytest.approx(lml_ref, abs=1e-8)
    assert_close(grad, grad_ref, "gradient of the log marginal likelihood vs sklearn", atol=1e-6, rtol=1e-6)
    # a different length scale changes the likelihood: the comparison can fail
    assert abs(ours.log_marginal_likelihood(theta + 0.3) - lml) > 1e-3


@pytest.mark.covers("H1")
def test_fitted_optimum_is_at_least_as_good_as_sklearns():
    X, y, Xs = _data(1, n=15, d=2)
    ours = GaussianProcess(0.5, 1.0, 1e-3, n_restarts=4, normalize_y=True).fit(X, y)
    ref = _sklearn(np.array([0.5, 0.5]), 1.0, 1e-3, 1e-10, True, optimize=True).fit(X, y)
    best_ref = ref.log_marginal_likelihood_value_
    assert ours.log_marginal_likelihood_value_ >= best_ref - 1e-4 * abs(best_ref)
    assert ours.log_marginal_likelihood(ref.kernel_.theta) == pytest.approx(best_ref, abs=1e-7)
    # same optimum -> same predictions (to the optimizer's tolerance)
    assert_close(ours.predict(Xs), ref.predict(Xs), "mean at the fitted optimum vs sklearn", atol=2e-2)


@pytest.mark.covers("H1")
def test_gp_rejects_bad_input():
    with pytest.raises(ValueError, match="length_scale"):
        GaussianProcess(length_scale=-1.0)
    with pytest.raises(ValueError, match=r"GaussianProcess.fit: expected X \(n, d\)"):
        GaussianProcess().fit(np.zeros(3), np.zeros(3))


@pytest.mark.covers("H1")
def test_expected_improvement_matches_its_closed_form_and_log_ei_is_stable():
    rng = np.random.default_rng(0)
    mu, sigma, best = rng.normal(size=200), rng.uniform(0.01, 2, 200), 0.3
    z = (best - mu) / sigma
    closed = (best - mu) * norm.cdf(z) + sigma * norm.pdf(z)
    assert_close(acquisition.expected_improvement(mu, sigma, best), closed, "EI vs its closed form", rtol=1e-10,
                 atol=1e-14)
    ok = closed > 1e-250  # where the closed form itself has not underflowed
    assert_close(acquisition.log_expected_improvement(mu, sigma, best)[ok], np.log(closed[ok]), "log EI", rtol=1e-9)
    # far from the incumbent EI underflows to 0; log EI stays finite, monotone and matches the asymptote
    far = np.array([10.0, 40.0, 1e3, 1e6])
    log_ei = acquisition.log_expected_improvement(far, np.ones(4), 0.0)
    assert np.all(np.isfinite(log_ei)) and np.all(np.diff(log_ei) < 0)
    assert acquisition.expected_improvement(40.0, 1.0, 0.0) == 0.0
    zf = -far[1]
    assert log_ei[1] == pytest.approx(-0.5 * zf * zf - 0.5 * math.log(2 * math.pi) - 2 * math.log(-zf), rel=1e-3)
    # sigma -> 0: EI -> max(best - mu, 0)
    assert acquisition.expected_improvement(np.array([-1.0, 1.0]), np.zeros(2), 0.0).tolist() == [1.0, 0.0]
    # UCB for minimization prefers low mean and high spread
    assert acquisition.upper_confidence_bound(0.0, 1.0, 2.0) > acquisition.upper_confidence_bound(0.5, 1.0, 2.0)


@pytest.mark.covers("H1")
def test_acquisition_maximizer_polishes_random_candidates_with_lbfgsb():
    target = np.array([0.3, 0.71, 0.05])

    def fn(U):  # a smooth bump with its maximum 0 at `target`, inside the cube
        return -np.sum((U - target) ** 2, axis=1)

    u, value = acquisition.maximize(fn, 3, np.random.default_rng(0), n_candidates=64)
    assert np.all((u >= 0) & (u <= 1)) and value == pytest.approx(float(fn(u[None])[0]))
    assert np.abs(u - target).max() < 1e-4  # L-BFGS-B finishes what 64 random points only start
    best_candidate = fn(np.random.default_rng(0).random((64, 3))).max()
    assert best_candidate < -1e-3 < value
    # a maximum on the boundary: the bounds hold
    u, _ = acquisition.maximize(lambda U: U.sum(1), 2, np.random.default_rng(1), n_candidates=16)
    assert u.tolist() == [1.0, 1.0]
