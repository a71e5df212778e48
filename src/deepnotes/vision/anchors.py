"""Anchors: SSD and Faster R-CNN generators, box coding, matching, hard negatives (inventory D2).

Every generator returns xyxy boxes in image coordinates (continuous, see `boxes`), one array
per feature map, ordered row-major over the map's cells (y, then x) and, within a cell, over
the cell's anchors, so a head's output reshaped from (N, A * k, H, W) to (N, H, W, A, k) lines
up with them.  Anchor centres sit at the cell centres ``((j + 0.5) * stride_x, (i + 0.5) *
stride_y)``.  Aspect ratio means **width / height** here, as in the SSD paper; torchvision's
`AnchorGenerator` uses height / width and centres its anchors at ``j * stride`` (the cells'
corners).

* SSD (Liu et al., "SSD: Single Shot MultiBox Detector", ECCV 2016): feature map k of m gets
  scale ``s_k = s_min + (s_max - s_min) (k - 1) / (m - 1)`` (a fraction of the image side),
  boxes of width ``s_k sqrt(a)`` and height ``s_k / sqrt(a)`` for every aspect ratio a, plus
  one extra square box of side ``sqrt(s_k s_{k+1})`` (s_{m+1} continues the linear rule).
* Faster R-CNN (Ren et al., NIPS 2015): every cell of a feature map with stride s gets
  ``len(sizes) * len(aspect_ratios)`` anchors of area size^2 and ratio w / h = a.
* `BoxCoder` encodes a box g relative to an anchor a (R-CNN's parametrization, Girshick et
  al. 2014) with weights (wx, wy, ww, wh) = (10, 10, 5, 5) by default (SSD's "variances"
  0.1, 0.2):  ``t_x = wx (g_cx - a_cx) / a_w``, ``t_y = wy (g_cy - a_cy) / a_h``,
  ``t_w = ww log(g_w / a_w)``, ``t_h = wh log(g_h / a_h)``; decode is its exact inverse.
* `match_anchors`: an anchor is positive for the ground truth it overlaps most when that IoU
  is >= ``high``, background when < ``low``, ignored in between; and every ground truth also
  claims its best anchor (else a small object can end up with no positive anchor at all).
* `hard_negative_mining`: keep all positives and the ``neg_pos_ratio`` (3 in SSD) times as many
  negatives with the largest classification loss, per image.
"""
from __future__ import annotations

import math

import numpy as np

from .boxes import _as_boxes, box_iou

BACKGROUND = -1  # match index of a background anchor
IGNORED = -2  # match index of an anchor between the thresholds (no loss)


def _grid_centres(height, width, stride_y, stride_x):
    ys = (np.arange(height) + 0.5) * stride_y
    xs = (np.arange(width) + 0.5) * stride_x
    cy, cx = np.meshgrid(ys, xs, indexing="ij")
    return cx.ravel(), cy.ravel()


def _place(widths, heights, feature_size, stride):
    """(H * W * A, 4) xyxy anchors of the given widths/heights (A,) at every cell centre."""
    h, w = feature_size
    cx, cy = _grid_centres(h, w, stride[0], stride[1])
    half_w, half_h = np.asarray(widths)[None, :] / 2, np.asarray(heights)[None, :] / 2
    boxes = np.stack([cx[:, None] - half_w, cy[:, None] - half_h, cx[:, None] + half_w, cy[:, None] + half_h], -1)
    return boxes.reshape(-1, 4)


def _sizes(feature_sizes, fn):
    out = []
    for fs in feature_sizes:
        fs = (fs, fs) if np.isscalar(fs) else tuple(fs)
        if len(fs) != 2 or min(fs) < 1:
            raise ValueError(f"{fn}: feature sizes must be positive ints or (height, width), got {fs!r}")
        out.append((int(fs[0]), int(fs[1])))
    return out


