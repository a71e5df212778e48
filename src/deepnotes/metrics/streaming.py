"""Streaming metrics for training: accumulate per batch, compute once at the end of the epoch.

A mean of per-batch scores is right for accuracy but wrong for F1, precision,
recall or AUC: these are not averages over samples.  F1 of the whole epoch is
computed from the epoch's confusion matrix, AUC from all of its scores, so each
metric keeps what it needs (counts, or scores and labels) and computes at the end.

    metric = Metric.from_name("f1_macro")
    for x, y in loader:
        metric.update(model(x), y)
    metric.compute()          # float

Model outputs are interpreted as in `deepnotes.train.accuracy`: logits (N, C)
with labels (N,) (prediction = argmax, probabilities = softmax), or binary
logits (N,) / (N, 1) with 0/1 labels (prediction = logit > 0, probability =
sigmoid).  `fit(..., metrics=["accuracy", "f1_macro", "auc"])` accepts the names
in `NAMES`.
"""
from __future__ import annotations

import numpy as np

from . import classification as C
from . import fscore as F
from . import ranking as R


def _array(x):
    return np.asarray(x)


def split_output(output, target):
    """(labels (N,) int, probabilities (N, C) or (N,) for binary) from logits and targets."""
    out, tgt = _array(output).astype(np.float64), _array(target)
    if out.ndim == 2 and out.shape[1] > 1 and tgt.ndim == 1:
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        return tgt.astype(np.int64), e / e.sum(axis=1, keepdims=True)
    if out.reshape(len(out), -1).shape[1] == 1 and tgt.reshape(len(tgt), -1).shape[1] == 1:
        return (tgt.reshape(-1) > 0.5).astype(np.int64), 1.0 / (1.0 + np.exp(-out.reshape(-1)))
    raise ValueError(f"streaming metric: cannot match output of shape {out.shape} with target of shape "
                     f"{tgt.shape}; expected logits (N, C) with labels (N,), or binary logits (N,) with 0/1 labels")


def predictions(proba):
    return (proba > 0.5).astype(np.int64) if proba.ndim == 1 else proba.argmax(axis=1)


class Metric:
    """Base class: `reset()`, `update(output, target)` per batch, `compute() -> float` at the end."""

    name = "metric"
    running = True  # cheap enough to show after every batch in the progress bar

    def reset(self):
        raise NotImplementedError

    def update(self, output, target):
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    @staticmethod
    def from_name(name):
        if name not in NAMES:
            raise ValueError(f"Metric.from_name: unknown metric {name!r}; known: {sorted(NAMES)}")
        return NAMES[name]()

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class ConfusionMetric(Metric):
    """Any label metric computed from the epoch's confusion matrix (grown as new classes appear)."""

    def __init__(self, name, score):
        self.name, self.score = name, score
        self.reset()

    def reset(self):
        self.cm = np.zeros((0, 0), dtype=np.int64)

    def update(self, output, target):
        y, proba = split_output(output, target)
        pred = predictions(proba)
        k = max(self.cm.shape[0], int(y.max(initial=0)) + 1, int(pred.max(initial=0)) + 1,
                proba.shape[1] if proba.ndim == 2 else 2)
        if k > self.cm.shape[0]:
            grown = np.zeros((k, k), dtype=np.int64)
            grown[: self.cm.shape[0], : self.cm.shape[1]] = self.cm
            self.cm = grown
        np.add.at(self.cm, (y, pred), 1)

    def compute(self):
        return float(self.score(self.cm))


class ScoreMetric(Metric):
    """A score metric (ROC AUC, average precision) over all of the epoch's probabilities."""

    running = False  # sorting every score after each batch would cost more than the step

    def __init__(self, name, score):
        self.name, self.score = name, score
        self.reset()

    def reset(self):
        self.labels, self.probas = [], []

    def update(self, output, target):
        y, proba = split_output(output, target)
        self.labels.append(y)
        self.probas.append(proba)

    def compute(self):
        if not self.labels:
            return float("nan")
        return float(self.score(np.concatenate(self.labels), np.concatenate(self.probas)))


