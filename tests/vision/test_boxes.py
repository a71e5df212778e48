"""Boxes, IoU and GIoU (deepnotes.vision.boxes) against pycocotools, a rasterized brute force and hand cases."""
import numpy as np
import pytest
import torch
from pycocotools import mask as coco_mask

import deepnotes as dn
from deepnotes.vision import (
    box_area, box_convert, box_iou, clip_boxes_to_image, generalized_box_iou, generalized_box_iou_loss,
    remove_small_boxes,
)


def random_boxes(rng, n, span=100.0, integer=False):
    if integer:
        a, b = rng.integers(0, 20, (n, 2)), rng.integers(0, 20, (n, 2))
        return np.concatenate([np.minimum(a, b), np.maximum(a, b)], 1).astype(np.float64)
    xy = rng.uniform(0, span, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(0.1, span / 2, (n, 2))], 1)


def raster(box, size=20):
    """Unit cells [j, j+1] x [i, i+1] covered by an integer box, as a boolean grid."""
    grid = np.zeros((size, size), bool)
    x1, y1, x2, y2 = box.astype(int)
    grid[y1:y2, x1:x2] = True
    return grid


@pytest.mark.covers("D1")
@pytest.mark.parametrize("seed", range(3))
def test_iou_matches_pycocotools(seed):
    rng = np.random.default_rng(seed)
    b1, b2 = random_boxes(rng, 40), random_boxes(rng, 30)
    b2[:5] = b1[:5]  # some identical pairs
    expected = coco_mask.iou(box_convert(b1, "xyxy", "xywh"), box_convert(b2, "xyxy", "xywh"), [0] * len(b2))
    np.testing.assert_allclose(box_iou(b1, b2), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.covers("D1")
def test_iou_and_giou_match_rasterized_areas():
    rng = np.random.default_rng(7)
    b1, b2 = random_boxes(rng, 25, integer=True), random_boxes(rng, 25, integer=True)
    iou, giou = box_iou(b1, b2), generalized_box_iou(b1, b2)
    for i in range(len(b1)):
        for j in range(len(b2)):
            r1, r2 = raster(b1[i]), raster(b2[j])
            inter, union = (r1 & r2).sum(), (r1 | r2).sum()
            lo, hi = np.minimum(b1[i], b2[j])[:2], np.maximum(b1[i], b2[j])[2:]
            hull = raster(np.concatenate([lo, hi])).sum()
            want_iou = inter / union if union else 0.0
            want_giou = want_iou - ((hull - union) / hull if hull else 0.0)
            assert iou[i, j] == pytest.approx(want_iou, abs=1e-12), (b1[i], b2[j])
            assert giou[i, j] == pytest.approx(want_giou, abs=1e-12), (b1[i], b2[j])


@pytest.mark.covers("D1")
@pytest.mark.parametrize("a, b, iou, giou", [
    ([0, 0, 1, 1], [2, 0, 3, 1], 0.0, -1 / 3),        # disjoint: GIoU < 0 still measures the gap
    ([0, 0, 1, 1], [1, 0, 2, 1], 0.0, 0.0),           # touching along an edge: no overlap, no gap
    ([0, 0, 4, 4], [1, 1, 2, 2], 1 / 16, 1 / 16),     # nested: the hull is the outer box
    ([1, 2, 5, 7], [1, 2, 5, 7], 1.0, 1.0),           # identical
    ([0, 0, 2, 2], [1, 1, 3, 3], 1 / 7, 1 / 7 - 2 / 9),
    ([1, 1, 1, 1], [1, 1, 1, 1], 0.0, 0.0),           # two zero-area boxes: 0 by convention (not NaN)
    ([1, 0, 1, 2], [0, 0, 2, 2], 0.0, 0.0),           # a segment inside a box: zero area, IoU 0
    ([0, 0, 0, 0], [3, 3, 3, 3], 0.0, -1.0),          # two distant points: the hull is all gap
    ([0, 0, 0, 0], [0, 3, 0, 3], 0.0, 0.0),           # two points on a line: hull of zero area, penalty 0
])
def test_hand_cases(a, b, iou, giou):
    a, b = np.array([a], float), np.array([b], float)
    assert box_iou(a, b)[0, 0] == pytest.approx(iou, abs=1e-12)
    assert generalized_box_iou(a, b)[0, 0] == pytest.approx(giou, abs=1e-12)
    assert np.isfinite(box_iou(a, b)).all()


def test_continuous_coordinates_no_plus_one():
    assert box_area(np.array([[0.0, 0.0, 10.0, 5.0]]))[0] == 50.0  # not 11 * 6
    assert box_area(np.array([[2.0, 2.0, 2.0, 9.0]]))[0] == 0.0


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_convert_round_trip(fmt):
    b = random_boxes(np.random.default_rng(1), 10)
    np.testing.assert_allclose(box_convert(box_convert(b, "xyxy", fmt), fmt, "xyxy"), b, atol=1e-12)
    if fmt == "xywh":
        np.testing.assert_allclose(box_convert(b, "xyxy", "xywh")[:, 2:], b[:, 2:] - b[:, :2])
    else:
        np.testing.assert_allclose(box_convert(b, "xyxy", "cxcywh")[:, :2], (b[:, :2] + b[:, 2:]) / 2)


def torch_giou_loss(a, b, eps=1e-7):
    iw = (torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
    ih = (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0)
    inter = iw * ih
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    hull = (torch.maximum(a[:, 2], b[:, 2]) - torch.minimum(a[:, 0], b[:, 0])) * \
        (torch.maximum(a[:, 3], b[:, 3]) - torch.minimum(a[:, 1], b[:, 1]))
    return 1 - (inter / (union + eps) - (hull - union) / (hull + eps))


@pytest.mark.covers("D1")
def test_giou_loss_values_and_gradients():
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 12, span=10), random_boxes(rng, 12, span=10)
    ours_a, ours_b = dn.tensor(a, requires_grad=True), dn.tensor(b, requires_grad=True)
    loss = generalized_box_iou_loss(ours_a, ours_b, reduction="sum")
    loss.backward()
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tl = torch_giou_loss(ta, tb).sum()
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-10)
    np.testing.assert_allclose(np.asarray(ours_a.grad), ta.grad.numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(np.asarray(ours_b.grad), tb.grad.numpy(), rtol=1e-7, atol=1e-10)
    # the loss is 1 - GIoU of the matched pairs, and disjoint boxes still get a gradient
    per_pair = generalized_box_iou_loss(a, b).numpy()
    np.testing.assert_allclose(per_pair, 1 - np.diag(generalized_box_iou(a, b)), atol=1e-6)
    far = dn.tensor(np.array([[0.0, 0.0, 1.0, 1.0]]), requires_grad=True)
    generalized_box_iou_loss(far, np.array([[5.0, 5.0, 6.0, 6.0]])).sum().backward()
    assert np.abs(np.asarray(far.grad)).sum() > 0


def test_clip_and_remove_small():
    b = np.array([[-3.0, 2.0, 70.0, 30.0], [10.0, 10.0, 12.0, 40.0], [5.0, 5.0, 5.5, 9.0]])
    clipped = clip_boxes_to_image(b, (32, 64))
    np.testing.assert_array_equal(clipped[0], [0.0, 2.0, 64.0, 30.0])
    assert clipped[1, 3] == 32.0
    np.testing.assert_array_equal(remove_small_boxes(b, 1.0), [0, 1])
    np.testing.assert_array_equal(remove_small_boxes(b, 0.5), [0, 1, 2])  # >= min_size is kept


def test_bad_input_names_function_and_value():
    with pytest.raises(ValueError, match=r"box_iou: boxes1 must be xyxy with x1 <= x2.*\[5\.0, 0\.0, 1\.0, 1\.0\]"):
        box_iou(np.array([[5.0, 0.0, 1.0, 1.0]]), np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"box_iou: boxes2 must have shape \(N, 4\), got \(3,\)"):
        box_iou(np.zeros((1, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="box_convert: in_fmt must be one of"):
        box_convert(np.zeros((1, 4)), "xyz", "xyxy")
    with pytest.raises(ValueError, match="finite"):
        box_area(np.array([[0.0, 0.0, np.nan, 1.0]]))


@pytest.mark.parametrize("module", ["deepnotes.vision.boxes", "deepnotes.vision.nms", "deepnotes.vision.pyramid",
                                    "deepnotes.data.shapes"])
def test_docstring_examples_run(module):
    from tests.doctests import assert_examples_run

    assert_examples_run(module)