class SSDAnchorGenerator:
    """SSD default boxes for ``m`` feature maps.

    Args:
        image_size: (height, width) of the input image, or one int for a square image.
        scales: m + 1 scales s_1..s_{m+1} as fractions of the image side (the last one only sets
            the extra box of map m); default: SSD's linear rule from `s_min` to `s_max`.
        aspect_ratios: per feature map, the ratios w / h (1 is always included).
        extra_box: add the sqrt(s_k s_{k+1}) square box (SSD's sixth default box).

    ``num_anchors_per_location()[k] = len(ratios_k) + extra_box``;
    ``generator(feature_sizes)`` -> list of (H_k * W_k * A_k, 4) xyxy arrays.
    """

    def __init__(self, image_size, num_maps=None, scales=None, s_min=0.2, s_max=0.9,
                 aspect_ratios=((1.0, 2.0, 0.5),), extra_box=True):
        self.image_size = (image_size, image_size) if np.isscalar(image_size) else tuple(image_size)
        m = num_maps if num_maps is not None else (len(scales) - 1 if scales is not None else len(aspect_ratios))
        if m < 1:
            raise ValueError(f"SSDAnchorGenerator: need at least one feature map, got {m}")
        if scales is None:
            if not 0 < s_min <= s_max:
                raise ValueError(f"SSDAnchorGenerator: need 0 < s_min <= s_max, got {s_min}, {s_max}")
            step = (s_max - s_min) / (m - 1) if m > 1 else 0.0
            scales = [s_min + step * k for k in range(m + 1)]
            if m == 1:
                scales[1] = s_max if s_max > s_min else s_min
        scales = [float(s) for s in scales]
        if len(scales) != m + 1 or min(scales) <= 0:
            raise ValueError(f"SSDAnchorGenerator: scales must be {m + 1} positive numbers, got {scales}")
        if len(aspect_ratios) == 1:
            aspect_ratios = tuple(aspect_ratios) * m
        if len(aspect_ratios) != m:
            raise ValueError(f"SSDAnchorGenerator: aspect_ratios must be given once or per map ({m}), "
                             f"got {len(aspect_ratios)}")
        self.scales = scales
        self.aspect_ratios = [tuple(dict.fromkeys([1.0, *map(float, r)])) for r in aspect_ratios]
        if any(a <= 0 for r in self.aspect_ratios for a in r):
            raise ValueError(f"SSDAnchorGenerator: aspect ratios must be > 0, got {aspect_ratios}")
        self.extra_box = extra_box

    def num_anchors_per_location(self):
        return [len(r) + int(self.extra_box) for r in self.aspect_ratios]

    def box_sizes(self, k):
        """(widths, heights) in pixels of map k's anchors at one location."""
        h_img, w_img = self.image_size
        s = self.scales[k]
        ratios = np.asarray(self.aspect_ratios[k])
        widths, heights = list(s * np.sqrt(ratios) * w_img), list(s / np.sqrt(ratios) * h_img)
        if self.extra_box:
            extra = math.sqrt(s * self.scales[k + 1])
            widths.append(extra * w_img)
            heights.append(extra * h_img)
        return np.asarray(widths), np.asarray(heights)

    def __call__(self, feature_sizes):
        sizes = _sizes(feature_sizes, "SSDAnchorGenerator")
        if len(sizes) != len(self.aspect_ratios):
            raise ValueError(f"SSDAnchorGenerator: expected {len(self.aspect_ratios)} feature maps, got {len(sizes)}")
        h_img, w_img = self.image_size
        out = []
        for k, (fh, fw) in enumerate(sizes):
            widths, heights = self.box_sizes(k)
            out.append(_place(widths, heights, (fh, fw), (h_img / fh, w_img / fw)))
        return out


