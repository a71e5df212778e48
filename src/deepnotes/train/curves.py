"""Learning curves: test score against training-set size, on nested, log-spaced subsets.

A learning curve answers "would more data help?": train the same recipe on growing subsets of
the training set and score each fit on a fixed test set. Two conventions make the points of a
curve comparable:

* **nested subsets**: for one seed, the subset of size n is the first n rows of a single
  permutation, so every larger subset contains every smaller one (a point differs from the
  previous one only by the added examples, not by a new draw);
* **same seeds**: the fit at every size gets the same `seed` (the same initialization and data
  order generator), and seed s draws the same permutation whatever the sizes.

With ``stratify=True`` the permutation interleaves the classes in proportion (a subset of 20
rows of a 10-class set holds about 2 of each), which keeps tiny subsets from missing a class.

Example::

    from deepnotes.train import learning_curve, log_sizes

    def fit_and_score(x, y, seed):          # train on (x, y) with this seed, score on the test set
        ...
        return {"test_acc": acc}

    curve = learning_curve(fit_and_score, x_train, y_train, log_sizes(50, len(x_train), 6), seeds=[0, 1, 2])
    curve.sizes, curve.scores["test_acc"]   # (6,), (3 seeds, 6 sizes)

scikit-learn's ``model_selection.learning_curve`` does the same for its estimators with
cross-validation folds; this helper takes any training function (a deepnotes model, a
scikit-learn estimator, a closed-form fit) and a fixed test set chosen by the caller.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def log_sizes(smallest: int, largest: int, num: int) -> list:
    """`num` log-spaced integer sizes from `smallest` to `largest` (both included), increasing.

    Sizes that round to the same integer are kept once, so fewer than `num` may come back
    when the range is narrow.
    """
    if not (isinstance(smallest, (int, np.integer)) and isinstance(largest, (int, np.integer))):
        raise ValueError(f"log_sizes: sizes must be integers, got smallest={smallest!r}, largest={largest!r}")
    if not 1 <= smallest <= largest:
        raise ValueError(f"log_sizes: need 1 <= smallest <= largest, got smallest={smallest}, largest={largest}")
    if num < 1 or (num == 1 and smallest != largest):
        raise ValueError(f"log_sizes: num must be >= 2 for a range (>= 1 for a single size), got {num}")
    if num == 1:
        return [int(smallest)]
    raw = np.exp(np.linspace(math.log(smallest), math.log(largest), num))
    sizes = sorted({int(round(v)) for v in raw} | {int(smallest), int(largest)})
    return sizes


def nested_order(y, seed: int, stratify: bool = False) -> np.ndarray:
    """The permutation of the rows whose prefixes are the subsets of a learning curve.

    Plain: ``np.random.default_rng(seed).permutation(len(y))``. Stratified: each class's rows
    are permuted, row r of a class of size n_c gets the key (r + u) / n_c with u ~ U(0, 1), and
    the rows are sorted by key: every prefix holds each class in proportion (within one row).
    """
    y = np.asarray(y)
    if y.ndim < 1 or len(y) == 0:
        raise ValueError(f"nested_order: y must be a non-empty array of labels, got shape {y.shape}")
    rng = np.random.default_rng(seed)
    if not stratify:
        return rng.permutation(len(y))
    keys = np.empty(len(y), dtype=np.float64)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        rows = rows[rng.permutation(len(rows))]
        keys[rows] = (np.arange(len(rows)) + rng.random(len(rows))) / len(rows)
    return np.argsort(keys, kind="stable")


@dataclass
class LearningCurve:
    """The result of `learning_curve`.

    sizes: the training-set sizes, increasing. seeds: the seeds, in order.
    scores: metric name -> array (len(seeds), len(sizes)).
    """

    sizes: list
    seeds: list
    scores: dict = field(default_factory=dict)

    def mean(self, name: str) -> np.ndarray:
        """The metric `name` averaged over seeds, one value per size."""
        if name not in self.scores:
            raise KeyError(f"LearningCurve: no metric {name!r}; have {sorted(self.scores)}")
        return self.scores[name].mean(axis=0)

    def to_dict(self) -> dict:
        return {"sizes": list(self.sizes), "seeds": list(self.seeds),
                "scores": {k: v.tolist() for k, v in self.scores.items()}}


def learning_curve(fit_and_score, x, y, sizes, seeds=(0,), stratify: bool = False) -> LearningCurve:
    """Run ``fit_and_score(x_subset, y_subset, seed)`` on nested subsets of (x, y) of each size.

    Args:
        fit_and_score: trains a fresh model on the subset with `seed` and returns its score: a
            number (recorded as "score") or a dict of named numbers (the same names every call).
        x, y: the training pool (arrays indexed on their first axis, same length).
        sizes: increasing training-set sizes, each in [1, len(x)] (e.g. from `log_sizes`).
        seeds: one curve per seed; seed s orders the rows (`nested_order`) and is passed to
            every fit of its curve.
        stratify: keep the class proportions in every subset (y holds class labels).

    Returns:
        A `LearningCurve` with scores[name] of shape (len(seeds), len(sizes)).
    """
    n = len(x)
    if len(y) != n:
        raise ValueError(f"learning_curve: x and y must have the same length, got {n} and {len(y)}")
    sizes = [int(s) for s in sizes]
    if not sizes or any(b <= a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"learning_curve: sizes must be a non-empty increasing list, got {sizes}")
    if sizes[0] < 1 or sizes[-1] > n:
        raise ValueError(f"learning_curve: sizes must lie in [1, {n}] (the pool's length), got {sizes}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("learning_curve: seeds is empty; give at least one seed")
    scores: dict = {}
    for i, seed in enumerate(seeds):
        order = nested_order(y, seed, stratify)
        for j, size in enumerate(sizes):
            rows = order[:size]
            value = fit_and_score(x[rows], y[rows], seed)
            named = value if isinstance(value, dict) else {"score": value}
            if i == 0 and j == 0:
                scores = {k: np.full((len(seeds), len(sizes)), np.nan) for k in named}
            if set(named) != set(scores):
                raise ValueError(f"learning_curve: fit_and_score returned metrics {sorted(named)} at size {size}, "
                                 f"seed {seed}; the first call returned {sorted(scores)}")
            for k, v in named.items():
                scores[k][i, j] = float(v)
    return LearningCurve(sizes, seeds, scores)
