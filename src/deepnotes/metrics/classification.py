"""Label metrics: accuracy, the confusion matrix, precision / recall / F-beta, MCC, log loss (M1).

Everything here is computed from one object, the confusion matrix `C`, where
`C[i, j]` counts the samples of true class i predicted as class j.  For a class k:

    TP_k = C[k, k]      FP_k = sum_i C[i, k] - TP_k      FN_k = sum_j C[k, j] - TP_k
    precision_k = TP_k / (TP_k + FP_k)        recall_k = TP_k / (TP_k + FN_k)
    F_beta,k = (1 + b^2) TP_k / ((1 + b^2) TP_k + b^2 FN_k + FP_k)   (van Rijsbergen, 1979)

Averages (scikit-learn's names and rules):

- `binary`: the scores of the class `pos_label` only;
- `micro`: pool TP, FP, FN over the classes first (for single-label data micro
  precision = micro recall = micro F1 = accuracy);
- `macro`: unweighted mean of the per-class scores (every class counts the same;
  the average that shows a neglected minority class);
- `weighted`: mean weighted by each class' support (number of true samples);
- `None`: the per-class array.

A division 0/0 (no predicted or no true samples of a class) gives `zero_division`
("warn" behaves as 0, as in scikit-learn, with a warning).

Why accuracy misleads under imbalance: with 95% negatives, predicting "negative"
always scores accuracy 0.95 and minority recall 0.  Balanced accuracy (the
mean per-class recall) and macro F1 both drop to about 0.5 and 0.49 there.

Matthews' correlation (Matthews, 1975; multi-class form by Gorodkin, 2004) is
the correlation between the one-hot truth and prediction, in [-1, 1], and 0
for any constant predictor.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._labels import as_labels, as_scores, check_targets, check_weights, require_samples

AVERAGES = ("binary", "micro", "macro", "weighted", None)


class UndefinedMetricWarning(UserWarning):
    """A score was 0/0 and was replaced by `zero_division`."""


def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """The fraction (or with `normalize=False` the count) of correct predictions.

    Args:
        y_true, y_pred: (N,) labels (ints or strings).
        normalize: return the fraction (True) or the (weighted) count of correct samples.
        sample_weight: (N,) weights, optional.

    Example:
        >>> accuracy_score([0, 1, 1, 0], [0, 1, 0, 0])
        0.75
    """
    y_true, y_pred, _, _ = check_targets("accuracy_score", y_true, y_pred)
    w = check_weights("accuracy_score", sample_weight, len(y_true))
    correct = (y_true == y_pred).astype(np.float64)
    if not normalize:
        return float(correct.sum() if w is None else correct @ w)
    return float(np.average(correct, weights=w))


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """C: (K, K) with C[i, j] = (weighted) number of samples of true label i predicted as j.

    Args:
        labels: the K labels indexing rows and columns, in this order (default:
            the sorted union of both arrays); samples with another label are ignored.
        normalize: None (counts), "true" (rows sum to 1: per-class recall on the
            diagonal), "pred" (columns sum to 1: precision on the diagonal) or "all".

    Example:
        >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1]).tolist()
        [[1, 1], [0, 2]]
    """
    fn = "confusion_matrix"
    y_true, y_pred, _, present = check_targets(fn, y_true, y_pred)
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"{fn}: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    if labels is None:
        labels = present
    else:
        labels = np.asarray(labels)
        if labels.size == 0:
            raise ValueError(f"{fn}: labels must contain at least one label")
        if y_true.size and not np.isin(y_true, labels).any():
            raise ValueError(f"{fn}: none of the labels {labels.tolist()} occurs in y_true")
    w = check_weights(fn, sample_weight, len(y_true))
    k = len(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]

    def index(y):  # position of each label in `labels`, or k when absent
        pos = np.searchsorted(sorted_labels, y).clip(0, k - 1)
        found = sorted_labels[pos] == y
        return np.where(found, order[pos], k)

    i, j = index(y_true), index(y_pred)
    keep = (i < k) & (j < k)
    weights = np.ones(len(y_true), dtype=np.int64) if w is None else w
    cm = np.zeros((k, k), dtype=np.int64 if w is None else np.float64)
    np.add.at(cm, (i[keep], j[keep]), weights[keep])
    if normalize is None:
        return cm
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        else:
            cm = cm / cm.sum()
    return np.nan_to_num(cm)


def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None, adjusted=False):
    """The mean recall over the classes present in `y_true` (Brodersen et al., 2010).

    With `adjusted=True` it is rescaled so that chance (1/K) scores 0 and a
    perfect prediction 1: `(score - 1/K) / (1 - 1/K)`.
    """
    require_samples("balanced_accuracy_score", y_true)
    cm = confusion_matrix(y_true, y_pred, sample_weight=sample_weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diag(cm) / cm.sum(axis=1)
    if np.isnan(per_class).any():
        warnings.warn("balanced_accuracy_score: y_pred contains classes not in y_true", UserWarning, stacklevel=2)
        per_class = per_class[~np.isnan(per_class)]
    score = float(per_class.mean())
    if adjusted:
        chance = 1.0 / len(per_class)
        with np.errstate(divide="ignore", invalid="ignore"):  # one class: chance is 1, the score -inf or nan
            score = float((np.float64(score) - chance) / (1.0 - chance))
    return score


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


def precision_recall_fscore_support(y_true, y_pred, *, beta=1.0, labels=None, pos_label=1, average=None,
                                    warn_for=("precision", "recall", "F-score"), sample_weight=None,
                                    zero_division="warn"):
    """Precision, recall, F-beta and support per class, or averaged (see the module docstring).

    Args:
        y_true, y_pred: (N,) labels.
        beta: the weight of recall against precision in F-beta (beta > 1 favours recall).
        labels: the classes to report / average over (default: all present).
        pos_label: the positive class when `average="binary"`.
        average: "binary", "micro", "macro", "weighted" or None (per class).
        zero_division: the value of a 0/0 score: "warn" (0 with a warning), 0, 1 or nan.

    Returns:
        (precision, recall, fbeta, support): floats with an average (support is
        then None), else (K,) arrays.
    """
    fn = "precision_recall_fscore_support"
    if average not in AVERAGES:
        raise ValueError(f"{fn}: average must be one of {AVERAGES}, got {average!r}")
    if not beta >= 0:
        raise ValueError(f"{fn}: beta must be >= 0, got {beta}")
    _zero_division_value(fn, zero_division)
    y_true, y_pred, kind, present = check_targets(fn, y_true, y_pred)
    w = check_weights(fn, sample_weight, len(y_true))
    if average == "binary":
        if kind != "binary":
            raise ValueError(f"{fn}: target is multiclass but average='binary'; choose one of "
                             "None, 'micro', 'macro', 'weighted'")
        if pos_label not in present.tolist():
            if len(present) >= 2:
                raise ValueError(f"{fn}: pos_label={pos_label!r} is not a valid label; it should be one of "
                                 f"{present.tolist()}")
        labels = [pos_label]
    if labels is None:
        labels = present
    else:
        labels = np.asarray(labels)
        if labels.size == 0:
            raise ValueError(f"{fn}: labels must contain at least one label")
    # one-vs-rest counts per label; samples of other labels only count as negatives
    t = np.asarray(y_true)[:, None] == labels[None, :]
    p = np.asarray(y_pred)[:, None] == labels[None, :]
    weights = np.ones(len(y_true)) if w is None else w
    tp_sum = (weights[:, None] * (t & p)).sum(axis=0)
    pred_sum = (weights[:, None] * p).sum(axis=0)
    true_sum = (weights[:, None] * t).sum(axis=0)
    if w is None:
        tp_sum, pred_sum, true_sum = (a.astype(np.int64) for a in (tp_sum, pred_sum, true_sum))
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
    weights = true_sum if average == "weighted" else None
    return _nan_average(precision, weights), _nan_average(recall, weights), _nan_average(fscore, weights), None


def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary", sample_weight=None,
                zero_division="warn"):
    """F-beta: the weighted harmonic mean of precision and recall, recall weighted beta times as much."""
    require_samples("fbeta_score", y_true)
    return precision_recall_fscore_support(y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label,
                                           average=average, warn_for=("F-score",), sample_weight=sample_weight,
                                           zero_division=zero_division)[2]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
             zero_division="warn"):
    """F1 = 2 P R / (P + R) = 2 TP / (2 TP + FP + FN).

    Example:
        >>> f1_score([0, 1, 1, 1], [0, 1, 0, 1])
        0.8
    """
    require_samples("f1_score", y_true)
    return fbeta_score(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label, average=average,
                       sample_weight=sample_weight, zero_division=zero_division)


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                    zero_division="warn"):
    """TP / (TP + FP): of the samples predicted positive, the fraction that are."""
    require_samples("precision_score", y_true)
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                           warn_for=("precision",), sample_weight=sample_weight,
                                           zero_division=zero_division)[0]


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                 zero_division="warn"):
    """TP / (TP + FN): of the positive samples, the fraction found (sensitivity, true positive rate)."""
    require_samples("recall_score", y_true)
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                           warn_for=("recall",), sample_weight=sample_weight,
                                           zero_division=zero_division)[1]


def matthews_corrcoef(y_true, y_pred, *, sample_weight=None):
    """Matthews' correlation coefficient from the K x K confusion matrix (Gorodkin, 2004).

    With t = row sums, p = column sums, c = trace, s = total:
    MCC = (c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t)), and 0 when a factor is 0.
    """
    require_samples("matthews_corrcoef", y_true)
    cm = confusion_matrix(y_true, y_pred, sample_weight=sample_weight).astype(np.float64)
    t, p = cm.sum(axis=1), cm.sum(axis=0)
    c, s = np.trace(cm), cm.sum()
    cov_tp, cov_pp, cov_tt = c * s - t @ p, s * s - p @ p, s * s - t @ t
    if cov_pp * cov_tt == 0:
        return 0.0
    return float(cov_tp / np.sqrt(cov_tt * cov_pp))


def log_loss(y_true, y_proba, *, normalize=True, sample_weight=None, labels=None):
    """Cross-entropy of predicted probabilities: -mean_i log p_i[y_i].

    Args:
        y_true: (N,) labels.
        y_proba: (N, K) class probabilities with columns in the sorted order of
            `labels` (default: the labels of y_true), or (N,) the probability of
            the larger label of a binary problem.
        labels: all K classes, needed when y_true lacks some of them.

    Probabilities are clipped to [eps, 1 - eps] (float64 eps) so a confident
    mistake costs a large finite loss.
    """
    fn = "log_loss"
    y_true = as_labels(fn, y_true)
    proba = as_scores(fn, y_proba, "y_proba", ndim=(1, 2))
    if proba.max(initial=0) > 1 or proba.min(initial=0) < 0:
        raise ValueError(f"{fn}: y_proba must lie in [0, 1], got values in [{proba.min()}, {proba.max()}]")
    if len(proba) != len(y_true):
        raise ValueError(f"{fn}: y_true and y_proba have different lengths: {len(y_true)} and {len(proba)}")
    classes = np.unique(y_true) if labels is None else np.unique(np.asarray(labels))
    if labels is not None and not np.isin(y_true, classes).all():
        raise ValueError(f"{fn}: y_true has labels that are not in labels={classes.tolist()}")
    if len(classes) == 1:
        raise ValueError(f"{fn}: y_true contains only one label ({classes[0]}); pass every class via labels=")
    if proba.ndim == 1:
        proba = proba[:, None]
    if proba.shape[1] == 1:
        proba = np.hstack([1 - proba, proba])
    if proba.shape[1] != len(classes):
        raise ValueError(f"{fn}: y_true has {len(classes)} classes but y_proba has {proba.shape[1]} columns; "
                         "pass the classes via labels=")
    eps = np.finfo(np.float64).eps
    proba = np.clip(proba, eps, 1 - eps)
    picked = proba[np.arange(len(y_true)), np.searchsorted(classes, y_true)]
    losses = -np.log(picked)
    w = check_weights(fn, sample_weight, len(y_true))
    if not normalize:
        return float(losses.sum() if w is None else losses @ w)
    return float(np.average(losses, weights=w))


def classification_report(y_true, y_pred, *, labels=None, target_names=None, sample_weight=None, digits=2,
                          output_dict=False, zero_division="warn"):
    """Per-class precision, recall, F1 and support, with accuracy and macro / weighted averages.

    Returns scikit-learn's text table, or with `output_dict=True` a dict
    `{label: {"precision", "recall", "f1-score", "support"}, "accuracy" (or
    "micro avg" when `labels` is a strict subset), "macro avg", "weighted avg"}`.
    """
    fn = "classification_report"
    y_true_a, y_pred_a, _, present = check_targets(fn, y_true, y_pred)
    labels_given = labels is not None
    labels = present if labels is None else np.asarray(labels)
    micro_is_accuracy = not labels_given or set(present.tolist()) <= set(labels.tolist())
    if target_names is not None and len(labels) != len(target_names):
        # scikit-learn only warns when labels= is given, and then drops the unnamed classes from the table
        raise ValueError(f"{fn}: {len(labels)} labels but {len(target_names)} target_names")
    names = [str(n) for n in (target_names if target_names is not None else labels.tolist())]
    keys = ("precision", "recall", "f1-score", "support")
    p, r, f, s = precision_recall_fscore_support(y_true_a, y_pred_a, labels=labels, sample_weight=sample_weight,
                                                 zero_division=zero_division)
    report = {name: dict(zip(keys, (float(a), float(b), float(c), float(d))))
              for name, a, b, c, d in zip(names, p, r, f, s)}
    total = float(np.sum(s))
    for average in ("micro", "macro", "weighted"):
        if average == "micro" and micro_is_accuracy:
            continue
        values = precision_recall_fscore_support(y_true_a, y_pred_a, labels=labels, average=average,
                                                 sample_weight=sample_weight, zero_division=zero_division)
        report[f"{average} avg"] = dict(zip(keys, (*values[:3], total)))
    if micro_is_accuracy:
        acc = accuracy_score(y_true_a, y_pred_a, sample_weight=sample_weight)
        report = {**{n: report[n] for n in names}, "accuracy": acc,
                  **{k: v for k, v in report.items() if k.endswith("avg")}}
    if output_dict:
        return report
    # scikit-learn prints supports as floats ("1.0") when no prediction is correct; match its text exactly
    float_support = sample_weight is not None or not np.any(np.asarray(y_true_a) == np.asarray(y_pred_a))
    return _format_report(report, names, digits, "" if float_support else ".0f")


def _format_report(report, names, digits, support_format=".0f"):
    averages = [k for k in report if k.endswith(" avg")]
    width = max(*(len(n) for n in names), len("weighted avg"), digits)
    head = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in ("precision", "recall", "f1-score", "support"))
    lines = [head, ""]

    def row(name, d):
        values = "".join(f" {d[k]:>9.{digits}f}" for k in ("precision", "recall", "f1-score"))
        return f"{name:>{width}s} {values} {d['support']:>9{support_format}}"

    lines += [row(n, report[n]) for n in names]
    lines.append("")
    if "accuracy" in report:
        support = report["weighted avg"]["support"]
        blank = f"{'':>9s} {'':>9s}"
        lines.append(f"{'accuracy':>{width}s}  {blank} {report['accuracy']:>9.{digits}f} {support:>9{support_format}}")
    lines += [row(a, report[a]) for a in averages]
    return "\n".join(lines) + "\n"
