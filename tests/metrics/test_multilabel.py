"""Multilabel targets ((N, K) 0/1 indicator matrices) against scikit-learn: every metric that takes them,
every average (samples included), label subsets, sample weights, degenerate label sets, and the same
error where scikit-learn refuses."""
import numpy as np
import pytest
import sklearn.metrics as skm

import deepnotes.metrics as dm
from tests.metrics.sk_oracle import check, multilabel_cases

pytestmark = pytest.mark.covers("M1")
CASES = multilabel_cases(0) + multilabel_cases(1, n_random=4)
AVERAGES = ["micro", "macro", "weighted", "samples", None]


def _weights(seed, n):
    return np.random.default_rng(seed).uniform(0.1, 3.0, size=n)


def test_subset_accuracy_and_hamming_loss():
    for i, (y_true, y_pred, _) in enumerate(CASES):
        w = _weights(i, len(y_true))
        for normalize in (True, False):
            check(dm.accuracy_score, skm.accuracy_score, y_true, y_pred, normalize=normalize)
            check(dm.accuracy_score, skm.accuracy_score, y_true, y_pred, normalize=normalize, sample_weight=w)
        check(dm.hamming_loss, skm.hamming_loss, y_true, y_pred)
        check(dm.hamming_loss, skm.hamming_loss, y_true, y_pred, sample_weight=w)
    for y_true, y_pred in ((np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1])), (np.array(["a", "b"]), np.array(["b", "b"]))):
        check(dm.hamming_loss, skm.hamming_loss, y_true, y_pred)  # single-label: 1 - accuracy


def test_multilabel_confusion_matrix():
    for i, (y_true, y_pred, _) in enumerate(CASES):
        w = _weights(i, len(y_true))
        for samplewise in (False, True):
            check(dm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, y_true, y_pred,
                  samplewise=samplewise)
            check(dm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, y_true, y_pred,
                  samplewise=samplewise, sample_weight=w)
        k = y_true.shape[1]
        for labels in ([k - 1, 0], [1], [0, k], [-1, 0]):  # reorder, subset, out of range (both: errors)
            check(dm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, y_true, y_pred, labels=labels)
    # single-label targets: one-vs-rest per class; samplewise is an error
    y_true, y_pred = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    for labels in (None, [2, 0], [0, 1, 2, 7]):
        check(dm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, y_true, y_pred, labels=labels)
    check(dm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, y_true, y_pred,
          sample_weight=_weights(0, 5))
    check(dm.multilabel_confusion_matrix, skm.multilabel_confusion_matrix, y_true, y_pred, samplewise=True)


@pytest.mark.parametrize("average", AVERAGES)
def test_precision_recall_f1(average):
    options = ["warn", 0, 1, np.nan]
    for i, (y_true, y_pred, _) in enumerate(CASES):
        zero_division = options[i % 4]
        w = _weights(i, len(y_true)) if i % 3 == 0 else None
        for dn_fn, sk_fn in ((dm.precision_score, skm.precision_score), (dm.recall_score, skm.recall_score),
                             (dm.f1_score, skm.f1_score)):
            check(dn_fn, sk_fn, y_true, y_pred, average=average, zero_division=zero_division, sample_weight=w)
        check(dm.precision_recall_fscore_support, skm.precision_recall_fscore_support, y_true, y_pred,
              average=average, zero_division=zero_division, sample_weight=w)
        check(dm.fbeta_score, skm.fbeta_score, y_true, y_pred, beta=[0.5, 2.0, 0.0, np.inf][i % 4],
              average=average, zero_division=zero_division)
        check(dm.f1_score, skm.f1_score, y_true, y_pred, average=average, labels=[1, 0])


@pytest.mark.parametrize("average", AVERAGES + ["binary"])
def test_jaccard(average):
    for i, (y_true, y_pred, _) in enumerate(CASES):
        zero_division = ["warn", 0, 1, np.nan][i % 4]  # nan: an error in both
        check(dm.jaccard_score, skm.jaccard_score, y_true, y_pred, average=average, zero_division=zero_division)
        check(dm.jaccard_score, skm.jaccard_score, y_true, y_pred, average=average, sample_weight=_weights(i, len(y_true)))
    # single-label targets too (binary, multiclass, strings), where scikit-learn allows them
    singles = [(np.array([0, 1, 1, 0, 1]), np.array([0, 1, 0, 0, 0])),
               (np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])),
               (np.array(["a", "b", "b"]), np.array(["b", "b", "b"])),
               (np.zeros(4, int), np.zeros(4, int))]
    for y_true, y_pred in singles:
        pos = {"pos_label": "b"} if y_true.dtype.kind == "U" else {}
        check(dm.jaccard_score, skm.jaccard_score, y_true, y_pred, average=average, **pos)


def test_classification_report():
    for i, (y_true, y_pred, _) in enumerate(CASES):
        for output_dict in (False, True):
            check(dm.classification_report, skm.classification_report, y_true, y_pred, digits=2 + i % 3,
                  output_dict=output_dict, zero_division=0)
        if i % 4 == 0:
            check(dm.classification_report, skm.classification_report, y_true, y_pred, zero_division=0,
                  sample_weight=_weights(i, len(y_true)), output_dict=True)
            check(dm.classification_report, skm.classification_report, y_true, y_pred, labels=[1, 0],
                  target_names=["second", "first"], zero_division=1)


