"""Sanity tests of the regularization claims (K23, K24) on deliberately broken variants (a zero L1
threshold, an identity augmentation, an early stopping that neither stops nor restores); test_smoke.py
runs each claim at the tiny budget. No test asserts a claim's verdict."""

import numpy as np
import pytest

from deepnotes import data
from deepnotes.claims.experiments import regularization as R
from deepnotes.claims.verdict import DOES_NOT_HOLD, HOLDS, MIXED


@pytest.fixture(scope="module")
def logistic_data():
    x, y, _ = R.sparse_logistic_data(120, 20, 4, seed=0)
    return x, y


@pytest.mark.covers("K23", "R3")
def test_soft_threshold_is_the_l1_proximal_map():
    rng = np.random.default_rng(0)
    w, t = rng.standard_normal(500), 0.4
    out = R.soft_threshold(w, t)
    assert np.all(out[np.abs(w) <= t] == 0.0)
    np.testing.assert_allclose(out[np.abs(w) > t], w[np.abs(w) > t] - t * np.sign(w[np.abs(w) > t]))
    # the prox minimizes 0.5 (u - w)^2 + t |u| coordinate-wise: no grid point does better
    grid = np.linspace(-3, 3, 6001)
    for wi in w[:20]:
        best = grid[np.argmin(0.5 * (grid - wi) ** 2 + t * np.abs(grid))]
        assert abs(best - R.soft_threshold(np.array([wi]), t)[0]) <= 1e-3
    np.testing.assert_array_equal(R.soft_threshold(w, 0.0), w)


@pytest.mark.covers("K23", "R3")
def test_k23_zero_threshold_gives_no_exact_zeros(logistic_data):
    x, y = logistic_data
    for arm in ("ista", "ftrl"):
        sparse = R.fit_sparse_logistic(arm, x, y, epochs=5, seed=0, l1=0.05)
        broken = R.fit_sparse_logistic(arm, x, y, epochs=5, seed=0, l1=0.0)  # L1 switched off
        assert np.mean(sparse.weight.numpy() == 0.0) > 0.2
        assert np.mean(broken.weight.numpy() == 0.0) == 0.0
    # L2 with mu = 0 is the unpenalized fit: the shrinkage effect is exactly zero
    none = R.fit_sparse_logistic("none", x, y, epochs=3, seed=0)
    no_l2 = R.fit_sparse_logistic("l2", x, y, epochs=3, seed=0, l2=0.0)
    np.testing.assert_array_equal(none.weight.numpy(), no_l2.weight.numpy())
    with pytest.raises(ValueError, match="fit_sparse_logistic: arm"):
        R.fit_sparse_logistic("lasso", x, y, epochs=1, seed=0)


@pytest.mark.covers("K23")
def test_k23_combine_names_disagreeing_optimizers_mixed():
    l2 = {"l2_shrinks": HOLDS, "l2_no_exact_zeros": HOLDS}
    agree = dict.fromkeys(R.K23_L1_CRITERIA, HOLDS)
    assert R.k23_combine({**agree, **l2}) == HOLDS
    split = {**agree, "exact_zeros_sgd_subgradient": DOES_NOT_HOLD}
    assert R.k23_combine({**split, **l2}) == MIXED
    assert R.k23_combine({**dict.fromkeys(R.K23_L1_CRITERIA, DOES_NOT_HOLD), **l2}) == DOES_NOT_HOLD
    assert R.k23_combine({**agree, **l2, "l2_no_exact_zeros": DOES_NOT_HOLD}) == DOES_NOT_HOLD


@pytest.fixture(scope="module")
def small_digits():
    return R.digits_small_split(40, 30, seed=0)


@pytest.mark.covers("K24", "R5")
def test_k24_identity_augmentation_loses_the_effect(small_digits):
    plain = R.k24_run(small_digits, 0, epochs=2)
    identity = R.k24_run(small_digits, 0, epochs=2, augment=R.k24_augmentation(max_shift=0, noise=0.0))
    assert identity == plain  # same batches, same init: the augmented arm's gap equals the plain one's
    assert plain["gap"] - identity["gap"] == 0.0 < 0.02


@pytest.mark.covers("K24", "R5")
def test_augmented_loader_keeps_order_and_labels():
    x = np.random.default_rng(0).random((12, 1, 8, 8)).astype(np.float32)
    y = np.arange(12)
    base = data.DataLoader(data.TensorDataset(x, y), batch_size=5, shuffle=True, generator=np.random.default_rng(3))
    twin = data.DataLoader(data.TensorDataset(x, y), batch_size=5, shuffle=True, generator=np.random.default_rng(3))
    aug = R.AugmentedLoader(twin, R.k24_augmentation(), np.random.default_rng(4))
    assert len(aug) == len(base) == 3
    for (xb, yb), (xa, ya) in zip(base, aug):
        np.testing.assert_array_equal(yb.numpy(), ya.numpy())
        assert xa.shape == xb.shape and not np.array_equal(xa.numpy(), xb.numpy())


@pytest.mark.covers("K24", "R4")
def test_k24_early_stopping_without_stop_or_restore_is_the_plain_run(small_digits):
    plain = R.k24_run(small_digits, 0, epochs=3)
    inert = R.k24_run(small_digits, 0, epochs=3, patience=100, restore=False)
    assert inert == plain  # the effect of the early-stopping arm comes from stopping and restoring only
