"""Set-wise scores: precision, recall, F-beta, Jaccard, from per-label counts (M1).

Everything here is computed from one-vs-rest counts per label k: TP_k, the
number of samples predicted k (TP_k + FP_k) and the number truly k (TP_k + FN_k),
which `multilabel_confusion_matrix` returns as K stacked 2 x 2 matrices
`[[TN, FP], [FN, TP]]`.  Then

    precision_k = TP_k / (TP_k + FP_k)        recall_k = TP_k / (TP_k + FN_k)
    F_beta,k = (1 + b^2) TP_k / ((1 + b^2) TP_k + b^2 FN_k + FP_k)   (van Rijsbergen, 1979)
    Jaccard_k = TP_k / (TP_k + FP_k + FN_k)                          (Jaccard, 1912)

Averages (scikit-learn's names and rules):

- `binary`: the scores of the class `pos_label` only;
- `micro`: pool TP, FP, FN over the labels first (for single-label data micro
  precision = micro recall = micro F1 = accuracy);
- `macro`: unweighted mean of the per-label scores (every class counts the
  same; the average that shows a neglected minority class);
- `weighted`: mean weighted by each label's support (number of true samples);
- `samples` (multilabel only): the score of each sample's predicted label set
  against its true set, averaged over samples;
- `None`: the per-label array.

Multilabel targets are (N, K) 0/1 indicator matrices: a sample may carry
several labels or none, and each column is its own binary problem.

A division 0/0 (no predicted or no true samples of a label) gives
`zero_division` ("warn" behaves as 0, as in scikit-learn, with a warning).
"""
from __future__ import annotations

import warnings

import numpy as np

from ._labels import check_targets, check_weights, require_samples

AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)


class UndefinedMetricWarning(UserWarning):
    """A score was 0/0 and was replaced by `zero_division`."""


def _label_counts(fn, y_true, y_pred, kind, present, labels, w, samplewise=False):
    """(tp, predicted, true) sums per label in `labels` (or per sample when `samplewise`); int without weights."""
    if kind != "multilabel-indicator":
        if samplewise:
            raise ValueError(f"{fn}: sample-wise scores (average='samples') are only defined for multilabel targets")
        labels = present if labels is None else np.asarray(labels)
        # one-vs-rest per label; samples of other labels only count as negatives
        t = np.asarray(y_true)[:, None] == labels[None, :]
        p = np.asarray(y_pred)[:, None] == labels[None, :]
        axis, weights = 0, (None if w is None else w[:, None])
    else:
        if labels is not None:
            labels = np.asarray(labels)
            k = y_true.shape[1]
            if labels.size and (labels.max() > k - 1 or labels.min() < 0):
                raise ValueError(f"{fn}: multilabel labels are column indices in [0, {k}), got "
                                 f"{labels.tolist()}")
            y_true, y_pred = y_true[:, labels], y_pred[:, labels]
        t, p = y_true.astype(bool), y_pred.astype(bool)
        axis = 1 if samplewise else 0
        weights = None if w is None else w[:, None]  # per sample: the sample's count times its weight
    sums = []
    for m in (t & p, p, t):
        sums.append(m.sum(axis=axis) if weights is None else (m * weights).sum(axis=axis))
    return tuple(sums)


def multilabel_confusion_matrix(y_true, y_pred, *, sample_weight=None, labels=None, samplewise=False):
    """(L, 2, 2) one-vs-rest confusion matrices `[[TN, FP], [FN, TP]]`, one per label (or per sample).

    Args:
        y_true, y_pred: (N,) labels, or (N, K) multilabel indicator matrices.
        labels: the labels to report, in this order (default: all present; the
            column indices 0..K-1 for multilabel).
        samplewise: multilabel only -- one matrix per sample, over its K labels.

    Example:
        >>> multilabel_confusion_matrix([0, 1, 1], [0, 1, 0]).tolist()
        [[[1, 1], [0, 1]], [[1, 0], [1, 1]]]
    """
    fn = "multilabel_confusion_matrix"
    y_true, y_pred, kind, present = check_targets(fn, y_true, y_pred)
    w = check_weights(fn, sample_weight, len(y_true))
    tp, predicted, true = _label_counts(fn, y_true, y_pred, kind, present, labels, w, samplewise)
    fp, fn_ = predicted - tp, true - tp
    if samplewise:
        n_labels = y_true.shape[1]
        total = n_labels if w is None else w * n_labels
    else:
        total = len(y_true) if w is None else w.sum()
    tn = total - tp - fp - fn_
    return np.stack([tn, fp, fn_, tp], axis=-1).reshape(-1, 2, 2)


