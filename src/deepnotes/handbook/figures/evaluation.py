"""Figures for the evaluation entries (inventory M1, M2), computed with `deepnotes.metrics`.

The scores are a fixed synthetic problem (two Gaussian score distributions, 5% positives), and
every curve is what `roc_curve` / `precision_recall_curve` return for it, so the figure shows
the point these entries make: on imbalanced data the ROC curve looks fine while precision is low.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from deepnotes.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve


def scored_problem(n=4000, positive_share=0.05, separation=2.0, seed=0):
    """Labels (n,) and scores (n,): negatives ~ N(0, 1), positives ~ N(separation, 1)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_share).astype(np.int64)
    scores = rng.normal(0.0, 1.0, n) + separation * y
    return y, scores


def roc_and_pr(out_path):
    """M1/M2: ROC and PR curves of the same scores at 50% and 5% positives; AUC barely moves, AP falls."""
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    roc_ax, pr_ax = fig.subplots(1, 2)
    for share, style in ((0.5, "C0-"), (0.05, "C3--")):
        y, s = scored_problem(positive_share=share)
        fpr, tpr, _ = roc_curve(y, s)
        precision, recall, _ = precision_recall_curve(y, s)
        roc_ax.plot(fpr, tpr, style, lw=1.8, label=f"{share:.0%} positives: AUC {roc_auc_score(y, s):.3f}")
        pr_ax.plot(recall, precision, style, lw=1.8,
                   label=f"{share:.0%} positives: AP {average_precision_score(y, s):.3f}")
        pr_ax.axhline(y.mean(), color=style[:2], lw=0.8, ls=":")
    roc_ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
    roc_ax.set(xlabel="false positive rate FP / (FP + TN)", ylabel="recall (TPR)", title="ROC: same scores")
    pr_ax.set(xlabel="recall TP / (TP + FN)", ylabel="precision TP / (TP + FP)",
              title="PR: dotted = a random ranking's precision")
    for ax in (roc_ax, pr_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left" if ax is pr_ax else "lower right")
    fig.savefig(Path(out_path))
