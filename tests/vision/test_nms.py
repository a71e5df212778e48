"""NMS, batched NMS and Soft-NMS against plain greedy loops written here from the definitions."""
import sys

import numpy as np
import pytest

from deepnotes.vision import batched_nms, box_iou, nms, soft_nms


def iou_one(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return iw * ih / union if union > 0 else 0.0


def reference_nms(boxes, scores, threshold):
    """The textbook loop: visit by descending score (ties: lower index), keep unless suppressed."""
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(iou_one(boxes[i], boxes[k]) <= threshold for k in keep):
            keep.append(i)
    return keep


def reference_batched(boxes, scores, labels, threshold):
    keep = []
    for c in set(labels.tolist()):
        idx = [i for i in range(len(boxes)) if labels[i] == c]
        keep += [idx[k] for k in reference_nms(boxes[idx], scores[idx], threshold)]
    return sorted(keep, key=lambda i: (-scores[i], i))


def integer_boxes(rng, n, size=12):
    a, b = rng.integers(0, size, (n, 2)), rng.integers(0, size, (n, 2))
    lo, hi = np.minimum(a, b), np.maximum(a, b) + 1
    return np.concatenate([lo, hi], 1).astype(np.float64)


@pytest.mark.covers("D2")
@pytest.mark.parametrize("seed", range(6))
def test_nms_matches_greedy_reference_with_ties(seed):
    rng = np.random.default_rng(seed)
    boxes = integer_boxes(rng, 60)  # integer boxes: many IoUs exactly 0.5, 1/3, ...
    scores = rng.integers(0, 8, 60) / 8.0  # many equal scores
    for threshold in (0.0, 1 / 3, 0.5, 0.7, 1.0):
        np.testing.assert_array_equal(nms(boxes, scores, threshold), reference_nms(boxes, scores, threshold))


def test_nms_threshold_is_strict_and_order_is_by_score():
    # IoU of the two boxes is exactly 0.5: at threshold 0.5 both survive, just below one is dropped
    boxes = np.array([[0.0, 0.0, 3.0, 1.0], [1.0, 0.0, 4.0, 1.0], [10.0, 10.0, 11.0, 11.0]])
    assert box_iou(boxes[:1], boxes[1:2])[0, 0] == 0.5
    np.testing.assert_array_equal(nms(boxes, np.array([0.2, 0.9, 0.5]), 0.5), [1, 2, 0])
    np.testing.assert_array_equal(nms(boxes, np.array([0.2, 0.9, 0.5]), 0.49), [1, 2])
    # equal scores: the lower index wins
    np.testing.assert_array_equal(nms(boxes[:2], np.array([0.7, 0.7]), 0.3), [0])
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)


def test_nms_row_by_row_path_agrees(monkeypatch):
    nms_module = sys.modules["deepnotes.vision.nms"]

    rng = np.random.default_rng(9)
    boxes = integer_boxes(rng, 200, size=30)
    scores = rng.integers(0, 10, 200) / 10.0
    with_matrix = nms(boxes, scores, 0.5)
    monkeypatch.setattr(nms_module, "_MATRIX_LIMIT", 10)  # force one IoU row per kept box
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), with_matrix)
    np.testing.assert_array_equal(with_matrix, reference_nms(boxes, scores, 0.5))


@pytest.mark.covers("D2")
@pytest.mark.parametrize("seed", range(4))
def test_batched_nms_matches_per_class_reference(seed):
    rng = np.random.default_rng(seed)
    boxes = integer_boxes(rng, 80)
    scores = rng.integers(0, 6, 80) / 6.0
    labels = rng.integers(0, 4, 80)
    for threshold in (0.3, 0.5):
        np.testing.assert_array_equal(batched_nms(boxes, scores, labels, threshold),
                                      reference_batched(boxes, scores, labels, threshold))


def reference_soft_nms(boxes, scores, nt, sigma, thresh, method):
    """Bodla et al. 2017, Algorithm 1, as written: pick the max, rescore the rest, repeat."""
    b = [list(x) for x in boxes]
    s = list(scores)
    alive = [i for i in range(len(b)) if s[i] >= thresh]
    keep, kept = [], []
    while alive:
        m = max(alive, key=lambda i: (s[i], -i))
        keep.append(m)
        kept.append(s[m])
        alive.remove(m)
        for i in alive:
            o = iou_one(b[m], b[i])
            if method == "linear":
                s[i] = s[i] * (1 - o) if o >= nt else s[i]
            else:
                s[i] = s[i] * np.exp(-o * o / sigma)
        alive = [i for i in alive if s[i] >= thresh]
    return keep, kept


@pytest.mark.covers("D2")
@pytest.mark.parametrize("method", ["linear", "gaussian"])
def test_soft_nms_matches_paper_update(method):
    rng = np.random.default_rng(5)
    boxes = integer_boxes(rng, 50)
    scores = rng.random(50)
    keep, new_scores = soft_nms(boxes, scores, iou_threshold=0.3, sigma=0.5, score_threshold=0.05, method=method)
    ref_keep, ref_scores = reference_soft_nms(boxes, scores, 0.3, 0.5, 0.05, method)
    np.testing.assert_array_equal(keep, ref_keep)
    np.testing.assert_allclose(new_scores, ref_scores, rtol=1e-12)
    # soft-NMS keeps at least what hard NMS at the same threshold keeps (linear rule)
    if method == "linear":
        assert set(nms(boxes, scores, 0.3).tolist()) <= set(keep.tolist()) | set(np.flatnonzero(scores < 0.05))


def test_bad_input():
    with pytest.raises(ValueError, match=r"nms: scores must have shape \(2,\)"):
        nms(np.zeros((2, 4)), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="soft_nms: method must be 'linear' or 'gaussian', got 'hard'"):
        soft_nms(np.zeros((2, 4)), np.zeros(2), method="hard")
    with pytest.raises(ValueError, match="batched_nms: idxs must be"):
        batched_nms(np.zeros((2, 4)), np.zeros(2), np.array([0.5, 1.0]), 0.5)
