"""Bounding boxes: formats, area, IoU, generalized IoU and its loss, clipping (inventory D1).

Conventions (implementations disagree on these; deepnotes follows torchvision and Detectron2):

* **Continuous coordinates.**  A box ``(x1, y1, x2, y2)`` covers the real rectangle
  [x1, x2] x [y1, y2]; its width is ``x2 - x1``, with no "+1 pixel".  The old
  py-faster-rcnn / Detectron code treated coordinates as pixel indices and used
  ``x2 - x1 + 1``; pycocotools, torchvision and Detectron2 do not.
* **Formats** (torchvision's names): ``"xyxy"`` = (x1, y1, x2, y2) with x1 <= x2, y1 <= y2;
  ``"xywh"`` = (x1, y1, w, h) (COCO's annotation format); ``"cxcywh"`` = (cx, cy, w, h).
* **Zero-area boxes.**  A box with x1 == x2 or y1 == y2 is allowed and has area 0.  When the
  union of two boxes has zero area (both boxes degenerate), IoU is **defined as 0**, not NaN
  (torchvision divides 0 by 0 and returns NaN; pycocotools returns 0): a degenerate box matches
  nothing, which is what matching and NMS need.  Likewise GIoU's penalty term is taken as 0 when
  the enclosing box has zero area, so two degenerate boxes on one line or point have GIoU 0.  A
  box with x2 < x1 or y2 < y1 is an error.

IoU (Jaccard index) of boxes A and B:  ``IoU = |A n B| / |A u B|``,
``|A u B| = |A| + |B| - |A n B|``.
Generalized IoU (Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019), with
C the smallest box enclosing A and B:  ``GIoU = IoU - (|C| - |A u B|) / |C|``, in [-1, 1];
unlike IoU it still has a gradient when the boxes do not overlap.

>>> import numpy as np
>>> box_iou(np.array([[0., 0., 2., 2.]]), np.array([[1., 1., 3., 3.]]))
array([[0.14285714]])
"""
from __future__ import annotations

import numpy as np

FORMATS = ("xyxy", "xywh", "cxcywh")


def _as_boxes(boxes, fn, name="boxes", check_order=True):
    """Float array of shape (N, 4); finite; x1 <= x2 and y1 <= y2 when `check_order`."""
    if hasattr(boxes, "numpy") and not isinstance(boxes, np.ndarray):
        boxes = boxes.numpy()
    arr = np.asarray(boxes)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{fn}: {name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.result_type(arr.dtype, np.float32), copy=False)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{fn}: {name} must have shape (N, 4), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{fn}: {name} must be finite")
    if check_order:
        bad = (arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{fn}: {name} must be xyxy with x1 <= x2 and y1 <= y2, "
                             f"got {arr[i].tolist()} at row {i}")
    return arr


def box_convert(boxes, in_fmt: str, out_fmt: str) -> np.ndarray:
    """Convert boxes (N, 4) between 'xyxy', 'xywh' and 'cxcywh' (torchvision.ops.box_convert).

    >>> box_convert(np.array([[1., 2., 4., 6.]]), "xyxy", "cxcywh")
    array([[2.5, 4. , 3. , 4. ]])
    """
    for label, fmt in (("in_fmt", in_fmt), ("out_fmt", out_fmt)):
        if fmt not in FORMATS:
            raise ValueError(f"box_convert: {label} must be one of {FORMATS}, got {fmt!r}")
    b = _as_boxes(boxes, "box_convert", check_order=False)
    if in_fmt == "xyxy":
        xyxy = b
    elif in_fmt == "xywh":
        xyxy = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    else:
        xyxy = np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], axis=1)
    if out_fmt == "xyxy":
        return xyxy.copy()
    if out_fmt == "xywh":
        return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    return np.concatenate([(xyxy[:, :2] + xyxy[:, 2:]) / 2, xyxy[:, 2:] - xyxy[:, :2]], axis=1)


