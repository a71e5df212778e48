"""Label metrics: accuracy, the confusion matrix, MCC, Hamming and log loss, the report (M1).

The confusion matrix `C` has `C[i, j]` = the number of samples of true class i
predicted as class j.  Precision, recall, F-beta and Jaccard come from its
one-vs-rest counts per class, TP_k = C[k, k], FP_k = sum_i C[i, k] - TP_k,
FN_k = sum_j C[k, j] - TP_k (`fscore.py`, with the averages binary / micro /
macro / weighted / samples).

Multilabel targets ((N, K) 0/1 indicator matrices) are accepted where
scikit-learn accepts them: `accuracy_score` is then the *subset* accuracy (a
sample counts only when its whole label set is right), `hamming_loss` the
fraction of wrong (sample, label) entries, and the report adds a
"samples avg" row; `confusion_matrix`, `balanced_accuracy_score` and
`matthews_corrcoef` refuse them (use `multilabel_confusion_matrix`).

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

from ._labels import as_indicator, as_labels, as_scores, check_targets, check_weights, is_indicator, require_samples
from .fscore import UndefinedMetricWarning, precision_recall_fscore_support  # noqa: F401 (re-exported)


def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """The fraction (or with `normalize=False` the count) of correct predictions.

    Args:
        y_true, y_pred: (N,) labels (ints or strings), or (N, K) multilabel
            indicator matrices (a sample is correct when all K entries are).
        normalize: return the fraction (True) or the (weighted) count of correct samples.
        sample_weight: (N,) weights, optional.

    Example:
        >>> accuracy_score([0, 1, 1, 0], [0, 1, 0, 0])
        0.75
    """
    y_true, y_pred, kind, _ = check_targets("accuracy_score", y_true, y_pred)
    w = check_weights("accuracy_score", sample_weight, len(y_true))
    correct = (y_true == y_pred).astype(np.float64)
    if kind == "multilabel-indicator":
        correct = correct.min(axis=1)
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
    y_true, y_pred, kind, present = check_targets(fn, y_true, y_pred)
    if kind == "multilabel-indicator":
        raise ValueError(f"{fn}: multilabel-indicator targets are not supported; use multilabel_confusion_matrix")
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


def hamming_loss(y_true, y_pred, *, sample_weight=None):
    """The fraction of wrong labels: 1 - accuracy for (N,) labels; for (N, K) indicator matrices the
    (weighted) fraction of the N K entries that differ -- partial credit, unlike subset accuracy.

    Example:
        >>> hamming_loss([[0, 1, 1], [1, 0, 0]], [[0, 1, 0], [1, 0, 0]])
        0.16666666666666666
    """
    y_true, y_pred, kind, _ = check_targets("hamming_loss", y_true, y_pred)
    w = check_weights("hamming_loss", sample_weight, len(y_true))
    wrong = (y_true != y_pred).astype(np.float64)
    if kind != "multilabel-indicator":
        return float(np.average(wrong, weights=w))
    mean_weight = 1.0 if w is None else np.mean(w)
    per_sample = wrong.sum(axis=1)
    return float((per_sample.sum() if w is None else per_sample @ w) / (wrong.size * mean_weight))


def log_loss(y_true, y_proba, *, normalize=True, sample_weight=None, labels=None):
    """Cross-entropy of predicted probabilities: -mean_i log p_i[y_i].

    Args:
        y_true: (N,) labels, or an (N, K) multilabel indicator matrix (then,
            as scikit-learn, the loss of a sample is -sum_k y_ik log p_ik over
            its true labels; the absent labels do not count).
        y_proba: (N, K) class probabilities with columns in the sorted order of
            `labels` (default: the labels of y_true), or (N,) the probability of
            the larger label of a binary problem.
        labels: all K classes, needed when y_true lacks some of them.

    Probabilities are clipped to [eps, 1 - eps] (float64 eps) so a confident
    mistake costs a large finite loss.
    """
    fn = "log_loss"
    proba = as_scores(fn, y_proba, "y_proba", ndim=(1, 2))
    if proba.max(initial=0) > 1 or proba.min(initial=0) < 0:
        raise ValueError(f"{fn}: y_proba must lie in [0, 1], got values in [{proba.min()}, {proba.max()}]")
    if is_indicator(y_true):  # scikit-learn's reading: -sum_k y_ik log p_ik, the indicator as the target
        if labels is not None:
            raise ValueError(f"{fn}: labels= is not used with a multilabel y_true (its columns are the labels)")
        onehot = as_indicator(fn, y_true)
        if proba.shape != onehot.shape:
            raise ValueError(f"{fn}: multilabel y_true is {onehot.shape} but y_proba is {proba.shape}")
    else:
        y_true = as_labels(fn, y_true)
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
        onehot = (y_true[:, None] == classes[None, :]).astype(np.float64)
    eps = np.finfo(np.float64).eps
    losses = -(onehot * np.log(np.clip(proba, eps, 1 - eps))).sum(axis=1)
    w = check_weights(fn, sample_weight, len(losses))
    if not normalize:
        return float(losses.sum() if w is None else losses @ w)
    return float(np.average(losses, weights=w))


def classification_report(y_true, y_pred, *, labels=None, target_names=None, sample_weight=None, digits=2,
                          output_dict=False, zero_division="warn"):
    """Per-class precision, recall, F1 and support, with accuracy and macro / weighted averages.

    Returns scikit-learn's text table, or with `output_dict=True` a dict
    `{label: {"precision", "recall", "f1-score", "support"}, "accuracy" (or
    "micro avg" when `labels` is a strict subset), "macro avg", "weighted avg"}`.
    For multilabel indicator matrices the rows are the column indices and the
    averages micro, macro, weighted and samples (no accuracy row).
    """
    fn = "classification_report"
    y_true_a, y_pred_a, kind, present = check_targets(fn, y_true, y_pred)
    multilabel = kind == "multilabel-indicator"
    labels_given = labels is not None
    labels = present if labels is None else np.asarray(labels)
    micro_is_accuracy = not multilabel and (not labels_given or set(present.tolist()) <= set(labels.tolist()))
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
    for average in ("micro", "macro", "weighted") + (("samples",) if multilabel else ()):
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
    float_support = sample_weight is not None or (
        not multilabel and not np.any(np.asarray(y_true_a) == np.asarray(y_pred_a)))
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
