"""A small single-shot detector (SSD-style) with a single-scale or an FPN head (inventory D2, D3, D4).

Liu et al., "SSD: Single Shot MultiBox Detector" (ECCV 2016); Lin et al., "Feature Pyramid
Networks for Object Detection" (CVPR 2017).

Backbone (a plain conv net, `width` w): stride-2 stages C1 (w channels, H/2), C2 (2w, H/4),
C3 (4w, H/8); C1 is one 3 x 3 convolution, C2 and C3 two, each followed by ReLU.  Heads (3 x 3 convolutions predicting,
for every anchor of every cell, C + 1 class logits, 0 = background, and 4 box offsets):

* ``head="single"``: one head on C3 (stride 8), anchors of sides `SINGLE_SIZES` (5 .. 32 px),
  the SSD shape: every anchor size, even 5 px, lives on the coarse 8-pixel grid;
* ``head="fpn"``: `deepnotes.nn.FPN` over C2 and C3 gives P2 (stride 4) and P3 (stride 8),
  one head shared by both levels, small anchors on P2 and large ones on P3 (`FPN_SIZES`).

Anchors (`AnchorGenerator`, square: every shape's box is square) are made for the feature sizes
of each forward pass, so the network runs on any image size (the 2x image pyramid).

Training loss per batch, with P the number of positive anchors (IoU >= 0.5 with a ground truth,
or a ground truth's best anchor; `match_anchors`):

    L = (1 / P) [ sum_{positives + mined negatives} CE(logits, label)
                  + sum_{positives} SmoothL1_beta=1(offsets - encode(gt, anchor)) ]

with the negatives chosen by hard negative mining at 3 negatives per positive and the box
offsets encoded by `BoxCoder` (10, 10, 5, 5).  Smooth L1 is quadratic near 0 and linear beyond
beta, so a badly matched box (a large offset) cannot dominate the gradient as it would with L2
(Girshick, "Fast R-CNN", ICCV 2015; inventory D3).

Inference: softmax scores, per class the anchors above `score_threshold`, decoded and clipped,
per-class NMS at IoU 0.5, the best `max_detections` per image.
"""
from __future__ import annotations

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn import functional as F

from .anchors import BACKGROUND, AnchorGenerator, BoxCoder, hard_negative_mining, match_anchors
from .boxes import clip_boxes_to_image
from .nms import batched_nms
from .pyramid import pyr_down, upsample2x

SINGLE_SIZES = (5.0, 8.0, 12.0, 16.0, 23.0, 32.0)
FPN_SIZES = ((5.0, 8.0, 12.0), (16.0, 23.0, 32.0))


def _stage(cin, cout, depth=2):
    layers = [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers)


