"""Synthetic sequence tasks: structure, labels, seeding and the documented baselines."""
import doctest
import math

import numpy as np
import pytest

import deepnotes as dn
from deepnotes.data.sequences import (
    ADDING_BASELINE_MSE, adding_problem, copy_memory, copy_memory_baseline, parity, temporal_order,
)

pytestmark = pytest.mark.covers("S1", "S2", "S3")


def test_adding_problem_structure_and_target():
    x, y = adding_problem(500, 30, seed=1)
    assert x.shape == (500, 30, 2) and x.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.float32
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :15].sum(axis=1) == 1) and np.all(markers[:, 15:].sum(axis=1) == 1)
    np.testing.assert_allclose(y, (x[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    assert 0 <= x[:, :, 0].min() and x[:, :, 0].max() < 1


def test_adding_problem_baseline_is_one_sixth():
    _, y = adding_problem(20000, 10, seed=2)
    mse_of_mean = float(np.mean((y - 1.0) ** 2))
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6)
    assert mse_of_mean == pytest.approx(ADDING_BASELINE_MSE, rel=0.03)


def test_copy_memory_layout():
    delay, L, k = 7, 4, 5
    x, y = copy_memory(50, delay, n_symbols=k, copy_len=L, seed=3)
    T = delay + 2 * L
    assert x.shape == y.shape == (50, T) and x.dtype == y.dtype == np.int64
    assert np.all((x[:, :L] >= 1) & (x[:, :L] <= k))
    assert np.all(x[:, delay + L - 1] == k + 1)  # the go marker
    go_free = np.delete(x[:, L:], delay - 1, axis=1)
    assert np.all(go_free == 0)
    assert np.all(y[:, : delay + L] == 0)
    np.testing.assert_array_equal(y[:, delay + L :], x[:, :L])
    assert copy_memory_baseline(delay, k, L) == pytest.approx(L * math.log(k) / T)


def test_temporal_order_labels_follow_the_two_relevant_symbols():
    x, y = temporal_order(400, 50, seed=4)
    assert x.shape == (400, 50, 6) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.all(x.sum(axis=-1) == 1)
    tokens = x.argmax(-1)
    relevant = tokens >= 4
    assert np.all(relevant.sum(axis=1) == 2)
    positions = np.argwhere(relevant)[:, 1].reshape(-1, 2)
    assert np.all((positions[:, 0] >= 5) & (positions[:, 0] < 10))
    assert np.all((positions[:, 1] >= 25) & (positions[:, 1] < 30))
    symbols = tokens[relevant].reshape(-1, 2) - 4
    np.testing.assert_array_equal(y, 2 * symbols[:, 0] + symbols[:, 1])
    assert set(np.bincount(y, minlength=4) > 60) == {True}  # all four classes, roughly balanced


def test_parity_labels():
    x, y = parity(300, 9, seed=5)
    assert x.shape == (300, 9, 1) and y.dtype == np.int64
    np.testing.assert_array_equal(y, x[..., 0].sum(axis=1).astype(int) % 2)


@pytest.mark.parametrize("task", [
    lambda s: adding_problem(8, 12, seed=s),
    lambda s: copy_memory(8, 5, seed=s),
    lambda s: temporal_order(8, 20, seed=s),
    lambda s: parity(8, 12, seed=s),
])
def test_seeded_and_independent_of_the_global_generator(task):
    dn.manual_seed(0)
    a = task(1)
    state = dn.get_rng_state()
    b = task(1)
    assert dn.get_rng_state() == state
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], task(2)[0])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="seq_len"):
        adding_problem(4, 1)
    with pytest.raises(ValueError, match="delay"):
        copy_memory(4, 0)
    with pytest.raises(ValueError, match="n must be"):
        parity(0, 5)
    with pytest.raises(ValueError, match="seq_len must be >= 10"):
        temporal_order(3, 5)


def test_docstring_examples_run():
    import deepnotes.data.sequences as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
