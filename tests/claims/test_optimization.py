"""Gradient-descent claims (K09-K11; K16, K17 in `landscape`, K44 in `saddles`): each measures its mechanism.

Each sanity test runs a claim's own measurement on a deliberately broken (or neutral) variant and
checks that the measured quantity moves as the mechanism says; no test asserts a claim's verdict.
"""
import math

import numpy as np
import pytest

import deepnotes as dn
from deepnotes import data
from deepnotes.claims.experiments import _toolkit_b as kit
from deepnotes.claims.experiments import landscape, saddles
from deepnotes.claims.experiments import optimization as opt_claims
from deepnotes.optim import testfunctions as tf

MINE = ("K09", "K10", "K11", "K16", "K17", "K44")


# ------------------------------------------------------------------ the shared measures
def test_given_back_is_zero_for_a_monotone_curve_and_counts_rises():
    assert kit.given_back([3.0, 2.0, 1.5, 1.0]) == 0.0
    # descent 2 (from 3 to 1), rises 0.5 + 0.5
    assert kit.given_back([3.0, 2.0, 2.5, 1.0, 1.5]) == pytest.approx(0.5)
    assert math.isfinite(kit.given_back([1.0, 1.0, 2.0]))  # never below the start: finite
    with pytest.raises(ValueError, match="given_back"):
        kit.given_back([1.0])


def test_steps_to_log_ratio_exact_effect_and_fit_exponent():
    assert kit.steps_to([5.0, 3.0, 1.0, 0.5], 1.0, cap=10) == 2
    assert kit.steps_to([5.0, 3.0], 1.0, cap=10) == 11
    assert kit.log10_ratio(100.0, 1.0) == pytest.approx(2.0)
    assert math.isfinite(kit.log10_ratio(0.0, 1.0))
    assert kit.exact_effect(1e-12, 1e-10) == pytest.approx(2.0)
    assert kit.exact_effect(0.0, 1e-10) == pytest.approx(10.0)
    sizes = np.array([10, 20, 40, 80])
    p, c = kit.fit_exponent(sizes, 3.0 * sizes ** 2.0)
    assert p == pytest.approx(2.0) and c == pytest.approx(3.0)


def test_loss_at_seconds_averages_the_end_of_the_window():
    losses = np.array([10.0, 8.0, 6.0, 4.0, 2.0])  # after 0..4 steps of 1 s each
    assert opt_claims.loss_at_seconds(losses, np.ones(4), 4.0, window=0.0) == 2.0
    assert opt_claims.loss_at_seconds(losses, np.ones(4), 4.0, window=0.5) == pytest.approx((6 + 4 + 2) / 3)


# ------------------------------------------------------------------ K09
@pytest.mark.covers("K09", "O1")
def test_k09_oscillation_comes_from_the_small_batch():
    """Broken variant: 'SGD' with the full batch is GD again, and its oscillation effect vanishes."""
    split = data.load_digits()
    x, y = split.x_train[:200], split.y_train[:200]
    gd, _ = opt_claims.k09_arm(x, y, len(x), 0.1, 40, seed=0)
    fake_sgd, _ = opt_claims.k09_arm(x, y, len(x), 0.1, 40, seed=0)
    sgd, _ = opt_claims.k09_arm(x, y, 1, 0.1, 40, seed=0)
    np.testing.assert_array_equal(gd, fake_sgd)  # same init, same (whole) batch: identical paths
    assert kit.given_back(fake_sgd) - kit.given_back(gd) == 0.0
    assert kit.given_back(sgd) > kit.given_back(gd) + 0.1


# ------------------------------------------------------------------ K10
@pytest.mark.covers("K10", "O8")
def test_k10_sharpness_is_zero_without_perturbation_and_restores_the_weights():
    dn.manual_seed(0)
    model = kit.mlp([40, 16, 10])
    split = data.load_mnist1d()
    x, y = split.x_train[:200], split.y_train[:200]
    before = kit.flat_params(model)
    loss_fn = dn.nn.CrossEntropyLoss()
    assert opt_claims.sharpness(model, loss_fn, x, y, 0.0, 3, seed=1) == 0.0
    flat = opt_claims.sharpness(model, loss_fn, x, y, 0.05, 5, seed=1)
    np.testing.assert_array_equal(kit.flat_params(model), before)
    # scaling the read-out up makes the same relative perturbation cost more loss: a sharper point
    with dn.no_grad():
        model[-1].weight.data[...] *= 20.0
    sharp = opt_claims.sharpness(model, loss_fn, x, y, 0.05, 5, seed=1)
    assert sharp > flat > 0.0


