"""Hypergradients through unrolled training vs finite differences, float64 (H1)."""
import numpy as np
import pytest

from deepnotes.tune import hypergrad


@pytest.mark.covers("H1")
@pytest.mark.parametrize("log_lam, lr", [(-2.0, 0.02), (-5.0, 0.01), (0.0, 0.005)])
def test_hypergradient_matches_finite_differences(log_lam, lr):
    data = hypergrad.regression_task(seed=1)
    _, g_lam, g_lr = hypergrad.hypergradient(log_lam, np.log(lr), data, steps=15)
    fd_lam, fd_lr = hypergrad.finite_difference(log_lam, np.log(lr), data, steps=15)
    assert g_lam == pytest.approx(fd_lam, rel=1e-5, abs=1e-9)
    assert g_lr == pytest.approx(fd_lr, rel=1e-5, abs=1e-9)
    # without create_graph the inner gradients are constants: the hypergradient is wrong (the check can fail)
    import deepnotes as dn
    from deepnotes.autograd import grad

    a = dn.tensor(np.float64(log_lam), requires_grad=True)
    b = dn.tensor(np.float64(np.log(lr)), requires_grad=True)
    val = hypergrad.unrolled_validation_loss(a, b, data, 15, create_graph=False)
    ga, _ = grad(val, [a, b], allow_unused=True)
    assert ga is None or abs(float(ga.item()) - fd_lam) > 1e-6 * max(1.0, abs(fd_lam))


@pytest.mark.covers("H1")
def test_gradient_based_tuning_lowers_the_validation_loss():
    history = hypergrad.tune_hyperparameters(hypergrad.regression_task(seed=2), outer_steps=6, steps=15)
    assert len(history) == 7 and history[-1][2] < history[0][2]