# ------------------------------------------------------------------ scores from a confusion matrix

def _counts(cm):
    tp = np.diag(cm).astype(np.float64)
    return tp, cm.sum(axis=0) - tp, cm.sum(axis=1) - tp


def _ratio(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b != 0)


def _per_class(kind):
    def per_class(cm):
        tp, fp, fn = _counts(cm)
        if kind == "precision":
            return _ratio(tp, tp + fp)
        if kind == "recall":
            return _ratio(tp, tp + fn)
        return _ratio(2 * tp, 2 * tp + fp + fn)
    return per_class


def _averaged(kind, average):
    per_class = _per_class(kind)

    def score(cm):
        present = (cm.sum(axis=0) + cm.sum(axis=1)) > 0  # labels seen in y_true or y_pred (as sklearn)
        values = per_class(cm)[present]
        if values.size == 0:
            return 0.0
        if average == "macro":
            return values.mean()
        support = cm.sum(axis=1)[present]
        return np.average(values, weights=support) if support.sum() else 0.0
    return score


def _accuracy(cm):
    return np.trace(cm) / cm.sum() if cm.sum() else 0.0


def _balanced_accuracy(cm):
    rows = cm.sum(axis=1)
    return (np.diag(cm)[rows > 0] / rows[rows > 0]).mean() if rows.any() else 0.0


def _minority_recall(cm):
    """Recall of the rarest class in y_true (the number imbalanced-data remedies aim to raise)."""
    rows = cm.sum(axis=1)
    present = np.flatnonzero(rows)
    if present.size == 0:
        return 0.0
    k = present[np.argmin(rows[present])]
    return cm[k, k] / rows[k]


def _auc(y, proba):
    if proba.ndim == 1:
        return R.roc_auc_score(y, proba)
    classes = np.unique(y)
    if len(classes) < 2:
        return float("nan")
    if proba.shape[1] == 2:
        return R.roc_auc_score(y, proba[:, 1])
    # classes absent from the epoch have no one-vs-rest AUC: macro average over the present ones
    return float(np.mean([R.roc_auc_score(y == c, proba[:, c]) for c in classes]))


def _average_precision(y, proba):
    if proba.ndim == 1:
        return R.average_precision_score(y, proba)
    if proba.shape[1] == 2:
        return R.average_precision_score(y, proba[:, 1])
    classes = np.unique(y)
    return float(np.mean([R.average_precision_score(y == c, proba[:, c]) for c in classes]))


def _confusion(name, score):
    return lambda: ConfusionMetric(name, score)


NAMES = {
    "accuracy": _confusion("accuracy", _accuracy),
    "balanced_accuracy": _confusion("balanced_accuracy", _balanced_accuracy),
    "minority_recall": _confusion("minority_recall", _minority_recall),
    **{f"{kind}_{avg}": _confusion(f"{kind}_{avg}", _averaged(kind, avg))
       for kind in ("precision", "recall", "f1") for avg in ("macro", "weighted")},
    "auc": lambda: ScoreMetric("auc", _auc),
    "average_precision": lambda: ScoreMetric("average_precision", _average_precision),
}

# for the oracle tests: the batch metric each streaming metric must equal on the whole epoch
REFERENCE = {
    "accuracy": lambda y, p: C.accuracy_score(y, predictions(p)),
    "balanced_accuracy": lambda y, p: C.balanced_accuracy_score(y, predictions(p)),
    **{f"{kind}_{avg}": (lambda kind, avg: lambda y, p: {"precision": F.precision_score, "recall": F.recall_score,
                                                         "f1": F.f1_score}[kind](y, predictions(p), average=avg,
                                                                                zero_division=0))(kind, avg)
       for kind in ("precision", "recall", "f1") for avg in ("macro", "weighted")},
}
