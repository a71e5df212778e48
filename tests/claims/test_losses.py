"""Sanity tests of the loss claims (K06, K07, K08, K40) on deliberately broken variants (test_smoke.py runs each
claim at the tiny budget). No test asserts a claim's verdict."""
import math

import numpy as np
import pytest
import torch

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


@pytest.mark.covers("K08", "L3")
def test_k08_identity_matches_torch_and_a_reversed_kl_breaks_the_gradients():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3.0, size=(64, 10))
    t = L.soft_targets(rng, 64, 10)
    good = L.ce_kl_check(z, t)
    assert good["identity_error"] < 1e-10 and good["gradient_difference"] < 1e-10
    ref = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(t)).item()
    assert good["ce"] == pytest.approx(ref, abs=1e-12)
    dense = rng.dirichlet(np.ones(10), size=64)  # no zeros: the reversed KL needs log t

    def reversed_kl(logp, target):  # KL(p || t): the wrong direction
        p = logp.exp()
        return (p * (logp - np.log(dense))).sum() / len(dense)

    broken = L.ce_kl_check(z, dense, kl_fn=reversed_kl)
    assert broken["gradient_difference"] > 1e-3


@pytest.mark.covers("K40", "L2")
def test_k40_ratio_is_large_only_when_the_output_saturates_on_the_wrong_side():
    ratio = L.logit_gradient_ratio(np.array([-8.0, 0.0, 8.0]), np.ones(3))
    p = 1 / (1 + np.exp(-np.array([-8.0, 0.0, 8.0])))
    np.testing.assert_allclose(ratio, 1 / (2 * p * (1 - p)), rtol=1e-9)
    assert ratio[0] > 10 and ratio[1] == pytest.approx(2.0)


@pytest.mark.covers("K40", "L2")
def test_k40_saturated_init_is_confidently_wrong_and_starves_mse_of_gradient():
    import deepnotes as dn
    from deepnotes import data

    split = data.load_digits()
    x, y = split.x_train[:300], split.y_train[:300]
    norms = {}
    for loss in ("ce", "mse"):
        model = L.bad_init_classifier(64, 10, 32, 0)
        with dn.no_grad():
            p = dn.softmax(model(dn.tensor(x)), dim=1).numpy()
        assert np.all(p[:, 0] > 0.99)  # saturated on class 0 for every image
        L.classifier_loss(loss, model(dn.tensor(x)), y, 10).backward()
        norms[loss] = float(np.linalg.norm(model[0].weight.grad))
    assert norms["ce"] > 10 * norms["mse"]
    frozen = L.bad_init_classifier(64, 10, 32, 0)
    steps, curve = L.steps_to_train_accuracy("ce", frozen, x, y, 0.0, 30, 0)  # lr 0: never gets there
    assert steps == 31 and curve[0] == pytest.approx(np.mean(y == 0))
