"""Sanity tests of the architecture claims (K29, K30): each measurement is run on a deliberately
broken variant (the shortcut removed from the residual arm, the dense head in place of the fully
convolutional one) and must lose its effect; tests/claims/test_smoke.py runs each claim at the tiny budget. No test asserts
a claim's verdict."""
import math

import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.claims.experiments import architectures as A
from deepnotes.claims.experiments import _toolkit_c as T
from deepnotes.claims.experiments._toolkit_a import log_tol_effect
from deepnotes.claims.verdict import DOES_NOT_HOLD, HOLDS, MIXED



@pytest.fixture(scope="module")
def small_digits():
    x, y, xte, yte = T.digits_split(standardize=True)
    return x[:96], y[:96], xte[:64], yte[:64]


@pytest.mark.covers("K29", "I4")
def test_k29_shortcut_removed_loses_the_effect(small_digits):
    plain = A.k29_run(6, False, True, 0.1, 1, 0, small_digits)
    no_shortcut = A.k29_run(6, False, True, 0.1, 1, 0, small_digits)  # the "residual" arm, shortcut removed
    assert T.log_ratio(plain["train_loss"], no_shortcut["train_loss"]) == 0.0 < math.log10(2.0)
    # the two arms share every parameter at init and differ only by the identity path
    dn.manual_seed(3)
    res = A.DeepMLP(64, 16, 4, 10, shortcut=True)
    dn.manual_seed(3)
    cut = A.DeepMLP(64, 16, 4, 10, shortcut=False)
    assert all(np.array_equal(a.detach().numpy(), b.detach().numpy()) for a, b in zip(res.parameters(), cut.parameters()))
    x = dn.tensor(small_digits[0][:8])
    assert not np.allclose(res(x).numpy(), cut(x).numpy())


@pytest.mark.covers("K29")
def test_k29_precondition_makes_the_claim_mixed():
    parts = {"plain_degrades": HOLDS, "residual_fixes": HOLDS}
    assert A.k29_combine({**parts, "plain_deep_trains": DOES_NOT_HOLD}) == MIXED
    assert A.k29_combine({**parts, "plain_deep_trains": HOLDS}) == HOLDS
    assert A.k29_combine({**parts, "residual_fixes": DOES_NOT_HOLD, "plain_deep_trains": HOLDS}) == DOES_NOT_HOLD
    assert A.best_of([{"train_loss": 0.3}, {"train_loss": 0.1}])["train_loss"] == 0.1


@pytest.mark.covers("K30", "C2")
def test_k30_dense_head_in_place_of_the_fcn_changes_its_count():
    channels = (8, 16)
    fcn = A.fully_convolutional(channels, 10)
    assert nn.utils.count_parameters(fcn) == A.expected_count(channels, 10, None)
    assert A.runs_on(fcn, 16) and A.runs_on(fcn, 40)
    # the broken variant: the "fully convolutional" arm built with the dense head for each size
    small, large = A.dense_head(channels, 10, 16), A.dense_head(channels, 10, 32)
    diff = abs(nn.utils.count_parameters(large) - nn.utils.count_parameters(small))
    assert diff == 16 * (8 * 8 - 4 * 4) * 10 and log_tol_effect(diff, 0.5) < 0
    assert A.runs_on(small, 16) and not A.runs_on(small, 32)
    assert nn.utils.count_parameters(large) == A.expected_count(channels, 10, 32)
