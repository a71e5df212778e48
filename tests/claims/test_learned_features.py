"""Sanity tests of the learned-features claims (K39, K47) on deliberately broken variants (a "network"
that is the linear model, curves that drop or stay flat); test_smoke.py runs each claim at the tiny
budget. No test asserts a claim's verdict."""

import numpy as np
import pytest

import deepnotes.nn as nn
from deepnotes.claims.experiments import learned_features as L
from deepnotes.claims.experiments import _toolkit_c as T


@pytest.mark.covers("K39", "T4")
def test_models_see_their_input_shapes():
    for data_set, features, shape in (("mnist1d", 40, (3, 1, 40)), ("digits", 64, (3, 1, 8, 8))):
        x = np.zeros((3, features), dtype=np.float32)
        assert L.as_input("cnn", data_set, x).shape == shape
        assert L.as_input("mlp", data_set, x).shape == (3, features)
        assert isinstance(L.build("logistic", data_set), nn.Linear)
        assert sum(isinstance(m, nn.Linear) for m in L.build("mlp", data_set)) == 3
    with pytest.raises(ValueError, match="build: kind"):
        L.build("svm", "digits")


@pytest.mark.covers("K39", "T4")
def test_k39_linear_model_in_the_network_arm_gives_zero_effect():
    xtr, ytr, xte, yte = T.mnist1d_split()
    a = L.fit_and_test("logistic", "mnist1d", xtr[:300], ytr[:300], xte, yte, seed=0, steps=15)
    b = L.fit_and_test("logistic", "mnist1d", xtr[:300], ytr[:300], xte, yte, seed=0, steps=15)
    assert b - a == 0.0 < 0.05  # same seed, same steps: the "learned features" arm cannot win
    untrained = L.fit_and_test("mlp", "mnist1d", xtr[:300], ytr[:300], xte, yte, seed=0, steps=0)
    trained = L.fit_and_test("mlp", "mnist1d", xtr[:300], ytr[:300], xte, yte, seed=0, steps=60)
    assert untrained < 0.2 < trained  # the measurement sees training


@pytest.mark.covers("K47", "T4")
def test_k47_effects_catch_a_drop_and_a_flat_network():
    rising = {"logistic": [0.2, 0.3, 0.31, 0.31], "forest": [0.2, 0.4, 0.5, 0.55], "mlp": [0.2, 0.4, 0.5, 0.7]}
    e = L.curve_effects(rising)
    assert e["nobody_gets_worse"] == pytest.approx(0.02)
    assert e["network_gains_more_than_linear"] == pytest.approx(0.3 - 0.01)
    assert e["network_gains_more_than_forest"] == pytest.approx(0.3 - 0.15)
    dropping = {**rising, "forest": [0.2, 0.5, 0.4, 0.45]}  # more data hurt the forest by 0.1
    assert L.curve_effects(dropping)["nobody_gets_worse"] == pytest.approx(-0.08)
    flat = {**rising, "mlp": [0.2, 0.3, 0.31, 0.31]}  # the "network" is the linear model's curve
    assert L.curve_effects(flat)["network_gains_more_than_linear"] == 0.0


@pytest.mark.covers("K47")
def test_classical_score_refuses_unknown_models():
    with pytest.raises(ValueError, match="classical_score: kind"):
        L.classical_score("svm", np.zeros((4, 2)), np.arange(4) % 2, np.zeros((2, 2)), np.arange(2), 0)
