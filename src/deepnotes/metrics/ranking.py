"""Score metrics: ROC and precision-recall curves, their areas, and the calibration curve (M1).

A classifier that outputs a score s (a probability or a logit) becomes a
decision rule for each threshold t: predict positive when s >= t.  Sweeping t
from +inf down to the smallest score traces

- the **ROC curve**: true positive rate TPR = TP / P against false positive
  rate FPR = FP / N (Fawcett, 2006).  Its area (ROC AUC) is the probability that
  a random positive scores above a random negative (ties count one half); it
  does not depend on the class ratio, because TPR and FPR are each normalized
  within one class;
- the **precision-recall curve**: precision TP / (TP + FP) against recall.
  Precision mixes the two classes, so it falls as negatives grow more numerous:
  under heavy imbalance the PR curve shows what ROC hides (Davis & Goadrich,
  2006; Saito & Rehmsmeier, 2015).  Average precision (AP) is the step-wise
  area `sum_n (R_n - R_{n-1}) P_n`, without the optimistic trapezoid.

Equal scores are one threshold: the curve moves diagonally through a tie, so
no ordering of tied samples is invented.  Multi-class ROC AUC is the mean of
one-vs-rest AUCs, or Hand & Till's (2001) mean over pairs of classes
("ovo"), which is insensitive to class imbalance.  Multilabel targets ((N, K)
0/1 indicator matrices) score each column as its own binary problem, then
average over labels (micro / macro / weighted) or over samples ("samples").

Partial AUC (`max_fpr`): when only low false-positive rates matter (screening,
fraud), the area up to FPR = m is what counts.  It lies between m^2 / 2 (the
chance diagonal) and m (a perfect ranking); McClish's (1989) standardization
maps that range onto [0.5, 1]:  0.5 (1 + (A_m - m^2/2) / (m - m^2/2)).
"""
from __future__ import annotations

import numbers
import warnings
from itertools import combinations

import numpy as np

from ._labels import as_indicator, as_labels, as_scores, binary_positive, check_weights, is_indicator
from .fscore import UndefinedMetricWarning


