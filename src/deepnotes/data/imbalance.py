"""Imbalanced classes: re-sampling, class weights, a balanced ensemble, threshold moving (M2, L4).

When one class is rare, a model trained to minimize the average loss can ignore
it and still look accurate.  The remedies act at three places:

- **the data** -- re-sampling: random over- and under-sampling, SMOTE,
  Borderline-SMOTE, ADASYN (`resampling.py`). Re-sample the training split
  only -- never the validation or test data;
- **the loss** -- `compute_class_weight("balanced")`, `n / (K n_c)`, for
  `nn.CrossEntropyLoss(weight=...)`: every class then contributes the same total
  weight to the loss (cost-sensitive learning);
- **the decision** -- `best_threshold` moves the probability threshold from 0.5
  to the one that maximizes F1 (or minimizes a cost) on a validation split.

`BalancedEnsemble` (EasyEnsemble, Liu et al., 2009) combines both: each member
sees all minority samples and an equal random subset of the majority; the
members' probabilities are averaged, so no majority sample is wasted.

`f_classif`, `mutual_info_classif` and `SelectKBest` (`feature_selection.py`,
re-exported here) keep the features most related to the class, a filter that
needs no model.
"""
from __future__ import annotations

import numpy as np

from .feature_selection import SelectKBest, f_classif, mutual_info_classif  # noqa: F401 (re-exported)
from .resampling import RandomUnderSampler, _check_xy


# ------------------------------------------------------------------ class weights

def compute_class_weight(class_weight, *, classes, y):
    """Per-class loss weights, scikit-learn's rule.

    Args:
        class_weight: "balanced" (w_c = n / (K n_c): every class gets the same
            total weight), a dict {class: weight} (others get 1), or None (all 1).
        classes: the K classes, in the order of the returned weights.
        y: (N,) training labels.

    Example:
        >>> compute_class_weight("balanced", classes=np.array([0, 1]), y=[0, 0, 0, 1]).tolist()
        [0.6666666666666666, 2.0]
    """
    classes, y = np.asarray(classes), np.asarray(y)
    if not np.isin(np.unique(y), classes).all():
        raise ValueError(f"compute_class_weight: classes={classes.tolist()} must include every label of y")
    if class_weight is None or (isinstance(class_weight, dict) and not class_weight):
        return np.ones(len(classes), dtype=np.float64)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"compute_class_weight: class_weight must be 'balanced', a dict or None, "
                             f"got {class_weight!r}")
        present = np.unique(y)
        if not np.isin(classes, present).all():
            raise ValueError("compute_class_weight: with 'balanced', every class in classes must occur in y")
        counts = np.array([(y == c).sum() for c in classes], dtype=np.float64)
        return len(y) / (len(present) * counts)
    if not isinstance(class_weight, dict):
        raise ValueError(f"compute_class_weight: class_weight must be 'balanced', a dict or None, got {class_weight!r}")
    weights = np.ones(len(classes), dtype=np.float64)
    unknown = [c for c in class_weight if c not in classes.tolist()]
    if unknown:
        raise ValueError(f"compute_class_weight: classes {unknown} of class_weight are not in classes")
    for c, w in class_weight.items():
        weights[classes.tolist().index(c)] = w
    return weights


def balanced_sample_weights(y):
    """(N,) weights 1 / n_{y_i}: with `WeightedRandomSampler` every class is drawn equally often."""
    y = np.asarray(y)
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


# ------------------------------------------------------------------ threshold moving