class SingleShotDetector(nn.Module):
    """See the module docstring.

    Args:
        num_classes: object classes (background excluded).
        head: 'single' (one coarse map, stride 8) or 'fpn' (P2 and P3, strides 4 and 8).
        width: channels of the first stage.
        in_channels: image channels.

    forward(images (N, C, H, W)) -> (logits (N, A, num_classes + 1), offsets (N, A, 4)), with A
    the total number of anchors, in the order of ``anchors((H, W))``.
    """

    def __init__(self, num_classes=3, head="single", width=16, in_channels=1):
        super().__init__()
        if head not in ("single", "fpn"):
            raise ValueError(f"SingleShotDetector: head must be 'single' or 'fpn', got {head!r}")
        if num_classes < 1 or width < 1:
            raise ValueError(f"SingleShotDetector: num_classes and width must be >= 1, got {num_classes}, {width}")
        self.num_classes, self.head_type = num_classes, head
        self.c1, self.c2, self.c3 = _stage(in_channels, width, 1), _stage(width, 2 * width), _stage(2 * width, 4 * width)
        if head == "single":
            self.generator, self.strides = AnchorGenerator((SINGLE_SIZES,), ((1.0,),)), (8,)
            feat = 4 * width
        else:
            self.generator, self.strides = AnchorGenerator(FPN_SIZES, ((1.0,),)), (4, 8)
            feat = 2 * width
            self.fpn = nn.FPN([2 * width, 4 * width], feat)
        a = self.generator.num_anchors_per_location()[0]
        self.cls_head = nn.Conv2d(feat, a * (num_classes + 1), 3, padding=1)
        self.box_head = nn.Conv2d(feat, a * 4, 3, padding=1)
        self.coder = BoxCoder()
        self._anchor_cache = {}

    def features(self, x):
        c2 = self.c2(self.c1(x))
        c3 = self.c3(c2)
        return [c3] if self.head_type == "single" else self.fpn([c2, c3])

    def _flatten(self, y, k):
        n = y.shape[0]
        return y.permute((0, 2, 3, 1)).reshape((n, -1, k))  # (N, H*W*A, k): cell-major, then anchor

    def forward(self, images):
        x = dn.as_tensor(images)
        if x.ndim != 4:
            raise ValueError(f"SingleShotDetector: images must be (N, C, H, W), got shape {tuple(x.shape)}")
        feats = self.features(x)
        logits = [self._flatten(self.cls_head(f), self.num_classes + 1) for f in feats]
        offsets = [self._flatten(self.box_head(f), 4) for f in feats]
        cat = (lambda ts: ts[0]) if len(feats) == 1 else (lambda ts: dn.cat(ts, dim=1))
        return cat(logits), cat(offsets)

    def anchors(self, image_size):
        """(A, 4) xyxy anchors for an input of `image_size` = (H, W)."""
        h, w = (int(v) for v in image_size)
        key = (h, w)
        if h % 8 or w % 8:
            raise ValueError(f"SingleShotDetector: image height and width must be multiples of 8, got {(h, w)}")
        if key not in self._anchor_cache:
            sizes = [(h // s, w // s) for s in self.strides]
            self._anchor_cache[key] = np.concatenate(self.generator(sizes, self.strides), 0)
        return self._anchor_cache[key]

    # ----------------------------------------------------------------- training
    def targets(self, gts, image_size):
        """Per image labels (N, A) (0 background, c + 1 objects, -1 ignored) and offsets (N, A, 4)."""
        anchors = self.anchors(image_size)
        labels = np.zeros((len(gts), len(anchors)), np.int64)
        offsets = np.zeros((len(gts), len(anchors), 4), np.float32)
        for i, gt in enumerate(gts):
            boxes = np.asarray(gt["boxes"], np.float64).reshape(-1, 4)
            if not len(boxes):
                continue
            matches, _ = match_anchors(anchors, boxes, high=0.5)
            pos = matches >= 0
            labels[i] = np.where(pos, np.asarray(gt["labels"])[np.maximum(matches, 0)] + 1,
                                 np.where(matches == BACKGROUND, 0, -1))
            offsets[i, pos] = self.coder.encode(boxes[matches[pos]], anchors[pos])
        return labels, offsets

    def loss(self, logits, offsets, labels, target_offsets, neg_pos_ratio=3):
        """SSD's loss (module docstring); returns (total, classification, box) Tensors."""
        n, a, k = logits.shape
        safe = np.maximum(labels, 0)
        ce = F.cross_entropy(logits.reshape((n * a, k)), dn.tensor(safe.reshape(-1)), reduction="none").reshape((n, a))
        mask = hard_negative_mining(ce.detach().numpy(), labels, neg_pos_ratio, min_negatives=1)
        num_pos = max(int((labels > 0).sum()), 1)
        cls = (ce * dn.tensor(mask.astype(np.float32))).sum() / num_pos
        pos = dn.tensor((labels > 0).astype(np.float32)[..., None])
        box = (F.smooth_l1_loss(offsets, dn.tensor(target_offsets), reduction="none", beta=1.0) * pos).sum() / num_pos
        return cls + box, cls, box

    # ---------------------------------------------------------------- inference
    def _raw_detections(self, images, score_threshold, top_k):
        """Per image (boxes in input coordinates, scores, labels) before NMS."""
        with dn.no_grad():
            logits, offsets = self(images)
        probs = F.softmax(logits, dim=-1).numpy()[..., 1:]  # (N, A, C)
        offsets = offsets.numpy()
        anchors = self.anchors(images.shape[2:])
        out = []
        for p, d in zip(probs, offsets):
            cell, cls = np.nonzero(p > score_threshold)
            s = p[cell, cls]
            best = np.argsort(-s, kind="stable")[:top_k]
            cell, cls, s = cell[best], cls[best], s[best]
            boxes = clip_boxes_to_image(self.coder.decode(d[cell], anchors[cell]), images.shape[2:])
            out.append((boxes, s, cls))
        return out

    def detect(self, images, score_threshold=0.05, nms_threshold=0.5, max_detections=100, top_k=400,
               scales=(1,)):
        """Detections per image: [{"boxes": (K, 4) xyxy, "scores": (K,), "labels": (K,)}, ...].

        `scales` runs the detector on an image pyramid (1 = the image, 2 = `upsample2x`, 0.5 =
        `pyr_down`) and merges the boxes, mapped back to the image's coordinates, by per-class NMS.
        """
        images = np.asarray(images, np.float32)
        was_training = self.training
        self.eval()
        per_scale = []
        for scale in scales:
            if scale == 1:
                x = images
            elif scale == 2:
                x = upsample2x(images)
            elif scale == 0.5:
                x = pyr_down(images)
            else:
                raise ValueError(f"detect: scales must be among 0.5, 1, 2, got {scale!r}")
            per_scale.append([(b / scale, s, c) for b, s, c in self._raw_detections(x, score_threshold, top_k)])
        self.train(was_training)
        results = []
        for parts in zip(*per_scale):
            boxes = np.concatenate([p[0] for p in parts]).reshape(-1, 4)
            scores = np.concatenate([p[1] for p in parts])
            labels = np.concatenate([p[2] for p in parts]).astype(np.int64)
            keep = batched_nms(boxes, scores, labels, nms_threshold)[:max_detections]
            results.append({"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]})
        return results
