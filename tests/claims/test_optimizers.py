"""Optimizer claims (K12, K13; K14 in `second_order`, K15 in `ftrl_sparsity`, K28 in `clipping`): mechanisms.

Each sanity test runs a claim's own measurement on a deliberately broken (or neutral) variant and
checks that the measured quantity moves as the mechanism says; no test asserts a claim's verdict.
"""

import numpy as np
import pytest

from deepnotes import optim
from deepnotes.claims.experiments import clipping, ftrl_sparsity, second_order
from deepnotes.claims.experiments import optimizers as oc
from deepnotes.optim import testfunctions as tf

MINE = ("K12", "K13", "K14", "K15", "K28")


# ------------------------------------------------------------------ K12
@pytest.mark.covers("K12", "O3")
def test_k12_wilson_construction_and_its_mechanism():
    x, y = oc.wilson_data(12, 0.55, seed=3)
    assert x.shape == (12, 3 + 60)
    np.testing.assert_array_equal(x[:, 0], y)
    np.testing.assert_array_equal(x[:, 3:].sum(1), np.where(y > 0, 1, 5))  # 1 or 5 unique features
    lr = 1.0 / float(np.linalg.eigvalsh(x.T @ x / len(x))[-1])
    w_gd = oc.wilson_fit(x, y, lambda p: optim.SGD(p, lr=lr), 2000)
    w_adam = oc.wilson_fit(x, y, oc.WILSON_OPTIMIZERS["adam"], 2000)
    assert oc.wilson_test_error(w_gd, 0.55) == 0.0  # GD's min-norm solution reads the label off x_1
    # Adam's sign-like steps weigh the always-on features 2 and 3 as much as x_1: everything is "+1"
    assert oc.wilson_test_error(w_adam, 0.55) == pytest.approx(0.45)
    # broken variant: without the label feature, GD has nothing to generalize from either
    x_broken = x.copy()
    x_broken[:, 0] = 0.0
    w_broken = oc.wilson_fit(x_broken, y, lambda p: optim.SGD(p, lr=lr), 2000)
    assert oc.wilson_test_error(w_broken, 0.55) >= 0.45 - 1e-12


# ------------------------------------------------------------------ K13
@pytest.mark.covers("K13", "O4")
def test_k13_sgd_identity_holds_only_with_the_matching_coefficient():
    decay = oc.penalty_trajectory(lambda p: optim.SGD(p, lr=0.1, weight_decay=1e-2), 0.0, 20, seed=0)
    l2 = oc.penalty_trajectory(lambda p: optim.SGD(p, lr=0.1), 1e-2, 20, seed=0)
    wrong = oc.penalty_trajectory(lambda p: optim.SGD(p, lr=0.1, weight_decay=2e-2), 0.0, 20, seed=0)
    assert np.abs(decay - l2).max() < 1e-12
    assert np.abs(wrong - l2).max() > 1e-6  # a mismatched coefficient breaks the equality: the check can fail


@pytest.mark.covers("K13", "O4")
def test_k13_adam_l2_is_the_gradient_penalty_and_adamw_is_not():
    adam_wd = oc.penalty_trajectory(lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-2), 0.0, 20, seed=1)
    adam_l2 = oc.penalty_trajectory(lambda p: optim.Adam(p, lr=1e-2), 1e-2, 20, seed=1)
    adamw = oc.penalty_trajectory(lambda p: optim.AdamW(p, lr=1e-2, weight_decay=1e-2), 0.0, 20, seed=1)
    assert np.abs(adam_wd - adam_l2).max() < 1e-10  # Adam's weight_decay is L2 in the gradient
    moved = np.abs(adam_l2 - adam_l2[0]).max()
    assert np.abs(adamw - adam_l2).max() / moved > 0.01
    # broken variant: decoupled decay of 0 is plain Adam, which equals Adam + L2 only when L2 is 0
    no_decay = oc.penalty_trajectory(lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.0), 0.0, 20, seed=1)
    plain = oc.penalty_trajectory(lambda p: optim.Adam(p, lr=1e-2), 0.0, 20, seed=1)
    assert np.abs(no_decay - plain).max() < 1e-12