def _zero_division_value(fn, zero_division):
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, (int, float)) and not isinstance(zero_division, bool) and (
            zero_division in (0, 1) or np.isnan(zero_division)):
        return float(zero_division)
    raise ValueError(f"{fn}: zero_division must be 'warn', 0, 1 or nan, got {zero_division!r}")


def _divide(fn, num, den, zero_division, what, warn_for=("precision", "recall", "F-score")):
    den = np.asarray(den, dtype=np.float64)
    mask = den == 0
    out = np.asarray(num, dtype=np.float64) / np.where(mask, 1.0, den)
    if mask.any():
        out[mask] = _zero_division_value(fn, zero_division)
        if isinstance(zero_division, str) and what in warn_for:
            warnings.warn(f"{fn}: {what} is ill-defined (0/0) for some labels and is set to 0; "
                          "use zero_division to choose", UndefinedMetricWarning, stacklevel=3)
    return out


def _nan_average(values, weights=None):
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    values = values[keep]
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)[keep]
        if weights.sum() == 0:
            weights = None
    return float(np.average(values, weights=weights))


def _set_wise_counts(fn, y_true, y_pred, average, labels, pos_label, sample_weight):
    """Checks shared by the set-wise scores, then the counts: (tp, predicted, true, w)."""
    if average not in AVERAGES:
        raise ValueError(f"{fn}: average must be one of {AVERAGES}, got {average!r}")
    y_true, y_pred, kind, present = check_targets(fn, y_true, y_pred)
    w = check_weights(fn, sample_weight, len(y_true))
    if average == "binary":
        if kind != "binary":
            raise ValueError(f"{fn}: target is {kind} but average='binary'; choose one of "
                             "None, 'micro', 'macro', 'weighted'" + (", 'samples'" if kind[0] == "m" else ""))
        if pos_label not in present.tolist() and len(present) >= 2:
            raise ValueError(f"{fn}: pos_label={pos_label!r} is not a valid label; it should be one of "
                             f"{present.tolist()}")
        labels = [pos_label]
    if labels is not None and np.asarray(labels).size == 0:
        raise ValueError(f"{fn}: labels must contain at least one label")
    return (*_label_counts(fn, y_true, y_pred, kind, present, labels, w, average == "samples"), w)


def precision_recall_fscore_support(y_true, y_pred, *, beta=1.0, labels=None, pos_label=1, average=None,
                                    warn_for=("precision", "recall", "F-score"), sample_weight=None,
                                    zero_division="warn"):
    """Precision, recall, F-beta and support per label, or averaged (see the module docstring).

    Args:
        y_true, y_pred: (N,) labels, or (N, K) multilabel indicator matrices.
        beta: the weight of recall against precision in F-beta (beta > 1 favours recall).
        labels: the labels to report / average over (default: all present).
        pos_label: the positive class when `average="binary"`.
        average: "binary", "micro", "macro", "weighted", "samples" (multilabel) or None.
        zero_division: the value of a 0/0 score: "warn" (0 with a warning), 0, 1 or nan.

    Returns:
        (precision, recall, fbeta, support): floats with an average (support is
        then None), else (L,) arrays.
    """
    return _prfs("precision_recall_fscore_support", y_true, y_pred, beta, labels, pos_label, average, warn_for,
                 sample_weight, zero_division)