def box_area(boxes) -> np.ndarray:
    """(x2 - x1) * (y2 - y1) for xyxy boxes (N, 4) -> (N,); continuous coordinates, no +1."""
    b = _as_boxes(boxes, "box_area")
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def _inter_union(b1, b2):
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    lt = np.maximum(b1[:, None, :2], b2[None, :, :2])
    rb = np.minimum(b1[:, None, 2:], b2[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter, area1[:, None] + area2[None, :] - inter


def _safe_div(num, den):
    """num / den, with 0 where den == 0 (the documented zero-area convention)."""
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.result_type(num, den))
    np.divide(num, den, out=out, where=den > 0)
    return out


def box_iou(boxes1, boxes2) -> np.ndarray:
    """Pairwise IoU of xyxy boxes: (N, 4), (M, 4) -> (N, M).

    IoU = inter / union with continuous coordinates; 0 where the union is 0 (two zero-area boxes;
    torchvision gives NaN there).  Touching boxes (a shared edge) have IoU 0.
    """
    b1 = _as_boxes(boxes1, "box_iou", "boxes1")
    b2 = _as_boxes(boxes2, "box_iou", "boxes2")
    inter, union = _inter_union(b1, b2)
    return _safe_div(inter, union)


def generalized_box_iou(boxes1, boxes2) -> np.ndarray:
    """Pairwise generalized IoU (Rezatofighi et al., 2019): (N, 4), (M, 4) -> (N, M), in [-1, 1].

    GIoU = IoU - (|C| - union) / |C|, C the smallest box enclosing both.  The penalty is 0 when
    |C| = 0 (both boxes degenerate on the same line or point), so GIoU is then 0 as IoU is.
    """
    b1 = _as_boxes(boxes1, "generalized_box_iou", "boxes1")
    b2 = _as_boxes(boxes2, "generalized_box_iou", "boxes2")
    inter, union = _inter_union(b1, b2)
    iou = _safe_div(inter, union)
    lt = np.minimum(b1[:, None, :2], b2[None, :, :2])
    rb = np.maximum(b1[:, None, 2:], b2[None, :, 2:])
    wh = rb - lt
    enclosing = wh[..., 0] * wh[..., 1]
    return iou - _safe_div(enclosing - union, enclosing)


def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7):
    """1 - GIoU of *matched* box pairs, differentiable (torchvision.ops.generalized_box_iou_loss).

    Args:
        boxes1, boxes2: (N, 4) xyxy, as `deepnotes.Tensor` (gradients flow to both) or arrays.
        reduction: 'none' -> (N,), 'mean' or 'sum' -> scalar.
        eps: added to the union and the enclosing area, as torchvision does, so the loss is
            finite for degenerate boxes (then it is 1 - IoU + penalty evaluated with eps).

    Returns a Tensor.  The loss is in [0, 2]; it is 0 only for identical boxes and, unlike
    1 - IoU, keeps a gradient for disjoint boxes (it pulls them towards each other).
    """
    import deepnotes as dn

    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"generalized_box_iou_loss: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    a, b = dn.as_tensor(boxes1), dn.as_tensor(boxes2)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"generalized_box_iou_loss: boxes1 and boxes2 must both be (N, 4), "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")
    _as_boxes(a.detach().numpy(), "generalized_box_iou_loss", "boxes1")
    _as_boxes(b.detach().numpy(), "generalized_box_iou_loss", "boxes2")
    x1, y1, x2, y2 = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    u1, v1, u2, v2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    iw = dn.clamp(dn.minimum(x2, u2) - dn.maximum(x1, u1), min=0.0)
    ih = dn.clamp(dn.minimum(y2, v2) - dn.maximum(y1, v1), min=0.0)
    inter = iw * ih
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    iou = inter / (union + eps)
    enclosing = (dn.maximum(x2, u2) - dn.minimum(x1, u1)) * (dn.maximum(y2, v2) - dn.minimum(y1, v1))
    loss = 1 - (iou - (enclosing - union) / (enclosing + eps))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def clip_boxes_to_image(boxes, size) -> np.ndarray:
    """Clip xyxy boxes (N, 4) to an image of ``size = (height, width)``: x in [0, W], y in [0, H]
    (torchvision.ops.clip_boxes_to_image; continuous coordinates, so the far edge is W, not W - 1)."""
    b = _as_boxes(boxes, "clip_boxes_to_image", check_order=False)
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"clip_boxes_to_image: size must be (height, width) > 0, got {size!r}")
    h, w = size
    out = b.copy()
    out[:, 0::2] = np.clip(out[:, 0::2], 0, w)
    out[:, 1::2] = np.clip(out[:, 1::2], 0, h)
    return out


clip_boxes = clip_boxes_to_image


def remove_small_boxes(boxes, min_size: float) -> np.ndarray:
    """Indices (ascending) of the xyxy boxes whose width and height are both >= `min_size`
    (torchvision.ops.remove_small_boxes)."""
    if not min_size >= 0:
        raise ValueError(f"remove_small_boxes: min_size must be >= 0, got {min_size!r}")
    b = _as_boxes(boxes, "remove_small_boxes")
    keep = ((b[:, 2] - b[:, 0]) >= min_size) & ((b[:, 3] - b[:, 1]) >= min_size)
    return np.flatnonzero(keep)
