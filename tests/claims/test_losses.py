"""Sanity tests of the loss claims (K06, K07) on deliberately broken variants (test_smoke.py runs each
claim at the tiny budget). No test asserts a claim's verdict."""
import math

import numpy as np
import pytest

from deepnotes.claims.experiments import losses as L
from deepnotes.claims.experiments._toolkit_a import log_tol_effect


@pytest.mark.covers("K06", "A5")
def test_k06_naive_softmax_in_place_of_the_fix_fails_the_check():
    logits = L.softmax_logits(np.random.default_rng(0), 500)
    good = L.softmax_checks(logits)
    broken = L.softmax_checks(logits, softmax_fn=L.naive_softmax)
    assert log_tol_effect(good["fixed_error"], 1e-6) > 0
    assert log_tol_effect(broken["fixed_error"], 1e-6) < 0
    assert good["overflow_fraction"] == 1.0 and good["large_rows"] > 0


@pytest.mark.covers("K06", "A5")
def test_k06_overflow_threshold_is_the_log_of_the_largest_float():
    assert L.overflow_threshold(L.naive_softmax, np.float32) == pytest.approx(
        math.log(np.finfo(np.float32).max), abs=1e-3)
    assert L.overflow_threshold(L.naive_softmax, np.float64) == pytest.approx(
        math.log(np.finfo(np.float64).max), abs=1e-3)
    assert L.overflow_threshold(L.stable_softmax, np.float32) == pytest.approx(2000.0)  # never overflows


@pytest.mark.covers("K07", "L1", "D3")
def test_k07_smooth_l1_with_beta_to_zero_loses_its_smoothness():
    assert L.derivative_jump(L.regression_loss("l1")) == pytest.approx(2.0)
    assert L.derivative_jump(L.regression_loss("smooth_l1")) == pytest.approx(2e-6, rel=1e-6)
    broken = L.derivative_jump(L.regression_loss("smooth_l1", beta=1e-9))
    assert math.log10(2.0 / broken) < 3  # the smoothness criterion's effect fails


@pytest.mark.covers("K07", "L1")
def test_k07_outliers_are_what_separates_l2_from_smooth_l1():
    def log_ratio(fraction):
        x, y, xt, yc = L.outlier_regression(np.random.default_rng(0), 300, 500, 5, fraction)
        mse = {n: L.clean_test_mse(L.fit_linear_regression(L.regression_loss(n), x, y, 300, 0), xt, yc)
               for n in ("l2", "smooth_l1")}
        return math.log(mse["l2"] / mse["smooth_l1"])

    assert log_ratio(0.1) > log_ratio(0.0) + 0.5