@pytest.mark.parametrize("average", AVERAGES)
def test_roc_auc_and_average_precision(average):
    for i, (y_true, _, score) in enumerate(CASES):
        w = _weights(i, len(y_true)) if i % 2 else None
        check(dm.roc_auc_score, skm.roc_auc_score, y_true, score, average=average, sample_weight=w)
        check(dm.average_precision_score, skm.average_precision_score, y_true, score, average=average,
              sample_weight=w)
        if i % 3 == 0:
            check(dm.roc_auc_score, skm.roc_auc_score, y_true, score, average=average, max_fpr=0.3)


@pytest.mark.parametrize("name", ["coverage_error", "label_ranking_average_precision_score", "label_ranking_loss"])
def test_label_ranking_metrics(name):
    dn_fn, sk_fn = getattr(dm, name), getattr(skm, name)
    for i, (y_true, _, score) in enumerate(CASES):
        check(dn_fn, sk_fn, y_true, score)
        check(dn_fn, sk_fn, y_true, score, sample_weight=_weights(i, len(y_true)))
        check(dn_fn, sk_fn, y_true, -score)  # a reversed ranking
    y, _, s = CASES[0]
    check(dn_fn, sk_fn, y[:, :1], s[:, :1])          # one label: LRAP 1, the others refuse
    check(dn_fn, sk_fn, y[:, 0], s[:, 0])            # not multilabel
    check(dn_fn, sk_fn, y, s[:, :-1])                # shapes differ
    check(dn_fn, sk_fn, 2 * y + np.arange(y.size).reshape(y.shape) % 2, s)  # values 0-3: multi-output
    with pytest.raises(ValueError, match=f"{name}: y_true .* and y_score .* have different shapes"):
        dn_fn(y, s[:, :-1])


def test_log_loss():
    """scikit-learn reads a multilabel y_true as the target distribution: -sum_k y_ik log p_ik per sample."""
    rng = np.random.default_rng(11)
    for i, (y_true, _, _) in enumerate(CASES):
        proba = rng.dirichlet(np.ones(y_true.shape[1]), size=len(y_true))
        check(dm.log_loss, skm.log_loss, y_true, proba)
        check(dm.log_loss, skm.log_loss, y_true, proba, normalize=False, sample_weight=_weights(i, len(y_true)))
    y, _, _ = CASES[0]
    check(dm.log_loss, skm.log_loss, y, rng.dirichlet(np.ones(y.shape[1] + 1), size=len(y)))  # columns: error
    check(dm.log_loss, skm.log_loss, y, rng.dirichlet(np.ones(y.shape[1]), size=len(y)), labels=[0, 1])  # error


def test_multilabel_errors_are_named_and_match_sklearn():
    y, yp, s = CASES[0]
    check(dm.f1_score, skm.f1_score, y, yp)                               # average='binary' on multilabel
    check(dm.f1_score, skm.f1_score, y, yp[:, 0], average="macro")        # a mix of multilabel and multiclass
    check(dm.accuracy_score, skm.accuracy_score, y, yp[:, :1])            # a mix again ((N, 1) is a column)
    check(dm.accuracy_score, skm.accuracy_score, y, 2 * yp - y)           # values in {-1, 0, 1, 2}: multi-output
    check(dm.f1_score, skm.f1_score, y + 0.5, yp, average="macro")        # continuous multi-output
    check(dm.confusion_matrix, skm.confusion_matrix, y, yp)               # not for multilabel
    check(dm.matthews_corrcoef, skm.matthews_corrcoef, y, yp)
    check(dm.balanced_accuracy_score, skm.balanced_accuracy_score, y, yp)
    check(dm.roc_auc_score, skm.roc_auc_score, y, s, average="weird")
    check(dm.average_precision_score, skm.average_precision_score, y, s, pos_label=0)
    check(dm.precision_recall_fscore_support, skm.precision_recall_fscore_support, np.array([0, 1, 2]),
          np.array([0, 2, 2]), average="samples")                          # samples: multilabel only
    with pytest.raises(ValueError, match=r"roc_auc_score: multilabel y_true is \(\d+, \d+\) but y_score"):
        dm.roc_auc_score(y, s[:, :1])
    with pytest.raises(ValueError, match="accuracy_score: multilabel y_true and y_pred have different shapes"):
        dm.accuracy_score(y, np.c_[yp, yp])
    with pytest.raises(ValueError, match=r"f1_score: multilabel labels are column indices in \[0, "):
        dm.f1_score(y, yp, labels=[0, 99], average="macro")


def test_subset_accuracy_is_stricter_than_hamming():
    """One wrong entry makes the whole sample wrong for subset accuracy, 1/K wrong for Hamming."""
    y_true = np.array([[1, 0, 1, 0], [0, 1, 0, 0]])
    y_pred = np.array([[1, 0, 1, 1], [0, 1, 0, 0]])
    assert dm.accuracy_score(y_true, y_pred) == 0.5
    assert dm.hamming_loss(y_true, y_pred) == pytest.approx(1 / 8)