# ------------------------------------------------------------------ K11
@pytest.mark.covers("K11", "O2")
def test_k11_momentum_speedup_needs_ill_conditioning():
    """Neutral variant: on a perfectly conditioned quadratic both methods take one step, no speed-up."""
    x0 = opt_claims.k11_start(0)
    gd1, _, _ = opt_claims.k11_run(tf.quadratic(1.0, 2), x0, 0, 100)
    hb1, _, _ = opt_claims.k11_run(tf.quadratic(1.0, 2), x0, None, 100)
    assert gd1 == hb1 == 1
    gd, _, _ = opt_claims.k11_run(tf.quadratic(100.0, 2), x0, 0, 5000)
    hb, _, _ = opt_claims.k11_run(tf.quadratic(100.0, 2), x0, None, 5000)
    assert math.log10(gd / hb) > 0.5  # theory: about sqrt(kappa) = 10 times fewer steps
    with pytest.raises(ValueError, match="k11_run"):
        opt_claims.k11_run(tf.quadratic(1.0, 2), x0, 0.9, 10)


# ------------------------------------------------------------------ K16
def _lipschitz(x):
    a = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    return 2.0 * float(np.linalg.eigvalsh(a.T @ a / len(a))[-1])  # the MSE's largest curvature


@pytest.mark.covers("K16", "O7")
def test_k16_the_divergence_threshold_is_two_over_the_curvature():
    """Just below 2 / L gradient descent converges, just above it blows up: what 'too high' measures."""
    split = data.load_breast_cancer()
    x, y = split.x_train[:200], split.y_train[:200]
    L = _lipschitz(x)
    below = landscape.k16_curve(x, y, 1.9 / L, 300, seed=0)
    above = landscape.k16_curve(x, y, 2.2 / L, 300, seed=0)
    assert below[-1] < below[0] and above[-1] >= kit.LOSS_CAP


@pytest.mark.covers("K16", "O7")
def test_k16_scaling_effect_vanishes_when_the_raw_inputs_are_already_standardized():
    split = data.load_breast_cancer()
    x, y = split.x_train[:200], split.y_train[:200]
    grid = (1e-3, 1e-2, 0.1)
    a = landscape.k16_sweep(x, y, 50, 0, grid)
    b = landscape.k16_sweep(x.copy(), y, 50, 0, grid)
    target = 1.5 * landscape.least_squares_optimum(x, y)
    hits = [min(kit.steps_to(c, target, 50) for c in s.values()) for s in (a, b)]
    assert kit.log10_ratio(*hits) == 0.0


def test_k16_least_squares_optimum_matches_scikit_learn():
    from sklearn.linear_model import LinearRegression

    split = data.load_breast_cancer()
    x, y = split.x_train.astype(np.float64), split.y_train.astype(np.float64)
    reference = np.mean((LinearRegression().fit(x, y).predict(x) - y) ** 2)
    assert landscape.least_squares_optimum(x, y) == pytest.approx(reference, rel=1e-6)


# ------------------------------------------------------------------ K17
@pytest.mark.covers("K17", "O9")
def test_k17_logistic_solutions_agree_with_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    split = data.load_breast_cancer()
    x, y = split.x_train, split.y_train
    sols = landscape.convex_solutions(x, y, [1, 2], l2=1e-2)
    assert landscape.pairwise_max_distance(sols) < 1e-4
    # our objective: mean log-loss + (l2 / 2)|w|^2  <=>  scikit-learn's C = 1 / (l2 n)
    ref = LogisticRegression(C=1.0 / (1e-2 * len(x)), tol=1e-12, max_iter=10_000).fit(x, y)
    np.testing.assert_allclose(sols[0], np.concatenate([ref.coef_.ravel(), ref.intercept_]), atol=1e-4)


@pytest.mark.covers("K17", "O9")
def test_k17_disagreement_comes_from_the_inits():
    """Broken variant: the 'different inits' are the same init: the functions agree exactly."""
    split = kit.head(data.load_digits(), 200)
    _, same, _ = landscape.nonconvex_solutions(split, [7, 7], epochs=2, hidden=16, seed=0)
    _, diff, _ = landscape.nonconvex_solutions(split, [7, 8], epochs=2, hidden=16, seed=0)
    assert landscape.pairwise_disagreement(same) == 0.0
    assert landscape.pairwise_disagreement(diff) > 0.0


# ------------------------------------------------------------------ K44
@pytest.mark.covers("K44", "O9")
def test_k44_exactly_on_the_stable_manifold_gd_never_escapes_but_noise_does():
    assert saddles.saddle_escape(0.0, 0.05, 0.0, 300, seed=0) == 301
    assert saddles.saddle_escape(0.0, 0.05, 0.1, 300, seed=0) < 301


@pytest.mark.covers("K44", "O9")
def test_k44_at_the_exact_saddle_only_isotropic_noise_escapes():
    """With every weight exactly 0 the gradient of every sample is 0: GD and SGD both stay put."""
    gd, _ = saddles.linear_net_escape(200, 0.05, 0.0, 300, seed=0)
    sgd, _ = saddles.linear_net_escape(10, 0.05, 0.0, 300, seed=0)
    pgd, _ = saddles.linear_net_escape(200, 0.05, 0.0, 300, seed=0, perturb=1e-3)
    assert gd == sgd == 301
    assert pgd < 301
