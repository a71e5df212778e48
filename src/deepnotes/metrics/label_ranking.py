"""Label-ranking metrics for multilabel scores: coverage error, LRAP, ranking loss (M1).

A multilabel model gives each sample i a score s_ik per label k; the true
labels R_i (the ones in row i of the (N, K) indicator matrix) should rank
above the others F_i.  Three ways to measure how well they do, per sample and
then averaged over samples (Tsoumakas, Katakis & Vlahavas, 2010, "Mining
multi-label data"; Schapire & Singer, 2000, for the ranking loss):

- **coverage error**: how far down the ranking one must go to cover every
  true label, #{k : s_ik >= min_{r in R_i} s_ir} (ties count against the
  model); 0 for a sample without true labels.  Best value: |R_i|.
- **label ranking average precision (LRAP)**: for each true label r, the
  fraction of labels ranked at or above it that are true,
  #{r' in R_i : s_ir' >= s_ir} / #{k : s_ik >= s_ir}, averaged over R_i.
  1 is perfect; a sample with no or all labels true scores 1.
- **ranking loss**: the fraction of (true, false) label pairs in the wrong
  order, #{(r, f) : s_ir <= s_if} / (|R_i| |F_i|) (a tie is a mistake); 0 for
  a sample with no or all labels true.

Which one: coverage error counts labels, so it grows with K and suits a
"how many suggestions must a user read" question; LRAP is the per-sample
analogue of average precision (M1's AP, but over labels instead of samples);
ranking loss ignores where in the list a mistake happens.  None of them looks
at a threshold, so they judge the scores before any decision rule is chosen.

All three compare the scores of one sample pairwise, (N, K, K) at once.
"""
from __future__ import annotations

import numpy as np

from ._labels import as_indicator, as_scores, check_weights


def _check(fn, y_true, y_score, sample_weight, allow_one_column=False):
    """(relevant, scores, weights): an (N, K) bool matrix, (N, K) float64 scores of the same shape, weights."""
    arr = np.asarray(y_true)
    if arr.ndim != 2 or (arr.shape[1] < 2 and not allow_one_column):
        raise ValueError(f"{fn}: y_true must be an (N, K) multilabel indicator matrix with K >= 2, "
                         f"got shape {arr.shape}")
    relevant = as_indicator(fn, arr, "y_true").astype(bool)
    scores = as_scores(fn, y_score, ndim=(2,))
    if scores.shape != relevant.shape:
        raise ValueError(f"{fn}: y_true {relevant.shape} and y_score {scores.shape} have different shapes")
    return relevant, scores, check_weights(fn, sample_weight, len(relevant))


def _at_or_above(scores):
    """(N, K, K) with [i, j, k] = s_ik >= s_ij: label k ranks at or above label j."""
    return scores[:, None, :] >= scores[:, :, None]


def coverage_error(y_true, y_score, *, sample_weight=None):
    """Mean number of top-ranked labels needed to cover all true labels (see the module docstring).

    Example:
        >>> coverage_error([[1, 0, 0], [0, 0, 1]], [[0.75, 0.5, 1.0], [1.0, 0.2, 0.1]])
        2.5
    """
    relevant, scores, w = _check("coverage_error", y_true, y_score, sample_weight)
    lowest_true = np.where(relevant, scores, np.inf).min(axis=1, keepdims=True)
    coverage = np.where(relevant.any(axis=1), (scores >= lowest_true).sum(axis=1), 0)
    return float(np.average(coverage, weights=w))


def label_ranking_average_precision_score(y_true, y_score, *, sample_weight=None):
    """LRAP: for each true label, the share of true labels among those ranked at or above it.

    Example:
        >>> label_ranking_average_precision_score([[1, 0, 0], [0, 0, 1]], [[0.75, 0.5, 1.0], [1.0, 0.2, 0.1]])
        0.41666666666666663
    """
    relevant, scores, w = _check("label_ranking_average_precision_score", y_true, y_score, sample_weight,
                                 allow_one_column=True)
    above = _at_or_above(scores)
    rank = above.sum(axis=2)                                    # labels at or above label j
    true_above = (above & relevant[:, None, :]).sum(axis=2)     # true labels at or above label j
    n_true = relevant.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_sample = (np.where(relevant, true_above / rank, 0.0)).sum(axis=1) / n_true
    per_sample = np.where((n_true == 0) | (n_true == relevant.shape[1]), 1.0, per_sample)
    if w is None:
        return float(per_sample.sum() / len(per_sample))
    return float((per_sample * w).sum() / w.sum())


def label_ranking_loss(y_true, y_score, *, sample_weight=None):
    """The fraction of (true, false) label pairs ranked in the wrong order (ties count as wrong).

    Example:
        >>> label_ranking_loss([[1, 0, 0], [0, 0, 1]], [[0.75, 0.5, 1.0], [1.0, 0.2, 0.1]])
        0.75
    """
    relevant, scores, w = _check("label_ranking_loss", y_true, y_score, sample_weight)
    # [i, r, f]: the false label f scores at least as high as the true label r
    wrong = _at_or_above(scores) & relevant[:, :, None] & ~relevant[:, None, :]
    n_true = relevant.sum(axis=1)
    pairs = n_true * (relevant.shape[1] - n_true)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(pairs > 0, wrong.sum(axis=(1, 2)) / pairs, 0.0)
    return float(np.average(loss, weights=w))
