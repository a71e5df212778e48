"""Figures for the detection and evaluation entries (inventory D1, D2, M1, M2).

Detection: the IoU curves come from `deepnotes.vision.box_iou` / `generalized_box_iou` (continuous
coordinates, no +1), the NMS panels from `nms` / `soft_nms`. Classification metrics: the scores are
a fixed synthetic problem (two Gaussian score distributions, 5% positives), and every curve is what
`deepnotes.metrics.roc_curve` / `precision_recall_curve` return for it, so the figure shows the point
M1 and M2 make: on imbalanced data the ROC curve looks fine while precision is low.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from deepnotes.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve
from deepnotes.vision import box_iou, generalized_box_iou, nms, soft_nms


def iou_by_shift(size=10.0, shifts=None):
    """IoU and GIoU of a `size` x `size` box with a copy shifted right by each of `shifts`.

    Returns ``(shifts, iou, giou)``; analytically IoU = (s - d) / (s + d) for 0 <= d <= s, then 0.
    """
    shifts = np.linspace(0.0, 2.0 * size, 201) if shifts is None else np.asarray(shifts, dtype=np.float64)
    ref = np.array([[0.0, 0.0, size, size]])
    moved = np.stack([shifts, np.zeros_like(shifts), shifts + size, np.full_like(shifts, size)], axis=1)
    return shifts, box_iou(ref, moved)[0], generalized_box_iou(ref, moved)[0]


def iou_curves(out_path):
    """D1: IoU and GIoU against the shift of a 10 x 10 box; IoU is flat at 0 once the boxes stop overlapping."""
    d, iou, giou = iou_by_shift()
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.plot(d, iou, lw=2, label="IoU (box_iou)")
    ax.plot(d, giou, "--", lw=2, label="GIoU (generalized_box_iou)")
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.text(0.3, 0.53, "IoU 0.5: d = s/3", fontsize=8, color="0.3")
    ax.axvline(10.0, color="0.6", lw=0.8)
    ax.set(xlabel="horizontal shift d of a 10 x 10 box (pixels)", ylabel="overlap score",
           title="IoU = (s - d) / (s + d) while the boxes overlap")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(Path(out_path))


def nms_example():
    """Six scored boxes (two objects plus a stray box); returns boxes, scores, NMS keep, Soft-NMS (order, scores)."""
    boxes = np.array([[10, 10, 50, 50], [12, 8, 52, 48], [14, 14, 54, 56],
                      [60, 20, 95, 60], [62, 22, 97, 58], [30, 30, 70, 70]], dtype=np.float64)
    scores = np.array([0.95, 0.90, 0.75, 0.85, 0.60, 0.55])
    return boxes, scores, nms(boxes, scores, 0.5), soft_nms(boxes, scores, sigma=0.5, method="gaussian")


def nms_panels(out_path):
    """D2: the boxes before NMS, after hard NMS at IoU 0.5, and after Gaussian Soft-NMS (scores decayed)."""
    from matplotlib.patches import Rectangle

    boxes, scores, keep, (order, soft_scores) = nms_example()
    soft = dict(zip(order.tolist(), soft_scores.tolist()))
    fig = Figure(figsize=(9.6, 3.4), layout="constrained")
    titles = ["before: 6 boxes", "NMS (IoU > 0.5 removed)", "Soft-NMS (Gaussian, sigma 0.5)"]
    for ax, title, panel in zip(fig.subplots(1, 3), titles, range(3)):
        for i, (b, s) in enumerate(zip(boxes, scores)):
            if panel == 1 and i not in keep:
                continue
            score = soft.get(i, 0.0) if panel == 2 else s
            ax.add_patch(Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False, lw=1 + 2 * score,
                                   color=f"C{i}", alpha=max(score, 0.15)))
            ax.text(b[0] + 1, b[1] + 4, f"{score:.2f}", fontsize=7, color=f"C{i}")
        ax.set_xlim(0, 105)
        ax.set_ylim(80, 0)
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(Path(out_path))


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


def positive_anchors_by_size(head, sides, image_size=64, trials=40, seed=0):
    """Mean number of the detector's anchors with IoU >= 0.5 per square object of each side (random positions)."""
    from deepnotes.vision.detector import SingleShotDetector

    anchors = SingleShotDetector(num_classes=3, head=head, width=4).anchors((image_size, image_size))
    rng = np.random.default_rng(seed)
    means = []
    for s in sides:
        xy = rng.uniform(0, image_size - s, size=(trials, 2))
        boxes = np.concatenate([xy, xy + s], axis=1)
        means.append(float((box_iou(anchors, boxes) >= 0.5).sum(0).mean()))
    return np.array(means)


def positives_single_vs_fpn(out_path):
    """D4 / K49: positive anchors per object against its size, for the single coarse head and the FPN head."""
    sides = np.arange(4, 33, 2)
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.subplots()
    for head, style in (("single", "C3o-"), ("fpn", "C0s-")):
        ax.plot(sides, positive_anchors_by_size(head, sides), style, ms=4, label=f'head="{head}"')
    ax.set(xlabel="object side (pixels, 64 x 64 image)", ylabel="anchors with IoU >= 0.5",
           title="positive anchors per object (SingleShotDetector.anchors)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(Path(out_path))
