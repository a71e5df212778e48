"""Label metrics against scikit-learn: random labels, strings, degenerate cases, every average."""
import numpy as np
import pytest
import sklearn.metrics as skm

import deepnotes.metrics as dm
from tests.metrics.sk_oracle import check, label_cases

pytestmark = pytest.mark.covers("M1")
CASES = label_cases(0, n_random=10) + label_cases(1, n_random=3)[:3]


@pytest.mark.parametrize("normalize", [True, False])
def test_accuracy(normalize):
    for y_true, y_pred in CASES:
        check(dm.accuracy_score, skm.accuracy_score, y_true, y_pred, normalize=normalize)


@pytest.mark.parametrize("adjusted", [False, True])
def test_balanced_accuracy(adjusted):
    for y_true, y_pred in CASES:
        check(dm.balanced_accuracy_score, skm.balanced_accuracy_score, y_true, y_pred, adjusted=adjusted)


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix(normalize):
    for y_true, y_pred in CASES:
        check(dm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, normalize=normalize)
    # explicit labels: a subset, a reordering, labels absent from the data, none present, empty
    y_true, y_pred = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    for labels in ([2, 0], [2, 1, 0], [0, 1, 2, 7], [7, 8], []):
        check(dm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, labels=labels, normalize=normalize)
    weights = np.array([0.5, 2.0, 1.0, 1.5, 3.0])
    check(dm.confusion_matrix, skm.confusion_matrix, y_true, y_pred, sample_weight=weights, normalize=normalize)


@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted", None])
def test_precision_recall_f1(average):
    options = ["warn", 0, 1, np.nan]
    for i, (y_true, y_pred) in enumerate(CASES):
        pos = {"pos_label": y_true[0]} if y_true.dtype.kind == "U" else {}
        degenerate = len(np.union1d(y_true, y_pred)) < 2 or not np.isin(y_pred, y_true).any()
        for zero_division in options if degenerate else options[i % 4:i % 4 + 1]:
            for dn_fn, sk_fn in ((dm.precision_score, skm.precision_score), (dm.recall_score, skm.recall_score),
                                 (dm.f1_score, skm.f1_score)):
                check(dn_fn, sk_fn, y_true, y_pred, average=average, zero_division=zero_division, **pos)
            check(dm.precision_recall_fscore_support, skm.precision_recall_fscore_support, y_true, y_pred,
                  average=average, zero_division=zero_division, **pos)


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0, np.inf])
def test_fbeta_and_labels_subsets(beta):
    for y_true, y_pred in CASES[:10]:
        check(dm.fbeta_score, skm.fbeta_score, y_true, y_pred, beta=beta, average="macro")
        if y_true.dtype.kind != "U":
            check(dm.fbeta_score, skm.fbeta_score, y_true, y_pred, beta=beta, average="micro", labels=[1, 2])
            check(dm.fbeta_score, skm.fbeta_score, y_true, y_pred, beta=beta, average=None, labels=[2, 0, 9])
    check(dm.fbeta_score, skm.fbeta_score, [0, 1], [0, 1], beta=-1.0)  # an error in both


def test_bad_arguments_raise_the_same_error():
    check(dm.f1_score, skm.f1_score, [0, 1, 2], [0, 1, 2])  # multiclass with average='binary'
    check(dm.f1_score, skm.f1_score, [0, 1], [0, 1], pos_label=2)
    check(dm.f1_score, skm.f1_score, [0, 1, 1], [0, 1], average="macro")  # lengths
    check(dm.f1_score, skm.f1_score, [0.5, 1.0], [0, 1], average="macro")  # continuous
    with pytest.raises(ValueError, match="f1_score|precision_recall_fscore_support.*average"):
        dm.f1_score([0, 1], [0, 1], average="foo")


def test_sample_weight():
    rng = np.random.default_rng(3)
    for y_true, y_pred in CASES[:8]:
        w = rng.uniform(0.1, 3.0, size=len(y_true))
        check(dm.accuracy_score, skm.accuracy_score, y_true, y_pred, sample_weight=w)
        check(dm.f1_score, skm.f1_score, y_true, y_pred, average="weighted", sample_weight=w)
        check(dm.matthews_corrcoef, skm.matthews_corrcoef, y_true, y_pred, sample_weight=w)


def test_matthews_corrcoef():
    for y_true, y_pred in CASES:
        check(dm.matthews_corrcoef, skm.matthews_corrcoef, y_true, y_pred)


def test_classification_report_text_and_dict():
    for i, (y_true, y_pred) in enumerate(CASES):
        digits = 2 + 2 * (i % 2)
        for output_dict in (False, True):
            check(dm.classification_report, skm.classification_report, y_true, y_pred, digits=digits,
                  output_dict=output_dict, zero_division=0)
    y_true, y_pred = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    check(dm.classification_report, skm.classification_report, y_true, y_pred, labels=[0, 1],
          target_names=["zero", "one"])
    with pytest.raises(ValueError, match="2 labels but 1 target_names"):  # sklearn warns and drops a row
        dm.classification_report(y_true, y_pred, labels=[0, 1], target_names=["zero"])


def test_log_loss():
    rng = np.random.default_rng(5)
    for i in range(10):
        n, k = int(rng.integers(2, 30)), int(rng.integers(2, 5))
        y = rng.integers(0, k, size=n)
        p = rng.dirichlet(np.ones(k), size=n)
        if i % 3 == 0:
            p[0] = np.eye(k)[(y[0] + 1) % k]  # a confident mistake: clipped, finite
        labels = list(range(k))
        check(dm.log_loss, skm.log_loss, y, p, labels=labels)
        check(dm.log_loss, skm.log_loss, y, p, labels=labels, normalize=False)
        check(dm.log_loss, skm.log_loss, y, p)  # errors in both when a class is missing from y
    check(dm.log_loss, skm.log_loss, [0, 1, 1], [0.2, 0.9, 0.6])      # (N,) probabilities
    check(dm.log_loss, skm.log_loss, ["no", "yes"], [[0.8, 0.2], [0.3, 0.7]])
    check(dm.log_loss, skm.log_loss, [1, 1], [0.5, 0.6])              # one label only: error
    check(dm.log_loss, skm.log_loss, [0, 1], [0.5, 1.6])              # not a probability: error
    check(dm.log_loss, skm.log_loss, [0, 1, 2], [[0.2, 0.8], [0.1, 0.9], [0.3, 0.7]])  # columns: error


def test_constant_majority_predictor_accuracy_misleads():
    """95% negatives: 'always negative' has accuracy 0.95 but minority recall 0 and MCC 0."""
    y = np.r_[np.zeros(95, int), np.ones(5, int)]
    pred = np.zeros(100, int)
    assert dm.accuracy_score(y, pred) == pytest.approx(0.95)
    assert dm.recall_score(y, pred) == 0.0
    assert dm.balanced_accuracy_score(y, pred) == pytest.approx(0.5)
    assert dm.matthews_corrcoef(y, pred) == 0.0


def test_warning_on_zero_division():
    with pytest.warns(dm.UndefinedMetricWarning):
        dm.precision_score([0, 1], [0, 0])