def best_threshold(y_true, proba, criterion="f1", cost_fp=1.0, cost_fn=1.0):
    """The decision threshold on `proba` (positive-class probability, (N,)) chosen on validation data.

    criterion="f1": the threshold maximizing F1 of `proba >= t`; criterion="cost":
    the one minimizing `cost_fp * FP + cost_fn * FN`.  Candidates are the observed
    scores; ties are one threshold (a tie cannot be split).  Returns `(t, value)`.

    With a cost, Bayes' rule for calibrated probabilities is t = c_FP / (c_FP + c_FN)
    (Elkan, 2001); searching on validation data also works when they are not calibrated.
    """
    y = np.asarray(y_true).astype(bool)
    p = np.asarray(proba, dtype=np.float64).reshape(-1)
    if y.shape != p.shape or y.size == 0:
        raise ValueError(f"best_threshold: y_true and proba must be (N,) of one length, got {y.shape} and {p.shape}")
    if criterion not in ("f1", "cost"):
        raise ValueError(f"best_threshold: criterion must be 'f1' or 'cost', got {criterion!r}")
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(p_sorted)), len(p) - 1]  # last index of each tie group
    tp = np.cumsum(y_sorted)[last]
    fp = (last + 1) - tp
    fn = y.sum() - tp
    thresholds = p_sorted[last]
    if criterion == "f1":
        f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(tp)), where=(2 * tp + fp + fn) > 0)
        i = int(np.argmax(f1))
        return float(thresholds[i]), float(f1[i])
    cost = np.r_[cost_fn * y.sum(), cost_fp * fp + cost_fn * fn]  # first: predict nothing positive
    thresholds = np.r_[np.inf, thresholds]
    i = int(np.argmin(cost))
    return float(thresholds[i]), float(cost[i])


# ------------------------------------------------------------------ balanced ensemble

def _train_classifier(model, X, y, epochs, lr, batch_size, rng, class_weight=None):
    """A plain Adam + cross-entropy loop (the ensemble's default trainer)."""
    from .. import nn, optim
    from ..autograd.tensor import Tensor

    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(weight=None if class_weight is None else Tensor(class_weight.astype(np.float32)))
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(Tensor(X[idx])), Tensor(y[idx]))
            loss.backward()
            opt.step()
    model.eval()
    return model


class BalancedEnsemble:
    """EasyEnsemble / balanced bagging for deepnotes models (Liu, Wu & Zhou, 2009).

    Each of `n_estimators` members is trained on every minority sample plus an
    equally large random subset of each other class (`RandomUnderSampler`); the
    ensemble's probability is the mean of the members' softmax outputs.

    Args:
        make_model: `() -> Module` mapping (N, D) inputs to (N, K) logits.
        n_estimators: number of members.
        epochs, lr, batch_size: the default trainer (Adam, cross-entropy).
        random_state: an int seed.
        fit_fn: optional `(model, X, y) -> model` replacing the default trainer.
    """

    def __init__(self, make_model, n_estimators=5, epochs=30, lr=1e-2, batch_size=64, random_state=None,
                 fit_fn=None):
        if not isinstance(n_estimators, int) or n_estimators < 1:
            raise ValueError(f"BalancedEnsemble: n_estimators must be a positive int, got {n_estimators!r}")
        self.make_model, self.n_estimators, self.epochs, self.lr = make_model, n_estimators, epochs, lr
        self.batch_size, self.random_state, self.fit_fn = batch_size, random_state, fit_fn

    def fit(self, X, y):
        X, y = _check_xy("BalancedEnsemble.fit", X, y)
        rng = np.random.default_rng(self.random_state)
        self.members_, self.subsets_ = [], []
        for _ in range(self.n_estimators):
            sampler = RandomUnderSampler(random_state=rng)
            Xs, ys = sampler.fit_resample(X, y)
            model = self.make_model()
            if self.fit_fn is not None:
                model = self.fit_fn(model, Xs, ys)
            else:
                model = _train_classifier(model, Xs.astype(np.float32), ys.astype(np.int64), self.epochs, self.lr,
                                          self.batch_size, rng)
            self.members_.append(model)
            self.subsets_.append(sampler.sample_indices_)
        return self

    def predict_proba(self, X):
        """(N, K) mean of the members' softmax probabilities."""
        from ..autograd.grad_mode import no_grad
        from ..autograd.tensor import Tensor

        if not getattr(self, "members_", None):
            raise RuntimeError("BalancedEnsemble.predict_proba: call fit first")
        total = 0.0
        with no_grad():
            for model in self.members_:
                z = model(Tensor(np.asarray(X, dtype=np.float32))).numpy().astype(np.float64)
                e = np.exp(z - z.max(axis=1, keepdims=True))
                total = total + e / e.sum(axis=1, keepdims=True)
        return total / len(self.members_)

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)