def _binary_clf_curve(fn, y_true, y_score, pos_label=None, sample_weight=None):
    """Cumulative (weighted) false and true positives at each distinct threshold, highest first.

    Returns:
        fps, tps: (T,) counts of negatives and positives with score >= thresholds[i].
        thresholds: (T,) the distinct scores in decreasing order.
    """
    y_true = as_labels(fn, y_true)
    y_score = as_scores(fn, y_score)
    if len(y_true) != len(y_score):
        raise ValueError(f"{fn}: y_true and y_score have different lengths: {len(y_true)} and {len(y_score)}")
    positive = binary_positive(fn, y_true, pos_label).astype(np.float64)
    w = check_weights(fn, sample_weight, len(y_true))
    order = np.argsort(y_score, kind="mergesort")[::-1]
    score, positive = y_score[order], positive[order]
    weight = np.ones_like(score) if w is None else w[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(positive * weight)[last_of_tie]
    fps = (1 + last_of_tie - tps) if w is None else np.cumsum((1 - positive) * weight)[last_of_tie]
    return fps, tps, score[last_of_tie]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    """The ROC curve: (fpr, tpr, thresholds), each (T,), starting at (0, 0) with threshold +inf.

    Args:
        y_true: (N,) binary labels; `pos_label` names the positive one (needed
            unless the labels are {0, 1} or {-1, 1}).
        y_score: (N,) scores, higher means more positive.
        drop_intermediate: drop the thresholds whose point lies on a straight
            segment between its neighbours (the curve and its area do not change).

    Example:
        >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> fpr.tolist(), tpr.tolist()
        ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    fn = "roc_curve"
    fps, tps, thresholds = _binary_clf_curve(fn, y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps, thresholds = np.r_[0, fps], np.r_[0, tps], np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        warnings.warn(f"{fn}: no negative samples in y_true; the false positive rate is undefined",
                      UndefinedMetricWarning, stacklevel=2)
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn(f"{fn}: no positive samples in y_true; the true positive rate is undefined",
                      UndefinedMetricWarning, stacklevel=2)
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def auc(x, y):
    """The area under a curve by the trapezoid rule; `x` must be monotonic (either direction)."""
    x, y = as_scores("auc", x, "x"), as_scores("auc", y, "y")
    if len(x) < 2 or len(x) != len(y):
        raise ValueError(f"auc: need two equally long arrays of at least 2 points, got {len(x)} and {len(y)}")
    dx = np.diff(x)
    direction = 1.0
    if (dx < 0).any():
        if not (dx <= 0).all():
            raise ValueError("auc: x is neither increasing nor decreasing")
        direction = -1.0
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2))


def _binary_roc_auc(y_true, y_score, sample_weight=None, max_fpr=None):
    if len(np.unique(y_true)) != 2:
        warnings.warn("roc_auc_score: only one class is present in y_true; ROC AUC is not defined (nan)",
                      UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=True, sample_weight=sample_weight)
    if max_fpr is None or max_fpr == 1:
        return auc(fpr, tpr)
    # the curve up to fpr = max_fpr, closed by a point interpolated on the segment that crosses it
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    tpr_at_max = np.interp(max_fpr, fpr[stop - 1:stop + 1], tpr[stop - 1:stop + 1])
    area = auc(np.r_[fpr[:stop], max_fpr], np.r_[tpr[:stop], tpr_at_max])
    chance, perfect = max_fpr**2 / 2, max_fpr  # McClish (1989): chance -> 0.5, perfect -> 1
    return 0.5 * (1 + (area - chance) / (perfect - chance))


def _average_columns(fn, metric, onehot, scores, average, sample_weight):
    """A binary metric per column (one-vs-rest), then averaged: micro / macro / weighted / None;
    or per row ("samples": each sample's labels ranked by its scores), averaged with the sample weights."""
    if average == "samples":
        per_sample = np.array([metric(onehot[i], scores[i], None) for i in range(onehot.shape[0])])
        if sample_weight is not None:
            per_sample = np.where(sample_weight == 0, 0.0, per_sample)
        return float(np.average(per_sample, weights=sample_weight))
    if average == "micro":
        w = None if sample_weight is None else np.repeat(sample_weight, onehot.shape[1])
        return metric(onehot.ravel(), scores.ravel(), w)
    per_class = np.array([metric(onehot[:, k], scores[:, k], sample_weight) for k in range(onehot.shape[1])])
    if average is None:
        return per_class
    weights = None
    if average == "weighted":
        weights = onehot.sum(axis=0) if sample_weight is None else sample_weight @ onehot
        if weights.sum() == 0:
            return 0.0
        per_class = np.where(weights == 0, 0.0, per_class)  # an absent class' nan does not spoil the mean
    return float(np.average(per_class, weights=weights))


def _multilabel_scores(fn, y_true, y_score, sample_weight, average):
    """(N, K) indicator and scores of one shape, the weights; or a ValueError naming what is wrong."""
    if average not in ("micro", "macro", "weighted", "samples", None):
        raise ValueError(f"{fn}: average must be 'micro', 'macro', 'weighted', 'samples' or None, got {average!r}")
    onehot = as_indicator(fn, y_true, "y_true").astype(np.float64)
    y_score = as_scores(fn, y_score, ndim=(2,))
    if y_score.shape != onehot.shape:
        raise ValueError(f"{fn}: multilabel y_true is {onehot.shape} but y_score is {y_score.shape}; "
                         "expected one score per (sample, label)")
    return onehot, y_score, check_weights(fn, sample_weight, len(onehot))


def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None, multi_class="raise",
                  labels=None):
    """Area under the ROC curve.

    Args:
        y_true: (N,) labels, or an (N, K) multilabel indicator matrix.
        y_score: (N,) scores of the larger label (binary), (N, K) class
            probabilities (rows sum to 1) in the sorted order of `labels`
            (multiclass), or (N, K) per-label scores (multilabel).
        max_fpr: binary and multilabel: the McClish-standardized partial AUC
            over FPR in [0, max_fpr] (see the module docstring); None or 1: the whole area.
        multi_class: for K > 2 classes, "ovr" (each class against the rest) or
            "ovo" (Hand & Till's mean over pairs of classes); the default "raise" refuses.
        average: "macro", "weighted" (by class support; by pair prevalence for
            ovo), None (per class), "micro" (ovr, multilabel) or "samples" (multilabel).

    A single class in `y_true` gives nan with a warning (there is no pair to rank).

    Example:
        >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], max_fpr=0.5)
        0.6666666666666666
    """
    fn = "roc_auc_score"
    if max_fpr is not None and (isinstance(max_fpr, bool) or not isinstance(max_fpr, numbers.Real)
                                or not 0 < max_fpr <= 1):
        raise ValueError(f"{fn}: max_fpr must be a number in (0, 1] or None, got {max_fpr!r}")
    metric = _binary_roc_auc if max_fpr is None else (lambda t, s, w: _binary_roc_auc(t, s, w, max_fpr))
    if is_indicator(y_true):
        onehot, y_score, w = _multilabel_scores(fn, y_true, y_score, sample_weight, average)
        return _average_columns(fn, metric, onehot, y_score, average, w)
    y_true = as_labels(fn, y_true)
    y_score = as_scores(fn, y_score, ndim=(1, 2))
    w = check_weights(fn, sample_weight, len(y_true))
    classes = np.unique(y_true)
    if len(classes) <= 2 and not (y_score.ndim == 2 and y_score.shape[1] > 2):
        if y_score.ndim == 2:
            raise ValueError(f"{fn}: for a binary target y_score must be (N,), the score of the larger label")
        if average not in ("micro", "macro", "weighted", "samples", None):
            raise ValueError(f"{fn}: average must be 'micro', 'macro', 'weighted', 'samples' or None, "
                             f"got {average!r}")
        return metric(y_true == classes[-1], y_score, w)
    if max_fpr is not None and max_fpr != 1:
        raise ValueError(f"{fn}: partial AUC (max_fpr={max_fpr}) is not defined for a multiclass target; "
                         "use max_fpr=None")
    if y_score.ndim == 1:
        raise ValueError(f"{fn}: y_true has {len(classes)} classes; pass (N, K) probabilities and multi_class")
    options = ("macro", "weighted", None) + (("micro",) if multi_class == "ovr" else ())
    if average not in options:
        raise ValueError(f"{fn}: average must be one of {options} for multiclass problems, got {average!r}")
    if multi_class not in ("ovo", "ovr"):
        raise ValueError(f"{fn}: multi_class must be 'ovo' or 'ovr' for multiclass targets, got {multi_class!r}")
    if multi_class == "ovo" and average is None:
        raise NotImplementedError(f"{fn}: average=None (per class) is not defined for multi_class='ovo'")
    if not np.allclose(1.0, y_score.sum(axis=1)):
        raise ValueError(f"{fn}: y_score rows must be probabilities summing to 1 for multiclass ROC AUC")
    if labels is not None:
        labels = np.asarray(labels)
        if len(np.unique(labels)) != len(labels) or not np.array_equal(np.unique(labels), labels):
            raise ValueError(f"{fn}: labels must be unique and sorted, got {labels.tolist()}")
        if np.setdiff1d(y_true, labels).size:
            raise ValueError(f"{fn}: y_true contains labels not in labels={labels.tolist()}")
        classes = labels
    if len(classes) != y_score.shape[1]:
        raise ValueError(f"{fn}: {len(classes)} classes but y_score has {y_score.shape[1]} columns")
    if multi_class == "ovr":
        onehot = (y_true[:, None] == classes[None, :]).astype(np.float64)
        return _average_columns(fn, _binary_roc_auc, onehot, y_score, average, w)
    if w is not None:
        raise ValueError(f"{fn}: sample_weight is not supported for multi_class='ovo'")
    code = np.searchsorted(classes, y_true)
    pairs = list(combinations(np.unique(code), 2))
    scores, prevalence = np.empty(len(pairs)), np.empty(len(pairs))
    for i, (a, b) in enumerate(pairs):
        mask = (code == a) | (code == b)
        scores[i] = (_binary_roc_auc(code[mask] == a, y_score[mask, a])
                     + _binary_roc_auc(code[mask] == b, y_score[mask, b])) / 2
        prevalence[i] = mask.mean()
    return float(np.average(scores, weights=prevalence if average == "weighted" else None))


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=False):
    """The PR curve: (precision, recall, thresholds) with thresholds increasing.

    `precision` and `recall` have one more entry than `thresholds`: the last
    point is (precision 1, recall 0), the curve's start at an infinite threshold.
    Without positive samples, recall is set to 1 (with a warning).
    """
    fn = "precision_recall_curve"
    fps, tps, thresholds = _binary_clf_curve(fn, y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        # drop thresholds where tps stays the same (only false positives were added)
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps, dtype=np.float64), where=predicted != 0)
    if tps[-1] == 0:
        warnings.warn(f"{fn}: no positive class found in y_true; recall is set to one for all thresholds",
                      UserWarning, stacklevel=2)
        recall = np.ones_like(tps, dtype=np.float64)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _binary_average_precision(y_true, y_score, sample_weight=None):
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=True, sample_weight=sample_weight)
    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1, sample_weight=None):
    """Average precision: sum_n (R_n - R_{n-1}) P_n over the thresholds (the area under the PR steps).

    Args:
        y_true: (N,) labels, or an (N, K) multilabel indicator matrix.
        y_score: (N,) scores of `pos_label` (binary), or (N, K) per-class
            scores in sorted label order (multiclass: one-vs-rest) or per-label
            scores (multilabel); then `average`: "macro", "weighted", "micro",
            "samples" or None.

    Example:
        >>> average_precision_score([[1, 0], [0, 1], [1, 1]], [[0.9, 0.2], [0.4, 0.6], [0.3, 0.1]], average=None).tolist()
        [0.8333333333333333, 0.8333333333333333]
    """
    fn = "average_precision_score"
    if is_indicator(y_true):
        if pos_label != 1:
            raise ValueError(f"{fn}: pos_label is fixed to 1 for a multilabel y_true, got {pos_label!r}")
        onehot, y_score, w = _multilabel_scores(fn, y_true, y_score, sample_weight, average)
        return _average_columns(fn, _binary_average_precision, onehot, y_score, average, w)
    y_true = as_labels(fn, y_true)
    y_score = as_scores(fn, y_score, ndim=(1, 2))
    w = check_weights(fn, sample_weight, len(y_true))
    classes = np.unique(y_true)
    if average not in ("micro", "macro", "weighted", "samples", None):
        raise ValueError(f"{fn}: average must be 'micro', 'macro', 'weighted', 'samples' or None, got {average!r}")
    if len(classes) > 2 or y_score.ndim == 2:
        if pos_label != 1:
            raise ValueError(f"{fn}: pos_label is fixed to 1 for multiclass y_true")
        if y_score.ndim != 2 or y_score.shape[1] != len(classes):
            raise ValueError(f"{fn}: y_true has {len(classes)} classes; y_score must be (N, {len(classes)}), "
                             f"got {y_score.shape}")
        onehot = (y_true[:, None] == classes[None, :]).astype(np.float64)
        return _average_columns(fn, _binary_average_precision, onehot, y_score, average, w)
    if len(classes) == 2 and pos_label not in classes.tolist():
        raise ValueError(f"{fn}: pos_label={pos_label!r} is not a valid label; it should be one of {classes.tolist()}")
    return _binary_average_precision(y_true == pos_label, y_score, w)


