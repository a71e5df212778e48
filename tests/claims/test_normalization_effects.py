"""Sanity tests of the claims on normalization's side effects (K41, K42, K43): each measurement is run on a
deliberately broken variant (the normalization removed or swapped, a zero step) and must change as the
mechanism says; tests/claims/test_smoke.py runs each claim at the tiny budget. No test asserts a claim's verdict."""
import math

import pytest

import deepnotes as dn
from deepnotes.claims.experiments import normalization_effects as N
from deepnotes.claims.experiments import _toolkit_c as T


@pytest.fixture(scope="module")
def digits():
    return T.digits_split(standardize=True)


@pytest.mark.covers("K43", "N1", "I2")
def test_k43_explosion_is_attributed_to_bn_and_to_the_scale(digits):
    x, y = digits[0][:64], digits[1][:64]
    arms = {"plain": ("none", 1.0), "bn": ("batch", 1.0), "small": ("none", 0.7), "large": ("none", 1.3)}
    prof = N.k43_profiles(20, 64, x, y, 0, arms)
    # removing BN removes the explosion: He x 1 keeps the backward signal within 10x over 20 layers
    assert abs(prof["plain"]["log10_signal_ratio"]) < 1 < prof["bn"]["log10_signal_ratio"]
    # a plain ReLU net is positively homogeneous: the signal ratio follows 0.7^19 and 1.3^19 (within 10x)
    assert prof["small"]["log10_signal_ratio"] == pytest.approx(19 * math.log10(0.7), abs=1.0)
    assert prof["large"]["log10_signal_ratio"] == pytest.approx(19 * math.log10(1.3), abs=1.0)


@pytest.mark.covers("K41", "N1")
def test_k41_dropout_zero_is_the_plain_net():
    split = T.mnist1d_split()
    plain = N.k41_run("none", 0.0, 100, 6, 0, split, width=16)
    again = N.k41_run("none", 0.0, 100, 6, 0, split, width=16)
    assert plain == again  # paired and deterministic: an arm equal to "neither" has effect 0
    dropped = N.k41_run("none", 0.5, 100, 6, 0, split, width=16)
    assert dropped != plain  # the dropout arm does differ


@pytest.mark.covers("K42", "N1")
def test_k42_saturation_follows_the_scale_and_bn_removes_it(digits):
    x = digits[0][:128]
    sat = {}
    for norm in ("none", "batch"):
        for scale in (0.1, 10.0):
            dn.manual_seed(0)
            model = T.norm_mlp(64, 32, 4, 10, activation="sigmoid", norm=norm, init="xavier", scale=scale)
            sat[norm, scale] = N.saturated_fraction(model, x)
    assert sat["none", 0.1] < 0.01 < 0.5 < sat["none", 10.0]
    assert sat["batch", 10.0] < 0.5 * sat["none", 10.0]
