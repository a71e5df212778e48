"""Sanity tests of the ReLU-family claims (K04, K05, K48): each measurement, run on a deliberately
broken variant, must change the way the mechanism says (test_smoke.py runs each claim at the tiny budget).
No test asserts a claim's verdict."""

import pytest

from deepnotes import data
from deepnotes.claims.experiments import relu_family as A
from deepnotes.claims.experiments._toolkit_a import mlp, never_positive_fraction


@pytest.mark.covers("K04", "A3")
def test_k04_dead_fraction_sees_dead_and_live_units():
    x = data.load_digits().x_train[:200]
    assert never_positive_fraction(mlp(64, 32, 3, 10, "relu", bias=-100.0), x) == 1.0
    assert never_positive_fraction(mlp(64, 32, 1, 10, "relu", bias=100.0), x) == 0.0  # z = Wx + 100 > 0
    shallow = A.born_dead_fraction(2, 4, 200, 0)
    deep = A.born_dead_fraction(40, 4, 200, 0)
    assert deep > shallow  # born-dead nets become common with depth (Lu et al., 2019)


@pytest.mark.covers("K05", "K48", "A4")
def test_k05_training_measure_separates_a_trained_net_from_an_untrained_one():
    split = A._small_split(data.load_mnist1d(), 1000, 300)
    frozen = A.train_deep_mlp("relu", split, 2, 32, 150, 0, lr=0.0, eval_every=50)
    trained = A.train_deep_mlp("relu", split, 2, 32, 150, 0, lr=3e-3, eval_every=50)
    assert len(trained["test_acc"]) == 3 and 0.0 <= trained["dead"] <= 1.0
    assert trained["final_acc"] > frozen["final_acc"] + 0.05