def calibration_curve(y_true, y_prob, *, pos_label=None, n_bins=5, strategy="uniform"):
    """Reliability diagram data: (prob_true, prob_pred) per non-empty bin of predicted probability.

    `prob_true` is the fraction of positives in a bin, `prob_pred` the mean
    predicted probability there; a calibrated model has them equal (Niculescu-Mizil
    & Caruana, 2005).  Bins are equally wide ("uniform") or equally full ("quantile").
    """
    fn = "calibration_curve"
    y_true = as_labels(fn, y_true)
    y_prob = as_scores(fn, y_prob, "y_prob")
    if len(y_true) != len(y_prob):
        raise ValueError(f"{fn}: y_true and y_prob have different lengths: {len(y_true)} and {len(y_prob)}")
    if y_prob.min() < 0 or y_prob.max() > 1:
        raise ValueError(f"{fn}: y_prob has values outside [0, 1]")
    if not (isinstance(n_bins, (int, np.integer)) and n_bins >= 1):
        raise ValueError(f"{fn}: n_bins must be a positive int, got {n_bins!r}")
    positive = binary_positive(fn, y_true, pos_label).astype(np.float64)
    if strategy == "quantile":
        bins = np.percentile(y_prob, np.linspace(0, 1, n_bins + 1) * 100)
    elif strategy == "uniform":
        bins = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError(f"{fn}: strategy must be 'uniform' or 'quantile', got {strategy!r}")
    bin_of = np.searchsorted(bins[1:-1], y_prob)
    sums = np.bincount(bin_of, weights=y_prob, minlength=n_bins)
    trues = np.bincount(bin_of, weights=positive, minlength=n_bins)
    totals = np.bincount(bin_of, minlength=n_bins)
    full = totals != 0
    return trues[full] / totals[full], sums[full] / totals[full]