class AnchorGenerator:
    """Faster R-CNN anchors: per feature map, ``sizes x aspect_ratios`` boxes at every cell.

    Args:
        sizes: per feature map, the anchors' sides in pixels (area = size^2), e.g. ((32, 64),).
        aspect_ratios: per feature map (or once for all), the ratios w / h.

    ``generator(feature_sizes, strides)`` -> list of (H_k * W_k * A_k, 4) xyxy arrays; the
    anchors of one cell are ordered size-major: (size_0, ratio_0), (size_0, ratio_1), ...
    A box of size s and ratio a has width s sqrt(a) and height s / sqrt(a).
    """

    def __init__(self, sizes=((32, 64, 128),), aspect_ratios=((0.5, 1.0, 2.0),)):
        if len(aspect_ratios) == 1:
            aspect_ratios = tuple(aspect_ratios) * len(sizes)
        if len(aspect_ratios) != len(sizes):
            raise ValueError(f"AnchorGenerator: aspect_ratios must be given once or per map ({len(sizes)}), "
                             f"got {len(aspect_ratios)}")
        if any(s <= 0 for level in sizes for s in level) or any(a <= 0 for r in aspect_ratios for a in r):
            raise ValueError(f"AnchorGenerator: sizes and aspect ratios must be > 0, got {sizes}, {aspect_ratios}")
        self.sizes = [tuple(float(s) for s in level) for level in sizes]
        self.aspect_ratios = [tuple(float(a) for a in r) for r in aspect_ratios]

    def num_anchors_per_location(self):
        return [len(s) * len(r) for s, r in zip(self.sizes, self.aspect_ratios)]

    def __call__(self, feature_sizes, strides):
        sizes = _sizes(feature_sizes, "AnchorGenerator")
        if len(sizes) != len(self.sizes) or len(strides) != len(self.sizes):
            raise ValueError(f"AnchorGenerator: expected {len(self.sizes)} feature sizes and strides, "
                             f"got {len(sizes)} and {len(strides)}")
        out = []
        for fs, stride, level, ratios in zip(sizes, strides, self.sizes, self.aspect_ratios):
            stride = (stride, stride) if np.isscalar(stride) else tuple(stride)
            s, a = np.meshgrid(np.asarray(level), np.sqrt(ratios), indexing="ij")
            out.append(_place((s * a).ravel(), (s / a).ravel(), fs, stride))
        return out


