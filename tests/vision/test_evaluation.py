"""COCO-style mAP against pycocotools' COCOeval on random detections; VOC AP on hand cases."""
import contextlib
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from deepnotes.vision import mean_average_precision, voc_ap, voc_mean_average_precision

KEYS = ("map", "map_50", "map_75", "map_small", "map_medium", "map_large")


def random_case(seed, n_images=40, n_classes=3, max_gt=6, max_det=40, span=300.0):
    """Ground truths of sizes 4..250 px (all three COCO buckets), detections that are jittered copies
    (some exact copies: IoU 1 ties), wrong classes, random boxes; scores rounded so many tie."""
    rng = np.random.default_rng(seed)
    dets, gts = [], []
    for _ in range(n_images):
        g = int(rng.integers(0, max_gt + 1))
        xy = rng.uniform(0, span, (g, 2))
        wh = np.exp(rng.uniform(np.log(4), np.log(250), (g, 2)))
        gb = np.concatenate([xy, xy + wh], 1)
        gl = rng.integers(1, n_classes + 1, g)
        k = int(rng.integers(0, max_det + 1))
        if g:
            pick = rng.integers(0, g, k)
            noise = rng.normal(0, 1, (k, 4)) * wh[pick].mean(1, keepdims=True) * rng.choice([0, 0.05, 0.15, 0.4], (k, 1))
            db = gb[pick] + noise
            dl = np.where(rng.random(k) < 0.8, gl[pick], rng.integers(1, n_classes + 1, k))
        else:
            xy = rng.uniform(0, span, (k, 2))
            db = np.concatenate([xy, xy + rng.uniform(2, 100, (k, 2))], 1)
            dl = rng.integers(1, n_classes + 1, k)
        db[:, 2:] = np.maximum(db[:, 2:], db[:, :2] + 0.5)
        ds = np.round(rng.random(k), 1)
        dets.append({"boxes": db, "scores": ds, "labels": dl})
        gts.append({"boxes": gb, "labels": gl})
    return dets, gts


def cocoeval(dets, gts, n_classes, area_ranges=None):
    images, anns, results = [], [], []
    for i, (d, g) in enumerate(zip(dets, gts)):
        images.append({"id": i + 1})
        for b, lab in zip(g["boxes"], g["labels"]):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": int(lab),
                         "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": 0})
        for b, s, lab in zip(d["boxes"], d["scores"], d["labels"]):
            results.append({"image_id": i + 1, "category_id": int(lab), "score": float(s),
                            "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]})
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {"images": images, "annotations": anns, "categories": [{"id": c + 1} for c in range(n_classes)]}
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(results), "bbox")
        if area_ranges is not None:
            ev.params.areaRng = [[0, 1e10]] + [list(area_ranges[k]) for k in ("small", "medium", "large")]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(KEYS, ev.stats[:6]))


@pytest.mark.covers("D2")
@pytest.mark.parametrize("seed", range(2))
def test_map_matches_cocoeval(seed):
    dets, gts = random_case(seed)
    ours = mean_average_precision(dets, gts)
    want = cocoeval(dets, gts, 3)
    for key in KEYS:
        assert ours[key] == pytest.approx(want[key], abs=1e-6), key
    assert 0.05 < ours["map_50"] < 0.95  # a case where the numbers mean something


@pytest.mark.covers("D2")
def test_map_with_more_than_100_detections_and_custom_area_ranges():
    dets, gts = random_case(11, n_images=8, n_classes=2, max_gt=12, max_det=230, span=60.0)
    ranges = {"small": (0.0, 64.0), "medium": (64.0, 256.0), "large": (256.0, 1e10)}
    ours = mean_average_precision(dets, gts, area_ranges=ranges)
    want = cocoeval(dets, gts, 2, ranges)
    for key in KEYS:
        assert ours[key] == pytest.approx(want[key], abs=1e-6), key


def test_map_hand_case_and_undefined_buckets():
    gts = [{"boxes": np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]]), "labels": np.array([0, 0])}]
    perfect = [{"boxes": gts[0]["boxes"], "scores": np.array([0.9, 0.8]), "labels": np.array([0, 0])}]
    out = mean_average_precision(perfect, gts)
    assert out["map"] == 1.0 and out["map_small"] == 1.0
    assert out["map_medium"] == -1.0 and out["map_large"] == -1.0  # no ground truth there: -1, as COCOeval
    half = [{"boxes": gts[0]["boxes"][:1], "scores": np.array([0.9]), "labels": np.array([0])}]
    assert mean_average_precision(half, gts)["map_50"] == pytest.approx(51 / 101)  # recall 0..0.5 at precision 1


def test_voc_ap_hand_cases():
    rec, prec = np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3])
    assert voc_ap(rec, prec) == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
    assert voc_ap(rec, prec, use_07_metric=True) == pytest.approx((6 * 1.0 + 5 * 2 / 3) / 11)


@pytest.mark.covers("D2")
def test_voc_matching_does_not_fall_back_to_second_best_gt():
    gts = [{"boxes": np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0]]), "labels": np.array([0, 0])}]
    # both detections overlap gt 0 most; the second also overlaps gt 1 with IoU 0.54
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [2.0, 0.0, 12.0, 10.0]])
    dets = [{"boxes": boxes, "scores": np.array([0.9, 0.8]), "labels": np.array([0, 0])}]
    voc = voc_mean_average_precision(dets, gts)
    coco = mean_average_precision(dets, gts, iou_thresholds=[0.5])
    assert voc["map"] == pytest.approx(0.5)   # second detection is a false positive in VOC
    assert coco["map"] == pytest.approx(1.0)  # COCO matches it to gt 1 (IoU 0.6 >= 0.5)


def test_bad_input():
    with pytest.raises(ValueError, match="mean_average_precision: got 1 detection entries but 2 ground truths"):
        mean_average_precision([{}], [{}, {}])
    with pytest.raises(ValueError, match=r"mean_average_precision: detections\[0\] must be a dict"):
        mean_average_precision([{"boxes": np.zeros((1, 4))}], [{"boxes": np.zeros((0, 4)), "labels": []}])
