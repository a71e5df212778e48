"""ROC / PR curves and their areas, calibration: against scikit-learn on ties and degenerate cases."""
import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.calibration import calibration_curve as sk_calibration_curve

import deepnotes.metrics as dm
from tests.metrics.sk_oracle import check, proba_cases, score_cases

pytestmark = pytest.mark.covers("M1")
SCORES = score_cases(0)
PROBAS = proba_cases(0)


@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve(drop_intermediate):
    rng = np.random.default_rng(1)
    for y, s in SCORES:
        check(dm.roc_curve, skm.roc_curve, y, s, drop_intermediate=drop_intermediate)
        check(dm.roc_curve, skm.roc_curve, y, s, sample_weight=rng.uniform(0.2, 2, len(y)),
              drop_intermediate=drop_intermediate)
    check(dm.roc_curve, skm.roc_curve, np.array(["a", "b", "b"]), [0.1, 0.2, 0.3])  # no pos_label: error
    check(dm.roc_curve, skm.roc_curve, np.array(["a", "b", "b"]), [0.1, 0.2, 0.3], pos_label="a")
    check(dm.roc_curve, skm.roc_curve, [0, 1, 2], [0.1, 0.2, 0.3])  # multiclass: error


@pytest.mark.parametrize("drop_intermediate", [False, True])
def test_precision_recall_curve(drop_intermediate):
    for y, s in SCORES:
        check(dm.precision_recall_curve, skm.precision_recall_curve, y, s, drop_intermediate=drop_intermediate)
    check(dm.precision_recall_curve, skm.precision_recall_curve, np.array(["a", "b"]), [0.1, 0.2], pos_label="b")


def test_binary_areas():
    rng = np.random.default_rng(2)
    for y, s in SCORES:
        check(dm.roc_auc_score, skm.roc_auc_score, y, s)
        check(dm.average_precision_score, skm.average_precision_score, y, s)
        w = rng.uniform(0.2, 2, len(y))
        check(dm.roc_auc_score, skm.roc_auc_score, y, s, sample_weight=w)
        check(dm.average_precision_score, skm.average_precision_score, y, s, sample_weight=w)
    strings = np.array(["no", "yes", "yes", "no"])
    check(dm.roc_auc_score, skm.roc_auc_score, strings, [0.1, 0.8, 0.4, 0.5])  # larger label is positive
    check(dm.average_precision_score, skm.average_precision_score, strings, [0.1, 0.8, 0.4, 0.5])  # error
    check(dm.average_precision_score, skm.average_precision_score, strings, [0.1, 0.8, 0.4, 0.5], pos_label="no")
    check(dm.auc, skm.auc, [0, 0.5, 1], [0, 0.7, 1])
    check(dm.auc, skm.auc, [1, 0.5, 0], [1, 0.7, 0])
    check(dm.auc, skm.auc, [0, 1, 0.5], [0, 0.7, 1])  # not monotonic: error


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
@pytest.mark.parametrize("average", ["macro", "weighted", None, "micro"])
def test_multiclass_roc_auc(multi_class, average):
    for y, p in PROBAS:
        check(dm.roc_auc_score, skm.roc_auc_score, y, p, multi_class=multi_class, average=average)
        check(dm.roc_auc_score, skm.roc_auc_score, y, p, multi_class=multi_class, average=average,
              labels=list(range(p.shape[1])))
    y, p = PROBAS[0]
    check(dm.roc_auc_score, skm.roc_auc_score, y, p)  # multi_class='raise': error
    check(dm.roc_auc_score, skm.roc_auc_score, y, p * 1.1, multi_class=multi_class)  # not probabilities


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_multiclass_average_precision(average):
    for y, p in PROBAS:
        if len(np.unique(y)) == p.shape[1]:
            check(dm.average_precision_score, skm.average_precision_score, y, p, average=average)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_curve(strategy):
    rng = np.random.default_rng(4)
    for n_bins in (1, 3, 5, 10):
        p = rng.random(50)
        y = (rng.random(50) < p).astype(int)
        check(dm.calibration_curve, sk_calibration_curve, y, p, n_bins=n_bins, strategy=strategy)
        check(dm.calibration_curve, sk_calibration_curve, y, np.round(p, 1), n_bins=n_bins, strategy=strategy)
    check(dm.calibration_curve, sk_calibration_curve, [0, 1, 1], [0.2, 0.4, 1.5])  # outside [0, 1]: error
    check(dm.calibration_curve, sk_calibration_curve, [0, 1, 2], [0.2, 0.4, 0.5])  # not binary: error


def test_roc_auc_is_the_probability_a_positive_outranks_a_negative():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + y, 1)
    pos, neg = s[y == 1], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert dm.roc_auc_score(y, s) == pytest.approx(pairs, abs=1e-12)


@pytest.mark.parametrize("max_fpr", [0.01, 0.1, 0.25, 0.5, 0.8, 0.999, 1.0])
def test_partial_roc_auc_max_fpr(max_fpr):
    """McClish-standardized partial AUC: ties, weights, string labels, a single class (nan), multilabel."""
    rng = np.random.default_rng(8)
    for y, s in SCORES:
        check(dm.roc_auc_score, skm.roc_auc_score, y, s, max_fpr=max_fpr)
        check(dm.roc_auc_score, skm.roc_auc_score, y, s, max_fpr=max_fpr, sample_weight=rng.uniform(0.2, 2, len(y)))
    check(dm.roc_auc_score, skm.roc_auc_score, np.array(["no", "yes", "yes", "no", "no"]), [0.1, 0.8, 0.4, 0.5, 0.4],
          max_fpr=max_fpr)
    y = rng.integers(0, 2, 300)
    check(dm.roc_auc_score, skm.roc_auc_score, y, np.round(rng.normal(size=300) + y, 1), max_fpr=max_fpr)


def test_partial_roc_auc_bad_max_fpr():
    y, s = SCORES[0]
    for bad in (0, 0.0, -0.2, 1.5, np.inf, "half"):
        check(dm.roc_auc_score, skm.roc_auc_score, y, s, max_fpr=bad)
    for y, p in PROBAS[:2]:  # multiclass: partial AUC is not defined
        check(dm.roc_auc_score, skm.roc_auc_score, y, p, multi_class="ovr", max_fpr=0.5)
        check(dm.roc_auc_score, skm.roc_auc_score, y, p, multi_class="ovr", max_fpr=1.0)
    with pytest.raises(ValueError, match=r"roc_auc_score: max_fpr must be a number in \(0, 1\].*got 1.5"):
        dm.roc_auc_score(y, p, multi_class="ovr", max_fpr=1.5)


def test_partial_roc_auc_standardization_endpoints():
    """A perfect ranking scores 1 and a random one about 0.5 (McClish, 1989)."""
    y = np.r_[np.zeros(500, int), np.ones(500, int)]
    assert dm.roc_auc_score(y, y + 0.0, max_fpr=0.2) == pytest.approx(1.0, abs=1e-12)
    noise = np.random.default_rng(0).random(1000)
    assert abs(dm.roc_auc_score(y, noise, max_fpr=0.2) - 0.5) < 0.05
