"""Sanity tests of the generalization claims (K25, K46) on deliberately broken variants (a readout that
cannot interpolate, curves without a U, labels left true in the "random" arm), with scikit-learn's Ridge
as the oracle of the readout; test_smoke.py runs each claim at the tiny budget. No test asserts a
claim's verdict."""
import math

import numpy as np
import pytest

from deepnotes.claims.experiments import generalization as G
from deepnotes.claims.experiments import _toolkit_c as T


@pytest.mark.covers("K25", "R6")
def test_readout_matches_ridge_and_the_pseudo_inverse():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    for n, width in ((30, 12), (30, 30), (25, 90)):
        phi, targets = rng.standard_normal((n, width)), rng.standard_normal((n, 4))
        np.testing.assert_allclose(G.fit_readout(phi, targets), np.linalg.pinv(phi) @ targets, atol=1e-8)
        sk = Ridge(alpha=0.7, fit_intercept=False).fit(phi, targets).coef_.T
        np.testing.assert_allclose(G.fit_readout(phi, targets, ridge=0.7), sk, atol=1e-9)


@pytest.mark.covers("K25", "R6")
def test_capacity_sweep_interpolates_past_the_threshold_only_without_ridge():
    split = G.noisy_digits(40, 0.2, seed=0)
    plain = G.capacity_sweep([10, 40, 400], split, seed=0)
    assert plain["train_error"][0] > 0 and plain["train_error"][1] == plain["train_error"][2] == 0.0
    ridge = G.capacity_sweep([40], split, seed=0, ridge=10.0)  # a regularized readout does not interpolate
    assert ridge["train_error"][0] > 0


@pytest.mark.covers("K25")
def test_u_shape_summary_reads_the_curve():
    widths = [5, 10, 20, 40, 80, 160]
    u = G.u_shape_summary(widths, [0.8, 0.5, 0.6, 0.9, 0.4, 0.3], n=40)
    assert u == {"smallest": 0.8, "sweet_spot": 0.5, "threshold": 0.9, "largest": 0.3}
    flat = G.u_shape_summary(widths, [0.5] * 6, n=40)  # no U: every effect of K25 is 0, below its delta
    assert flat["smallest"] - flat["sweet_spot"] == flat["threshold"] - flat["sweet_spot"] == 0.0
    with pytest.raises(ValueError, match="threshold n = 50"):
        G.u_shape_summary(widths, [0.5] * 6, n=50)


@pytest.mark.covers("K46", "R6")
def test_corrupt_labels_keeps_counts():
    y = np.repeat(np.arange(10), 30)
    assert np.array_equal(G.corrupt_labels(y, 0.0, 0), y)
    shuffled = G.corrupt_labels(y, 1.0, 0)
    assert np.array_equal(np.bincount(shuffled), np.bincount(y)) and np.mean(shuffled != y) > 0.8
    half = G.corrupt_labels(y, 0.5, 0)
    assert 0.3 < np.mean(half != y) < 0.5


@pytest.mark.covers("K46", "T4")
def test_k46_true_labels_in_the_random_arm_lose_the_effect():
    xtr, ytr, xte, yte = T.digits_split(standardize=True)
    x, y = xtr[:60], ytr[:60]
    true = G.fit_labels(x, y, xte, yte, seed=0, max_epochs=3, width=32)
    fake = G.fit_labels(x, G.corrupt_labels(y, 0.0, 2), xte, yte, seed=0, max_epochs=3, width=32)
    assert fake == true  # "random" labels that are the true ones: same run, no slowdown
    assert math.log10(fake["epochs"] / true["epochs"]) == 0.0
    assert abs(fake["test_accuracy"] - 0.1) > 0.05 or fake["test_accuracy"] == true["test_accuracy"]
    assert true["epochs"] == 4 or true["train_accuracy"] == 1.0  # never reaching 100% counts as budget + 1
