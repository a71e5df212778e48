"""Claim K37's measurements (random vs grid, BO vs random): each checked on a broken or neutral variant.

No test asserts the claim's verdict.
"""
import numpy as np
import pytest

from deepnotes.claims import registry
from deepnotes.claims.experiments import tuning
from deepnotes.tune import objectives


@pytest.mark.covers("K37", "H1")
def test_grid_tries_three_values_per_dimension_and_random_tries_81():
    grid = tuning.grid_points()
    assert grid.shape == (81, 8)
    assert [len(np.unique(grid[:, j])) for j in range(8)] == [3, 3, 3, 3, 1, 1, 1, 1]
    rng = np.random.default_rng(0)
    assert len(np.unique(rng.random((81, 8))[:, 0])) == 81
    # the objective: x_0, x_1 matter, the rest barely
    centre = np.array([0.3, 0.7])
    base = np.array([[0.3, 0.7] + [0.5] * 6])
    moved_important, moved_other = base.copy(), base.copy()
    moved_important[0, 0] += 0.2
    moved_other[0, 5] += 0.2
    f = tuning.low_effective_dimension
    assert f(base, centre)[0] == pytest.approx(0.0)
    assert f(moved_important, centre)[0] > 0.9 and f(moved_other, centre)[0] < 1e-3


@pytest.mark.covers("K37", "H1")
def test_random_beats_grid_measure_on_neutral_and_broken_variants():
    grid, rand = tuning.grid_vs_random(seed=0, repetitions=40)
    assert grid.shape == rand.shape == (40,) and np.all(grid >= 0) and np.all(rand >= 0)
    # neutral variant: a single repetition compared with itself gives no wins either way
    same = tuning.low_effective_dimension(tuning.grid_points(), np.array([0.5, 0.5]))
    assert np.mean(same < same) == 0.0
    # broken variant: if only the grid's levels can be the optimum, the grid finds it exactly
    best_grid = tuning.low_effective_dimension(tuning.grid_points(), np.array([1 / 6, 5 / 6])).min()
    assert best_grid == pytest.approx(0.0, abs=1e-12)


@pytest.mark.covers("K37", "H1")
def test_regret_measure_is_zero_for_identical_searchers_and_at_the_minimum():
    a = tuning.regret_curve(objectives.branin, objectives.branin_space(), objectives.BRANIN_MIN, "random", 10, 3)
    b = tuning.regret_curve(objectives.branin, objectives.branin_space(), objectives.BRANIN_MIN, "random", 10, 3)
    np.testing.assert_array_equal(a, b)  # a searcher compared with itself: log ratio 0
    assert np.all(np.diff(a) <= 0) and np.all(a > 0)
    for x in objectives.BRANIN_ARGMINS:
        assert objectives.branin({"x1": x[0], "x2": x[1]}) == pytest.approx(objectives.BRANIN_MIN, abs=1e-6)
    x_star = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    assert objectives.hartmann6({f"x{i}": v for i, v in enumerate(x_star)}) == pytest.approx(
        objectives.HARTMANN6_MIN, abs=1e-4)


@pytest.mark.covers("K37", "H1")
def test_k37_tiny_seed_returns_every_effect():
    claim = registry.get("K37")
    result = claim(0, "tiny")
    assert set(result["effects"]) == {c.name for c in claim.criteria}
    assert all(np.isfinite(v) for v in result["effects"].values())
    assert len(result["series"]["regret_branin_bo"]) == 6
