"""Sanity tests of the pooling claim (K50): the measurement is run on a deliberately broken variant
(pooling removed from the pooled arm) and must lose its effect;
tests/claims/test_smoke.py runs the claim at the tiny budget. No test asserts a claim's verdict."""
import math

import numpy as np
import pytest

import deepnotes as dn
from deepnotes.claims.experiments import pooling as P
from deepnotes import data



@pytest.fixture(scope="module")
def digits():
    split = data.load_digits(flatten=False)
    return split.x_test[:32], split.y_test[:32].astype(np.int64)


@pytest.mark.covers("K50", "C4")
def test_k50_canvas_and_moves(digits):
    x, _ = digits
    base = P.draw(x, P.DIGIT)
    assert base.shape == (32, 1, P.CANVAS, P.CANVAS)
    border = (P.CANVAS - P.DIGIT) // 2
    assert np.all(base[:, :, :border] == 0) and np.all(base[:, :, -border:] == 0)
    moved = P.shift(base, 1, -1)  # one pixel: nothing leaves the canvas
    assert np.allclose(moved.sum(axis=(2, 3)), base.sum(axis=(2, 3)))
    assert P.draw(x, 20).shape == base.shape and P.draw(x, 13).shape == base.shape


@pytest.mark.covers("K50", "C4")
def test_k50_pooling_removed_loses_the_effect(digits):
    x, y = digits
    dn.manual_seed(0)
    no_pool = P.sensitivities(P.SmallCNN(pool=False), x, y)
    dn.manual_seed(0)
    broken = P.sensitivities(P.SmallCNN(pool=False), x, y)  # the "pooled" arm built without pooling
    assert math.log10(no_pool["shift_change"] / broken["shift_change"]) == 0.0 < math.log10(1.5)
    # no change, no sensitivity: the identity move gives zero change and full agreement
    model = P.SmallCNN(pool=True)
    out = P.outputs(model, P.draw(x, P.DIGIT))
    assert P.change_and_agreement(out, out) == (0.0, 1.0)
