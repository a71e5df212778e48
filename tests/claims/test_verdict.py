"""The verdict rule on synthetic per-seed effects, and its intervals against SciPy's."""
import math

import numpy as np
import pytest
from scipy import stats

from deepnotes.claims import verdict
from deepnotes.claims.verdict import DOES_NOT_HOLD, HOLDS, MIXED, judge


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_t_interval_matches_scipy(n):
    d = np.random.default_rng(n).normal(0.3, 0.2, size=n)
    mean, lo, hi = verdict.t_interval(d)
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert mean == pytest.approx(d.mean(), rel=1e-12)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-10)


@pytest.mark.parametrize("na,nb", [(3, 3), (2, 5), (6, 4)])
def test_welch_interval_matches_scipy(na, nb):
    rng = np.random.default_rng(na * 10 + nb)
    a, b = rng.normal(1.0, 0.5, na), rng.normal(0.6, 0.1, nb)
    diff, lo, hi = verdict.welch_interval(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_t_quantile_is_scipys():
    # With 3 seeds the interval is wide: t(0.975, 2) = 4.303.
    assert verdict._t_quantile(0.975, 2) == pytest.approx(stats.t.ppf(0.975, 2), rel=1e-12)
    assert verdict._t_quantile(0.975, 2) == pytest.approx(4.3027, abs=1e-4)


def test_holds_when_mean_reaches_delta_and_interval_excludes_zero():
    j = judge("gap", [0.40, 0.42, 0.44], delta=0.05)
    assert j.verdict == HOLDS
    assert j.lo > 0 and j.mean >= j.delta
    assert j.p_a_beats_b == 1.0 and j.n == 3


def test_does_not_hold_when_upper_end_is_below_delta():
    assert judge("gap", [0.010, 0.012, 0.011], delta=0.05).verdict == DOES_NOT_HOLD  # real but too small
    assert judge("gap", [-0.30, -0.28, -0.33], delta=0.0).verdict == DOES_NOT_HOLD  # reversed
    reversed_ = judge("gap", [-0.30, -0.28, -0.33], delta=0.05)
    assert reversed_.verdict == DOES_NOT_HOLD and reversed_.p_a_beats_b == 0.0


def test_mixed_when_noisy_or_significant_but_small():
    noisy = judge("gap", [0.5, -0.3, 0.4], delta=0.05)
    assert noisy.verdict == MIXED and noisy.lo < 0 < noisy.hi
    small = judge("gap", [0.030, 0.040, 0.035], delta=0.036)  # lo > 0 but mean < delta <= hi
    assert small.lo > 0 and small.mean < small.delta <= small.hi
    assert small.verdict == MIXED


def test_one_seed_says_nothing_about_spread():
    j = judge("gap", [10.0], delta=0.1)
    assert j.verdict == MIXED
    assert j.lo == -math.inf and j.hi == math.inf
    assert j.to_dict()["lo"] is None and j.to_dict()["hi"] is None  # JSON has no infinity


def test_exact_claim_without_spread():
    assert judge("identity", [1.0, 1.0, 1.0], delta=1.0).verdict == HOLDS  # mean == delta counts
    assert judge("identity", [0.0, 0.0, 0.0], delta=0.0).verdict == MIXED  # lo == 0 is not > 0
    assert judge("count", [2.0, 2.0], delta=3.0).verdict == DOES_NOT_HOLD
    assert verdict.t_interval([2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_delta_zero_needs_only_a_positive_interval():
    assert judge("gap", [0.001, 0.002, 0.0015], delta=0.0).verdict == HOLDS
    assert judge("gap", [-0.001, 0.002, 0.0015], delta=0.0).verdict == MIXED


def test_boundary_hi_equal_to_delta_is_not_does_not_hold():
    # hi < delta is strict: an interval reaching delta exactly leaves the claim possible.
    assert verdict.decide(0.5, 0.2, 1.0, 1.0) == MIXED
    assert verdict.decide(0.5, 0.2, 0.999, 1.0) == DOES_NOT_HOLD
    with pytest.raises(ValueError, match="delta"):
        verdict.decide(0.5, 0.2, 1.0, -0.1)


@pytest.mark.parametrize("bad", [[0.1, float("nan"), 0.2], [0.1, float("inf")], [-float("inf"), 1.0]])
def test_non_finite_effects_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        judge("gap", bad, delta=0.1)


def test_empty_effects_are_refused():
    with pytest.raises(ValueError, match="no per-seed effects"):
        judge("gap", [], delta=0.1)
    with pytest.raises(ValueError, match="empty"):
        verdict.t_interval([])
    with pytest.raises(ValueError, match="both arms"):
        verdict.welch_interval([], [1.0])


def test_unpaired_criterion_uses_welch():
    pairs = [[0.90, 0.60], [0.95, 0.62], [0.92, 0.58], [0.94, 0.61]]
    j = judge("acc", pairs, delta=0.1, paired=False)
    a, b = np.array(pairs).T
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (j.lo, j.hi) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert j.verdict == HOLDS and not j.paired
    assert j.per_seed == pytest.approx(tuple(a - b))
    with pytest.raises(ValueError, match="pairs"):
        judge("acc", [0.1, 0.2, 0.3], delta=0.1, paired=False)


def test_pairing_matters():
    # The same numbers: arms that share seeds cancel the seed-to-seed variation; unpaired ones do not.
    a = np.array([0.50, 0.70, 0.90])
    b = a - 0.05 + np.array([0.001, -0.001, 0.0])
    assert judge("d", a - b, delta=0.02).verdict == HOLDS
    assert judge("d", np.c_[a, b], delta=0.02, paired=False).verdict == MIXED


def test_combine_rules():
    assert verdict.all_of({"a": HOLDS, "b": HOLDS}) == HOLDS
    assert verdict.all_of({"a": HOLDS, "b": MIXED}) == MIXED
    assert verdict.all_of({"a": HOLDS, "b": DOES_NOT_HOLD}) == DOES_NOT_HOLD
    assert verdict.any_of({"a": DOES_NOT_HOLD, "b": HOLDS}) == HOLDS
    assert verdict.any_of({"a": DOES_NOT_HOLD, "b": MIXED}) == MIXED
    assert verdict.any_of({"a": DOES_NOT_HOLD, "b": DOES_NOT_HOLD}) == DOES_NOT_HOLD
    for rule in (verdict.all_of, verdict.any_of):
        with pytest.raises(ValueError, match="at least one"):
            rule({})
