"""Detection metrics: COCO's mAP (AP@[.5:.95], AP50, AP75, AP by object size) and VOC's AP.

COCO (Lin et al., "Microsoft COCO", ECCV 2014; the definitions of pycocotools' COCOeval):

* per image and class, detections are sorted by descending score (stable) and cut to the
  ``max_detections`` best (100);
* at IoU threshold t, each detection in turn takes the still unmatched ground truth it overlaps
  most with IoU >= t (a ground truth of another size bucket is "ignored": it is taken only when
  no regular one qualifies, and a detection matched to it counts neither way); a detection
  left unmatched whose own area is outside the bucket is ignored too;
* over all images of a class, detections are sorted by score; precision is made monotone
  (non-increasing) from the right and read at the 101 recall levels 0, 0.01, ..., 1 (the first
  detection reaching that recall; 0 beyond the last recall reached); AP is their mean;
* AP averages over classes that have ground truth in the bucket, and AP@[.5:.95] also over the
  ten thresholds 0.50, 0.55, ..., 0.95.  AP small / medium / large restrict the ground truth to
  areas in [0, 32^2], [32^2, 96^2], [96^2, inf) (both ends inclusive, as in COCOeval), which
  suits 640-pixel photos; `area_ranges` rescales them for small images.
* A number that cannot be computed (no ground truth at all in a bucket) is -1, as in COCOeval.

VOC (Everingham et al., IJCV 2010): at IoU > 0.5 (strictly) each detection goes to the ground
truth it overlaps most; if that one is already taken the detection is a false positive (it does
not fall back to the second best, as COCO's does).  AP is the area under the monotone
precision-recall curve at every recall step (VOC 2010+), or the mean over 11 recall points
0, 0.1, ..., 1 (VOC 2007).  Boxes are in continuous coordinates (VOC's devkit adds 1 pixel).

Inputs: one dict per image, ``{"boxes": (K, 4) xyxy, "scores": (K,), "labels": (K,)}`` for
detections and ``{"boxes": (G, 4), "labels": (G,)}`` for ground truths.
"""
from __future__ import annotations

import numpy as np

from .boxes import box_iou

COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
COCO_RECALL_THRESHOLDS = np.linspace(0.0, 1.0, 101)
COCO_AREA_RANGES = {"all": (0.0, 1e10), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2),
                    "large": (96.0**2, 1e10)}


def _images(items, fn, name, with_scores):
    out = []
    for i, item in enumerate(items):
        try:
            boxes = np.asarray(item["boxes"], dtype=np.float64).reshape(-1, 4)
            labels = np.asarray(item["labels"]).reshape(-1)
            scores = np.asarray(item["scores"], dtype=np.float64).reshape(-1) if with_scores else None
        except (KeyError, TypeError, ValueError) as exc:
            keys = "'boxes', 'scores', 'labels'" if with_scores else "'boxes', 'labels'"
            raise ValueError(f"{fn}: {name}[{i}] must be a dict with {keys} ((K, 4) xyxy boxes), got {exc}") from exc
        if len(labels) != len(boxes) or (with_scores and len(scores) != len(boxes)):
            raise ValueError(f"{fn}: {name}[{i}] has {len(boxes)} boxes but {len(labels)} labels"
                             + (f" and {len(scores)} scores" if with_scores else ""))
        out.append((boxes, labels, scores))
    return out


def _match_image(ious, gt_ignore, det_area_out, thresholds):
    """COCOeval.evaluateImg for one image and class, every area range and threshold at once.

    Args:
        ious: (D, G) IoU of the score-sorted detections with the ground truths.
        gt_ignore: (R, G) ground truths outside each of the R area ranges.
        det_area_out: (R, D) detections outside each area range.
        thresholds: (T,) IoU thresholds.

    Returns (det_matched (R, T, D) bool, det_ignored (R, T, D) bool).
    """
    n_r, n_g = gt_ignore.shape
    n_t, n_d = len(thresholds), ious.shape[0]
    rows_ignore = np.repeat(gt_ignore, n_t, axis=0)  # (R*T, G)
    floor = np.tile(np.minimum(thresholds, 1 - 1e-10), n_r)[:, None]  # (R*T, 1)
    matched = np.zeros((n_r * n_t, n_d), bool)
    ignored = np.zeros((n_r * n_t, n_d), bool)
    if n_g and n_d:
        gt_taken = np.zeros((n_r * n_t, n_g), bool)
        for d in np.flatnonzero(ious.max(1) >= floor.min()):
            ok = ~gt_taken & (ious[d][None, :] >= floor)  # candidates per (range, threshold)
            # a regular ground truth beats every ignored one; among equal IoUs COCOeval keeps the
            # last one it visits (regular ones first, each group in index order): the highest index
            regular = ok & ~rows_ignore
            pool = np.where(regular.any(1, keepdims=True), regular, ok & rows_ignore)
            score = np.where(pool, ious[d][None, :], -np.inf)[:, ::-1]
            m = n_g - 1 - score.argmax(1)
            t = np.flatnonzero(pool.any(1))
            gt_taken[t, m[t]] = True
            matched[t, d] = True
            ignored[t, d] = rows_ignore[t, m[t]]
    matched, ignored = matched.reshape(n_r, n_t, n_d), ignored.reshape(n_r, n_t, n_d)
    ignored |= ~matched & det_area_out[:, None, :]
    return matched, ignored