# ------------------------------------------------------------------ K14
@pytest.mark.covers("K14", "O5")
def test_k14_iteration_gap_needs_ill_conditioning():
    """Neutral variant: on a perfectly conditioned quadratic GD (lr 1 / L) is as fast as Newton."""
    x0 = np.ones(4)
    easy = second_order.iterations_to_target(tf.quadratic(1.0, 4), x0, 1.0, 1.0, cap=50)
    assert easy["gd"] == easy["newton"] == 1
    hard = second_order.iterations_to_target(tf.quadratic(100.0, 4), x0, 100.0, 1.0, cap=2000)
    assert hard["newton"] == 1 and hard["gd"] > 100


@pytest.mark.covers("K14", "O5")
def test_k14_newton_memory_grows_with_the_hessian():
    small = second_order.step_cost(second_order.COST_METHODS["newton"], 16, seed=0, repeats=1)
    large = second_order.step_cost(second_order.COST_METHODS["newton"], 64, seed=0, repeats=1)
    lbfgs_small = second_order.step_cost(second_order.COST_METHODS["lbfgs"], 16, seed=0, repeats=1)
    lbfgs_large = second_order.step_cost(second_order.COST_METHODS["lbfgs"], 64, seed=0, repeats=1)
    assert large[1] - small[1] >= 8 * (64 ** 2 - 16 ** 2) * 0.9  # at least the float64 n x n Hessian
    assert large[1] / small[1] > lbfgs_large[1] / lbfgs_small[1]


def test_k14_logistic_objective_matches_scikit_learn_loss():
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), np.where(rng.random(50) < 0.5, -1.0, 1.0)
    w = rng.normal(size=4)
    p = 1.0 / (1.0 + np.exp(-(x @ w[:3] + w[3])))
    expected = log_loss((y > 0).astype(int), p) + 0.5 * 1e-2 * np.sum(w[:3] ** 2)
    import deepnotes as dn

    assert second_order.logistic_objective(x, y)(dn.tensor(w)).item() == pytest.approx(expected, rel=1e-10)


# ------------------------------------------------------------------ K15
@pytest.mark.covers("K15", "O6")
def test_k15_exact_zeros_come_from_ftrl_l1_not_from_an_l1_penalty():
    cols, y, _ = ftrl_sparsity.sparse_click_data(600, seed=0, features=256)
    seen = np.zeros(256, dtype=bool)
    seen[np.unique(cols)] = True
    zeros = {}
    for name, make, penalty in (("ftrl_l1", ftrl_sparsity.ftrl(1.0), 0.0), ("ftrl", ftrl_sparsity.ftrl(0.0), 0.0),
                                ("sgd_l1", lambda m: optim.SGD(m.parameters(), lr=0.1), 1e-3)):
        model = ftrl_sparsity.online_logistic(cols, y, 256, make, 10, 0, l1_penalty=penalty)
        zeros[name] = model.weight.numpy().ravel() == 0.0
    # without L1 (broken variant of the claim's mechanism) exactly the unseen features stay 0
    np.testing.assert_array_equal(zeros["ftrl"], ~seen)
    np.testing.assert_array_equal(zeros["sgd_l1"], ~seen)  # subgradient steps jump across 0, never land on it
    assert zeros["ftrl_l1"].mean() > zeros["ftrl"].mean() + 0.3


# ------------------------------------------------------------------ K28
@pytest.mark.covers("K28", "I3")
def test_k28_divergence_needs_a_large_spectral_radius():
    """Broken variant: with spectral radius 0.5 gradients do not explode and the unclipped run is stable."""
    calm, _ = clipping.clipping_run(0, None, radius=0.5, seq_len=20, steps=60)
    wild, norms = clipping.clipping_run(0, None, radius=1.5, seq_len=20, steps=60)
    clipped, _ = clipping.clipping_run(0, 1.0, radius=1.5, seq_len=20, steps=60)
    assert calm.max() < 10.0 and clipped.max() < 10.0
    assert wild.max() > 100.0 * clipped.max()
    assert norms.max() > 100.0


def test_k28_spikes_counts_jumps_over_the_recent_median():
    assert clipping.spikes(np.ones(30)) == 0
    losses = np.ones(30)
    losses[[15, 25]] = 50.0
    assert clipping.spikes(losses) == 2
