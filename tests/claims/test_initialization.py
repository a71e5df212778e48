"""Sanity tests of K26 (init and depth) and K38 (universal approximation) on deliberately broken
variants (test_smoke.py runs each claim at the tiny budget). No test asserts a claim's verdict."""
import math

import numpy as np
import pytest

from deepnotes.claims.experiments import initialization as I


@pytest.mark.covers("K26", "I1")
def test_k26_swapping_he_and_xavier_flips_the_relu_criterion():
    x, y = I.standardized_digits()
    x, y = x[:256], y[:256]
    he = I.signal_profile("relu", "he", 1.0, 30, 64, x, y, 0)
    swapped = I.signal_profile("relu", "xavier", 1.0, 30, 64, x, y, 0)
    assert I.band_effect(swapped["act_ratio"]) < 0 < I.band_effect(he["act_ratio"]) + 1
    assert swapped["act_ratio"] < 0.01 * he["act_ratio"]
    # He x 0.5 shrinks the std by 0.5 per layer (ReLU is homogeneous): 29 layers -> 0.5 ** 29
    small = I.signal_profile("relu", "he", 0.5, 30, 64, x, y, 0)
    assert math.log10(small["act_ratio"] / he["act_ratio"]) == pytest.approx(29 * math.log10(0.5), abs=1e-6)


@pytest.mark.covers("K26")
def test_band_effect():
    assert I.band_effect(1.0) == pytest.approx(math.log10(2))
    assert I.band_effect(2.0) == pytest.approx(0.0, abs=1e-12) and I.band_effect(0.5) == pytest.approx(0.0, abs=1e-12)
    assert I.band_effect(0.01) < 0 and math.isfinite(I.band_effect(float("nan")))


@pytest.mark.covers("K38", "T1")
def test_k38_without_the_nonlinearity_width_does_not_help():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=128)
    y = I.target_function(x)
    errors = {(act, w): I.max_error(I.fit_one_hidden_layer(w, x, y, 30, 0, activation=act), -2, 2)
              for act in ("tanh", "identity") for w in (5, 50)}
    assert errors[("identity", 50)] == pytest.approx(errors[("identity", 5)], rel=1e-6)  # still a line
    assert errors[("tanh", 50)] < errors[("tanh", 5)] / 2