def _prfs(fn, y_true, y_pred, beta, labels, pos_label, average, warn_for, sample_weight, zero_division):
    """precision_recall_fscore_support, its errors naming `fn` (the public function the user called)."""
    if not beta >= 0:
        raise ValueError(f"{fn}: beta must be >= 0, got {beta}")
    _zero_division_value(fn, zero_division)
    tp_sum, pred_sum, true_sum, w = _set_wise_counts(fn, y_true, y_pred, average, labels, pos_label, sample_weight)
    if average == "micro":
        tp_sum, pred_sum, true_sum = (np.array([a.sum()]) for a in (tp_sum, pred_sum, true_sum))
    precision = _divide(fn, tp_sum, pred_sum, zero_division, "precision", warn_for)
    recall = _divide(fn, tp_sum, true_sum, zero_division, "recall", warn_for)
    if np.isposinf(beta):
        fscore = recall
    elif beta == 0:
        fscore = precision
    else:
        b2 = beta**2
        fscore = _divide(fn, (1 + b2) * tp_sum, b2 * true_sum + pred_sum, zero_division, "F-score", warn_for)
    if average is None:
        return precision, recall, fscore, true_sum
    weights = true_sum if average == "weighted" else w if average == "samples" else None
    return _nan_average(precision, weights), _nan_average(recall, weights), _nan_average(fscore, weights), None


def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary", sample_weight=None,
                zero_division="warn"):
    """F-beta: the weighted harmonic mean of precision and recall, recall weighted beta times as much."""
    require_samples("fbeta_score", y_true)
    return _prfs("fbeta_score", y_true, y_pred, beta, labels, pos_label, average, ("F-score",), sample_weight,
                 zero_division)[2]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
             zero_division="warn"):
    """F1 = 2 P R / (P + R) = 2 TP / (2 TP + FP + FN).

    Example:
        >>> f1_score([0, 1, 1, 1], [0, 1, 0, 1])
        0.8
    """
    require_samples("f1_score", y_true)
    return _prfs("f1_score", y_true, y_pred, 1.0, labels, pos_label, average, ("F-score",), sample_weight,
                 zero_division)[2]


def _one_score(fn, index, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division):
    """Precision (index 0) or recall (1) of `precision_recall_fscore_support`, warning only about that one."""
    require_samples(fn, y_true)
    return _prfs(fn, y_true, y_pred, 1.0, labels, pos_label, average, (("precision", "recall")[index],),
                 sample_weight, zero_division)[index]


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                    zero_division="warn"):
    """TP / (TP + FP): of the samples predicted positive, the fraction that are."""
    return _one_score("precision_score", 0, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division)


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                 zero_division="warn"):
    """TP / (TP + FN): of the positive samples, the fraction found (sensitivity, true positive rate)."""
    return _one_score("recall_score", 1, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division)


def jaccard_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                  zero_division="warn"):
    """Jaccard index TP / (TP + FP + FN): intersection over union of the true and predicted sets.

    Same arguments and averages as `f1_score`; J = F1 / (2 - F1) per label, so
    the two rank labels alike, but their averages differ.

    Example:
        >>> jaccard_score([[0, 1, 1], [1, 1, 0]], [[1, 1, 1], [1, 0, 0]], average="samples")
        0.5833333333333333
    """
    fn = "jaccard_score"
    require_samples(fn, y_true)
    if not (isinstance(zero_division, str) and zero_division == "warn") and zero_division not in (0, 1):
        raise ValueError(f"{fn}: zero_division must be 'warn', 0 or 1, got {zero_division!r}")
    tp, predicted, true, w = _set_wise_counts(fn, y_true, y_pred, average, labels, pos_label, sample_weight)
    union = predicted + true - tp
    if average == "micro":
        tp, union = np.array([tp.sum()]), np.array([union.sum()])
    jaccard = _divide(fn, tp, union, zero_division, "jaccard", ("jaccard",))
    if average is None:
        return jaccard
    weights = None
    if average == "weighted":
        weights = true if np.any(true) else None
    elif average == "samples":
        weights = w
    return float(np.average(jaccard, weights=weights))
