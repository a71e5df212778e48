"""Sanity tests of the activation claims (K01-K03): each measurement, run on a deliberately
broken variant, must change the way the mechanism says (test_smoke.py runs each claim at the tiny budget).
No test asserts a claim's verdict."""
import math

import numpy as np
import pytest

from deepnotes import data
from deepnotes.claims.experiments import activations as A
from deepnotes.claims.experiments._toolkit_a import mlp


@pytest.mark.covers("K01", "E6")
def test_k01_collapse_is_exact_without_activation_and_breaks_with_one():
    x = np.random.default_rng(0).normal(size=(200, 2)) * 3
    linear = mlp(2, 16, 6, 1, activation=None, init="default", dtype=np.float64)
    assert A.collapse_error(linear, x) < 1e-12
    with_tanh = mlp(2, 16, 6, 1, activation="tanh", init="default", dtype=np.float64)
    assert A.collapse_error(with_tanh, x) > 1e-3  # the broken variant: composing the weights is wrong


@pytest.mark.covers("K01", "E6")
def test_k01_linear_stack_cannot_beat_logistic_regression():
    x, y = A.moons(0, 100)
    base = A.logistic_regression_loss(x, y)
    linear = mlp(2, 8, 3, 1, activation=None, init="default", dtype=np.float64)
    # Never below the optimum of its function class (up to the optimum's own tolerance).
    assert min(A.fit_full_batch(linear, x, y, 150, 0.02)) > base - 1e-6


@pytest.mark.covers("K02", "A1", "I2")
def test_k02_ratio_measures_vanishing_that_grows_with_depth():
    split = data.load_digits()
    x, y = split.x_train[:128], split.y_train[:128]
    shallow = A.gradient_ratio_curve("sigmoid", "xavier", x, y, 2, 32, 1, 0.1, 0)["log_ratio"][0]
    deep = A.gradient_ratio_curve("sigmoid", "xavier", x, y, 10, 32, 1, 0.1, 0)["log_ratio"][0]
    # each extra sigmoid layer multiplies the gradient by about sigma' |W| <= 1/4 |W|: far smaller when deep
    assert deep < shallow - 2


@pytest.mark.covers("K03", "A1", "I2")
def test_k03_growth_matches_the_matrix_prediction_and_saturation_kills_it():
    n, depth, scale = 128, 10, 2.0
    rng = np.random.default_rng(0)
    cot = rng.normal(size=(4, n))
    x = np.full((4, n), 0.5)
    centered = A.gradient_growth(A.sigmoid_chain(n, depth, scale, "centered", np.random.default_rng(1)), x, cot)
    predicted = 0.25 * scale * math.sqrt(n / 3)  # sigma'(0) * std(w) * sqrt(n): every |w| < 2 here
    assert 0.6 * predicted < centered < 1.4 * predicted
    saturated = A.gradient_growth(A.sigmoid_chain(n, depth, scale, "zero", np.random.default_rng(1)), x, cot)
    assert saturated < centered / 2  # the broken variant (saturated units) shrinks the growth
    for w in (1.0, 3.0, 6.0):
        assert A.scalar_growth(w, 8) == pytest.approx(w / 4, rel=1e-9)
    assert A.crossing([1.0, 2.0, 4.0, 8.0], [0.25, 0.5, 1.0, 2.0]) == pytest.approx(4.0)
