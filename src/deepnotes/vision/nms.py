"""Non-maximum suppression: greedy NMS, per-class (batched) NMS, Soft-NMS (inventory D2).

Greedy NMS, with torchvision's semantics:

1. order the boxes by descending score; among **equal scores the lower index comes first**
   (a stable sort; torchvision's sort is not guaranteed stable, so its order of ties may differ);
2. take the first box of the order, keep it, and drop every remaining box whose IoU with it is
   **strictly greater** than ``iou_threshold`` (a box at exactly the threshold survives);
3. repeat on what remains.  The kept indices come out in that order (descending score).

The only Python loop runs over the *kept* boxes; each step compares one kept box with all
remaining ones at once (up to 2048 boxes the N x N IoU matrix is computed once and each step
reads one row of it; beyond, one row is computed per step to bound memory).  IoU follows
`deepnotes.vision.boxes` (continuous coordinates, 0 for two zero-area boxes, so degenerate boxes
never suppress each other).

Soft-NMS (Bodla et al., "Soft-NMS -- Improving Object Detection With One Line of Code",
ICCV 2017) decays the scores of overlapping boxes instead of deleting them.  With M the box
of highest current score and b_i a remaining box:

    linear:    s_i <- s_i * (1 - IoU(M, b_i))  if IoU(M, b_i) >= N_t, else s_i
    gaussian:  s_i <- s_i * exp(-IoU(M, b_i)^2 / sigma)

and boxes whose score falls below ``score_threshold`` are discarded.

>>> import numpy as np
>>> b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=float)
>>> nms(b, np.array([0.9, 0.8, 0.7]), 0.5)
array([0, 2])
"""
from __future__ import annotations

import numpy as np

from .boxes import _as_boxes, _inter_union, _safe_div


_MATRIX_LIMIT = 2048  # up to this many boxes, nms computes the N x N IoU matrix once


def _scores(scores, n, fn):
    if hasattr(scores, "numpy") and not isinstance(scores, np.ndarray):
        scores = scores.numpy()
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (n,):
        raise ValueError(f"{fn}: scores must have shape ({n},) to match boxes, got {s.shape}")
    if np.isnan(s).any():
        raise ValueError(f"{fn}: scores contain NaN")
    return s


def _iou_one(box, boxes):
    """IoU of one xyxy box (4,) against boxes (K, 4) -> (K,)."""
    inter, union = _inter_union(box[None, :], boxes)
    return _safe_div(inter, union)[0]


def _check_threshold(value, fn, name="iou_threshold"):
    if not (isinstance(value, (int, float, np.floating)) and np.isfinite(value)):
        raise ValueError(f"{fn}: {name} must be a finite number, got {value!r}")


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression (torchvision.ops.nms semantics, see the module docstring).

    Args:
        boxes: (N, 4) xyxy.
        scores: (N,).
        iou_threshold: drop boxes with IoU > iou_threshold (strictly) with a kept box.

    Returns:
        int64 indices of the kept boxes, by descending score (ties: lower index first).
    """
    b = _as_boxes(boxes, "nms").astype(np.float64)
    s = _scores(scores, len(b), "nms")
    _check_threshold(iou_threshold, "nms")
    order = np.argsort(-s, kind="stable")
    keep = []
    if len(b) <= _MATRIX_LIMIT:  # all IoUs at once, then each kept box is one row lookup
        inter, union = _inter_union(b[order], b[order])
        below = _safe_div(inter, union) <= iou_threshold
        rest = np.arange(len(b))
        while rest.size:
            keep.append(order[rest[0]])
            rest = rest[1:][below[rest[0], rest[1:]]]
        return np.asarray(keep, dtype=np.int64)
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        order = rest[_iou_one(b[i], b[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes, scores, idxs, iou_threshold: float) -> np.ndarray:
    """NMS within each category: boxes of different `idxs` never suppress each other.

    Done as one `nms` call after shifting each category's boxes by ``idx * (span + 1)`` along
    both axes, where span is the largest coordinate's distance from the smallest: boxes of
    different categories then never overlap (torchvision's coordinate trick).  Returns the kept
    indices by descending score over all categories (ties: lower index first).

    Args:
        boxes: (N, 4) xyxy.  scores: (N,).  idxs: (N,) integer category of each box.
    """
    b = _as_boxes(boxes, "batched_nms").astype(np.float64)
    s = _scores(scores, len(b), "batched_nms")
    idx = np.asarray(idxs)
    if idx.shape != (len(b),) or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"batched_nms: idxs must be ({len(b)},) integers, got shape {idx.shape} "
                         f"dtype {idx.dtype}")
    if b.size == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = b.min(), b.max()
    # shift so the smallest coordinate is 0, then give every category its own disjoint square
    offsets = (idx.astype(np.float64) - idx.min()) * (hi - lo + 1.0)
    return nms(b - lo + offsets[:, None], s, iou_threshold)


def soft_nms(boxes, scores, iou_threshold: float = 0.3, sigma: float = 0.5,
             score_threshold: float = 0.001, method: str = "linear"):
    """Soft-NMS (Bodla et al., 2017): decay the scores of overlapping boxes.

    Args:
        boxes: (N, 4) xyxy.  scores: (N,).
        iou_threshold: N_t of the linear rule (decay when IoU >= N_t); unused by 'gaussian'.
        sigma: the Gaussian rule's sigma (the paper uses 0.5).
        score_threshold: boxes whose decayed score falls below it are discarded.
        method: 'linear' or 'gaussian'.

    Returns:
        (keep, new_scores): int64 indices of the surviving boxes in the order they were picked
        (each pick is the highest *current* score; ties: lower index), and their decayed scores.
    """
    if method not in ("linear", "gaussian"):
        raise ValueError(f"soft_nms: method must be 'linear' or 'gaussian', got {method!r}")
    if method == "gaussian" and not sigma > 0:
        raise ValueError(f"soft_nms: sigma must be > 0, got {sigma!r}")
    _check_threshold(iou_threshold, "soft_nms")
    _check_threshold(score_threshold, "soft_nms", "score_threshold")
    b = _as_boxes(boxes, "soft_nms").astype(np.float64)
    s = _scores(scores, len(b), "soft_nms").copy()
    remaining = np.flatnonzero(s >= score_threshold)
    keep, kept_scores = [], []
    while remaining.size:
        j = int(np.argmax(s[remaining]))  # first maximum: lowest index among ties
        m = remaining[j]
        keep.append(m)
        kept_scores.append(s[m])
        remaining = np.delete(remaining, j)
        iou = _iou_one(b[m], b[remaining])
        if method == "linear":
            decay = np.where(iou >= iou_threshold, 1.0 - iou, 1.0)
        else:
            decay = np.exp(-(iou**2) / sigma)
        s[remaining] *= decay
        remaining = remaining[s[remaining] >= score_threshold]
    return np.asarray(keep, dtype=np.int64), np.asarray(kept_scores, dtype=np.float64)
