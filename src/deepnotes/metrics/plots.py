"""Figures: the confusion matrix, ROC curves and precision-recall curves (matplotlib, PNG).

Each function takes labels and scores (NumPy), draws one figure and writes it to
`path`, returning the path.  For more than two classes the ROC and PR figures
draw one one-vs-rest curve per class; the PR figure also marks each class'
prevalence, the precision of a random ranking (the baseline that ROC's
diagonal hides).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .classification import confusion_matrix
from .ranking import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def _one_vs_rest(y_true, proba, class_names):
    """[(name, binary truth, score)] for each class with both outcomes present.

    `proba` (N,) is the probability of class 1 of a binary problem; (N, K) one column per class.
    A binary problem gets a curve for each class: the PR curve of the rare class is the one to read.
    """
    y_true = np.asarray(y_true)
    if proba.ndim == 1:
        proba = np.stack([1 - proba, proba], axis=1)
    names = class_names or [str(k) for k in range(proba.shape[1])]
    return [(str(names[k]), y_true == k, proba[:, k]) for k in range(proba.shape[1])
            if 0 < (y_true == k).sum() < len(y_true)]


def plot_confusion_matrix(y_true, y_pred, path, class_names=None, normalize=None, title="confusion matrix"):
    """Heat map of `confusion_matrix(y_true, y_pred, normalize=normalize)` with the value in every cell."""
    labels = np.arange(len(class_names)) if class_names else None
    cm = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    names = class_names or [str(v) for v in np.union1d(y_true, y_pred).tolist()]
    plt = _pyplot()
    size = 2.5 + 0.45 * len(names)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(cm, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set(xticks=range(len(names)), yticks=range(len(names)), xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="true", title=title)
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            text = f"{cm[i, j]:.2f}" if normalize else f"{cm[i, j]:d}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > threshold else "black")
    return _save(fig, path)


def plot_roc_curve(y_true, proba, path, class_names=None, title="ROC curve"):
    """ROC curve(s) with their AUC and the chance diagonal."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    for name, truth, score in _one_vs_rest(y_true, proba, class_names):
        fpr, tpr, _ = roc_curve(truth, score, pos_label=True)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(truth, score):.3f})", lw=1.2)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)", title=title,
           xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_pr_curve(y_true, proba, path, class_names=None, title="precision-recall curve"):
    """Precision-recall curve(s) with their average precision and each class' prevalence (chance level)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    for name, truth, score in _one_vs_rest(y_true, proba, class_names):
        precision, recall, _ = precision_recall_curve(truth, score, pos_label=True)
        line, = ax.step(recall, precision, where="post", lw=1.2,
                        label=f"{name} (AP {average_precision_score(truth, score, pos_label=True):.3f})")
        ax.axhline(truth.mean(), ls=":", lw=0.8, color=line.get_color())
    ax.set(xlabel="recall", ylabel="precision", title=title, xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=7, loc="lower left", title="dotted: prevalence", title_fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def write_evaluation_figures(y_true, proba, out_dir, class_names=None, prefix=""):
    """Confusion matrix, ROC and PR figures in `out_dir`; returns {"confusion_matrix": path, "roc": ..., "pr": ...}."""
    out_dir = Path(out_dir)
    pred = (proba > 0.5).astype(np.int64) if proba.ndim == 1 else proba.argmax(axis=1)
    return {
        "confusion_matrix": str(plot_confusion_matrix(y_true, pred, out_dir / f"{prefix}confusion_matrix.png",
                                                      class_names)),
        "roc": str(plot_roc_curve(y_true, proba, out_dir / f"{prefix}roc.png", class_names)),
        "pr": str(plot_pr_curve(y_true, proba, out_dir / f"{prefix}pr.png", class_names)),
    }