def _precision_at_recalls(tp, fp, n_gt, recall_thresholds):
    tp_sum, fp_sum = np.cumsum(tp, dtype=np.float64), np.cumsum(fp, dtype=np.float64)
    recall = tp_sum / n_gt
    precision = tp_sum / (tp_sum + fp_sum + np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # monotone from the right
    idx = np.searchsorted(recall, recall_thresholds, side="left")
    q = np.zeros(len(recall_thresholds))
    valid = idx < len(precision)
    q[valid] = precision[idx[valid]]
    return q


def mean_average_precision(detections, ground_truths, iou_thresholds=None, area_ranges=None,
                           max_detections=100):
    """COCO-style mean average precision (see the module docstring for the exact rules).

    Args:
        detections: list (one per image) of {"boxes": (K, 4) xyxy, "scores": (K,), "labels": (K,)}.
        ground_truths: list of {"boxes": (G, 4) xyxy, "labels": (G,)}, same length.
        iou_thresholds: default COCO's 0.50:0.05:0.95; ``map`` averages over all of them and
            ``map_50`` / ``map_75`` are reported when 0.5 / 0.75 are among them.
        area_ranges: {"small": (lo, hi), "medium": ..., "large": ...} in squared pixels
            (COCO's 32^2 / 96^2 split by default); "all" is always [0, inf).
        max_detections: per image and class, the best-scored detections kept (COCO: 100).

    Returns:
        dict: map, map_50, map_75, map_small, map_medium, map_large, mar (recall at
        max_detections averaged like map), and per_class_ap50 {label: AP at 0.5}.  -1 where
        undefined.
    """
    fn = "mean_average_precision"
    if len(detections) != len(ground_truths):
        raise ValueError(f"{fn}: got {len(detections)} detection entries but {len(ground_truths)} ground truths")
    thresholds = COCO_IOU_THRESHOLDS if iou_thresholds is None else np.asarray(iou_thresholds, dtype=np.float64)
    if thresholds.ndim != 1 or thresholds.size == 0 or thresholds.min() < 0 or thresholds.max() > 1:
        raise ValueError(f"{fn}: iou_thresholds must be a non-empty list in [0, 1], got {iou_thresholds!r}")
    if max_detections < 1:
        raise ValueError(f"{fn}: max_detections must be >= 1, got {max_detections}")
    ranges = dict(COCO_AREA_RANGES)
    if area_ranges is not None:
        ranges = {"all": COCO_AREA_RANGES["all"], **{k: tuple(v) for k, v in area_ranges.items()}}
    dets = _images(detections, fn, "detections", True)
    gts = _images(ground_truths, fn, "ground_truths", False)
    classes = np.unique(np.concatenate([g[1] for g in gts] + [d[1] for d in dets] + [np.zeros(0, int)]))

    n_t, n_r = len(thresholds), len(COCO_RECALL_THRESHOLDS)
    precision = {name: -np.ones((n_t, n_r, len(classes))) for name in ranges}
    recall = {name: -np.ones((n_t, len(classes))) for name in ranges}
    for c_i, c in enumerate(classes):
        per_image = []
        for (db, dl, ds), (gb, gl, _) in zip(dets, gts):
            keep = np.flatnonzero(dl == c)
            keep = keep[np.argsort(-ds[keep], kind="stable")][:max_detections]
            g = gb[gl == c]
            if len(keep) or len(g):
                per_image.append((db[keep], ds[keep], g))
        names = list(ranges)
        lo = np.array([ranges[k][0] for k in names])[:, None]
        hi = np.array([ranges[k][1] for k in names])[:, None]
        stats = [[[], [], [], 0] for _ in names]
        for d_boxes, d_scores, g_boxes in per_image:
            g_area = (g_boxes[:, 2] - g_boxes[:, 0]) * (g_boxes[:, 3] - g_boxes[:, 1])
            d_area = (d_boxes[:, 2] - d_boxes[:, 0]) * (d_boxes[:, 3] - d_boxes[:, 1])
            g_ignore = (g_area[None, :] < lo) | (g_area[None, :] > hi)
            d_out = (d_area[None, :] < lo) | (d_area[None, :] > hi)
            ious = box_iou(d_boxes, g_boxes) if len(d_boxes) and len(g_boxes) else np.zeros((len(d_boxes), len(g_boxes)))
            m, ig = _match_image(ious, g_ignore, d_out, thresholds)
            for r in range(len(names)):
                stats[r][0].append(d_scores), stats[r][1].append(m[r]), stats[r][2].append(ig[r])
                stats[r][3] += int((~g_ignore[r]).sum())
        for name, (scores, matched, ignored, n_gt) in zip(names, stats):
            if n_gt == 0:
                continue
            s = np.concatenate(scores) if scores else np.zeros(0)
            order = np.argsort(-s, kind="mergesort")
            m = np.concatenate(matched, 1)[:, order] if scores else np.zeros((n_t, 0), bool)
            ig = np.concatenate(ignored, 1)[:, order] if scores else np.zeros((n_t, 0), bool)
            for t in range(n_t):
                tp, fp = m[t] & ~ig[t], ~m[t] & ~ig[t]
                recall[name][t, c_i] = tp.sum() / n_gt
                precision[name][t, :, c_i] = (_precision_at_recalls(tp, fp, n_gt, COCO_RECALL_THRESHOLDS)
                                              if tp.size else 0.0)

    def summary(values):
        valid = values[values > -1]
        return float(valid.mean()) if valid.size else -1.0

    def at(t):
        hit = np.flatnonzero(np.isclose(thresholds, t))
        return summary(precision["all"][hit[0]]) if hit.size else -1.0

    out = {"map": summary(precision["all"]), "map_50": at(0.5), "map_75": at(0.75)}
    for name in ranges:
        if name != "all":
            out[f"map_{name}"] = summary(precision[name])
    out["mar"] = summary(recall["all"])
    hit = np.flatnonzero(np.isclose(thresholds, 0.5))
    out["per_class_ap50"] = ({int(c): summary(precision["all"][hit[0], :, i]) for i, c in enumerate(classes)}
                             if hit.size else {})
    return out


def voc_ap(recall, precision, use_07_metric=False) -> float:
    """Average precision from a PR curve (recall ascending), VOC style.

    use_07_metric=False (VOC 2010+): make precision monotone from the right and sum it over the
    recall steps (the exact area under that envelope).  True (VOC 2007): the mean over the 11
    recall points 0, 0.1, ..., 1 of the best precision at recall >= r.
    """
    r = np.asarray(recall, dtype=np.float64)
    p = np.asarray(precision, dtype=np.float64)
    if r.shape != p.shape or r.ndim != 1:
        raise ValueError(f"voc_ap: recall and precision must be 1-d of the same length, got {r.shape} and {p.shape}")
    if use_07_metric:
        return float(np.mean([p[r >= t].max() if (r >= t).any() else 0.0 for t in np.linspace(0, 1, 11)]))
    mrec = np.concatenate([[0.0], r, [1.0]])
    mpre = np.concatenate([[0.0], p, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def voc_mean_average_precision(detections, ground_truths, iou_threshold=0.5, use_07_metric=False):
    """VOC mAP at one IoU threshold: {"map": mean over classes, "per_class_ap": {label: AP}}.

    Matching: a detection is a true positive when its best-overlapping ground truth has IoU >
    iou_threshold (strictly, as the VOC devkit) and was not taken by a higher-scored detection.
    """
    fn = "voc_mean_average_precision"
    if len(detections) != len(ground_truths):
        raise ValueError(f"{fn}: got {len(detections)} detection entries but {len(ground_truths)} ground truths")
    dets = _images(detections, fn, "detections", True)
    gts = _images(ground_truths, fn, "ground_truths", False)
    classes = np.unique(np.concatenate([g[1] for g in gts] + [np.zeros(0, int)]))
    per_class = {}
    for c in classes:
        scores, tps = [], []
        n_gt = 0
        for (db, dl, ds), (gb, gl, _) in zip(dets, gts):
            g = gb[gl == c]
            n_gt += len(g)
            keep = np.flatnonzero(dl == c)
            keep = keep[np.argsort(-ds[keep], kind="stable")]
            tp = np.zeros(len(keep), bool)
            if len(g) and len(keep):
                ious = box_iou(db[keep], g)
                best = ious.argmax(1)
                taken = np.zeros(len(g), bool)
                for k in range(len(keep)):
                    if ious[k, best[k]] > iou_threshold and not taken[best[k]]:
                        tp[k], taken[best[k]] = True, True
            scores.append(ds[keep]), tps.append(tp)
        s, tp = np.concatenate(scores), np.concatenate(tps)
        order = np.argsort(-s, kind="stable")
        tp = tp[order]
        tp_sum, fp_sum = np.cumsum(tp), np.cumsum(~tp)
        rec = tp_sum / n_gt
        prec = tp_sum / np.maximum(tp_sum + fp_sum, np.finfo(np.float64).eps)
        per_class[int(c)] = voc_ap(rec, prec, use_07_metric) if len(tp) else 0.0
    return {"map": float(np.mean(list(per_class.values()))) if per_class else -1.0, "per_class_ap": per_class}