class BoxCoder:
    """Encode boxes as offsets from anchors and back (R-CNN parametrization, weights (10, 10, 5, 5)).

    Args:
        weights: (wx, wy, ww, wh) multiplying the four offsets.
        bbox_xform_clip: decode clips t_w / ww and t_h / wh to this value before exp, so a wild
            prediction cannot overflow (torchvision's log(1000 / 16)).
    """

    def __init__(self, weights=(10.0, 10.0, 5.0, 5.0), bbox_xform_clip=math.log(1000.0 / 16)):
        if len(weights) != 4 or min(weights) <= 0:
            raise ValueError(f"BoxCoder: weights must be 4 positive numbers, got {weights!r}")
        self.weights = tuple(float(w) for w in weights)
        self.bbox_xform_clip = bbox_xform_clip

    @staticmethod
    def _centre_size(b):
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        return b[:, 0] + w / 2, b[:, 1] + h / 2, w, h

    def encode(self, boxes, anchors) -> np.ndarray:
        """Offsets (N, 4) of xyxy `boxes` (N, 4) relative to `anchors` (N, 4); sizes must be > 0."""
        g = _as_boxes(boxes, "BoxCoder.encode", "boxes").astype(np.float64)
        a = _as_boxes(anchors, "BoxCoder.encode", "anchors").astype(np.float64)
        if g.shape != a.shape:
            raise ValueError(f"BoxCoder.encode: boxes and anchors must have the same shape, got {g.shape} and {a.shape}")
        gx, gy, gw, gh = self._centre_size(g)
        ax, ay, aw, ah = self._centre_size(a)
        if (aw <= 0).any() or (ah <= 0).any() or (gw <= 0).any() or (gh <= 0).any():
            raise ValueError("BoxCoder.encode: boxes and anchors must have positive width and height")
        wx, wy, ww, wh = self.weights
        return np.stack([wx * (gx - ax) / aw, wy * (gy - ay) / ah, ww * np.log(gw / aw), wh * np.log(gh / ah)], 1)

    def decode(self, deltas, anchors) -> np.ndarray:
        """xyxy boxes (N, 4) from offsets `deltas` (N, 4) and `anchors` (N, 4); inverse of encode."""
        d = np.asarray(deltas, dtype=np.float64)
        a = _as_boxes(anchors, "BoxCoder.decode", "anchors").astype(np.float64)
        if d.shape != a.shape:
            raise ValueError(f"BoxCoder.decode: deltas and anchors must have the same shape, got {d.shape} and {a.shape}")
        ax, ay, aw, ah = self._centre_size(a)
        wx, wy, ww, wh = self.weights
        cx = d[:, 0] / wx * aw + ax
        cy = d[:, 1] / wy * ah + ay
        w = aw * np.exp(np.minimum(d[:, 2] / ww, self.bbox_xform_clip))
        h = ah * np.exp(np.minimum(d[:, 3] / wh, self.bbox_xform_clip))
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def match_anchors(anchors, gt_boxes, high=0.5, low=None, allow_low_quality_matches=True):
    """Assign every anchor a ground-truth index, `BACKGROUND` (-1) or `IGNORED` (-2).

    Args:
        anchors: (A, 4) xyxy.  gt_boxes: (G, 4) xyxy.
        high: IoU >= high makes an anchor positive for its best ground truth.
        low: IoU < low makes it background; anchors in [low, high) are ignored.  Default
            low = high (SSD: no ignored band).
        allow_low_quality_matches: every ground truth also takes the anchor(s) it overlaps most
            (those tied at its maximum), if that IoU is > 0, overriding the rule above.  When two
            ground truths claim the same anchor, the one with the larger IoU wins (the lower
            index on a tie).

    Returns:
        (matches (A,) int64, ious (A,) the IoU with the assigned / best ground truth).
    """
    a = _as_boxes(anchors, "match_anchors", "anchors")
    g = _as_boxes(gt_boxes, "match_anchors", "gt_boxes")
    low = high if low is None else low
    if not 0 <= low <= high <= 1:
        raise ValueError(f"match_anchors: need 0 <= low <= high <= 1, got low={low}, high={high}")
    if len(g) == 0:
        return np.full(len(a), BACKGROUND, dtype=np.int64), np.zeros(len(a))
    iou = box_iou(a, g)  # (A, G)
    best_gt = iou.argmax(1)
    best_iou = iou[np.arange(len(a)), best_gt]
    matches = np.where(best_iou >= high, best_gt, np.where(best_iou < low, BACKGROUND, IGNORED)).astype(np.int64)
    if allow_low_quality_matches:
        gt_best = iou.max(0)  # (G,)
        forced = (iou == gt_best[None, :]) & (gt_best[None, :] > 0)  # (A, G)
        rows = forced.any(1)
        # among the ground truths forcing an anchor, the largest IoU (first on ties) wins
        claim = np.where(forced, iou, -1.0).argmax(1)
        matches[rows] = claim[rows]
        best_iou = np.where(rows, iou[np.arange(len(a)), claim], best_iou)
    return matches, best_iou


def hard_negative_mining(loss, labels, neg_pos_ratio=3, min_negatives=0):
    """SSD's hard negative mining: the mask of anchors that enter the classification loss.

    Args:
        loss: (N, A) per-anchor classification loss (any array; only its order matters).
        labels: (N, A) int, > 0 for positives, 0 for background, < 0 for ignored anchors.
        neg_pos_ratio: negatives kept per positive, per image (SSD: 3).
        min_negatives: keep at least this many negatives per image (an image with no object
            would otherwise contribute nothing).

    Returns:
        (N, A) bool mask: every positive, plus the ``min(ratio * positives, negatives)`` (at
        least `min_negatives`) background anchors with the largest loss in each image; ties in
        the loss are broken by the lower anchor index.
    """
    loss = np.asarray(loss, dtype=np.float64)
    labels = np.asarray(labels)
    if loss.shape != labels.shape or loss.ndim != 2:
        raise ValueError(f"hard_negative_mining: loss and labels must both be (N, A), got {loss.shape} and {labels.shape}")
    if neg_pos_ratio < 0:
        raise ValueError(f"hard_negative_mining: neg_pos_ratio must be >= 0, got {neg_pos_ratio}")
    positive, negative = labels > 0, labels == 0
    n_neg = np.minimum(np.maximum(neg_pos_ratio * positive.sum(1), min_negatives), negative.sum(1))
    ranked = np.where(negative, loss, -np.inf)
    order = np.argsort(-ranked, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(loss.shape[1])[None, :].repeat(len(loss), 0), axis=1)
    return positive | (negative & (rank < n_neg[:, None]))
