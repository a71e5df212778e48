"""Anchors, box coding, matching and hard negative mining: formulas, round trips and hand cases."""
import math

import numpy as np
import pytest

from deepnotes.vision import AnchorGenerator, BoxCoder, SSDAnchorGenerator, hard_negative_mining, match_anchors
from deepnotes.vision.anchors import BACKGROUND, IGNORED


def centres_and_sizes(boxes):
    return (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]


@pytest.mark.covers("D2")
def test_ssd300_has_8732_default_boxes_with_papers_scales():
    ratios = [(1, 2, 0.5), (1, 2, 0.5, 3, 1 / 3), (1, 2, 0.5, 3, 1 / 3), (1, 2, 0.5, 3, 1 / 3), (1, 2, 0.5), (1, 2, 0.5)]
    gen = SSDAnchorGenerator(300, num_maps=6, s_min=0.2, s_max=0.9, aspect_ratios=ratios)
    sizes = [38, 19, 10, 5, 3, 1]
    levels = gen(sizes)
    assert sum(len(a) for a in levels) == 8732
    assert gen.num_anchors_per_location() == [4, 6, 6, 6, 4, 4]
    for k, (fs, anchors) in enumerate(zip(sizes, levels)):
        s_k = 0.2 + 0.7 * k / 5
        s_next = 0.2 + 0.7 * (k + 1) / 5
        a = gen.num_anchors_per_location()[k]
        centre, wh = centres_and_sizes(anchors.reshape(fs, fs, a, 4).reshape(-1, 4))
        grid = centre.reshape(fs, fs, a, 2)
        # centres ((j + 0.5) / |f_k|, (i + 0.5) / |f_k|) times the image side, row-major
        np.testing.assert_allclose(grid[2 % fs, 1 % fs, 0], [(1 % fs + 0.5) * 300 / fs, (2 % fs + 0.5) * 300 / fs])
        wh = wh.reshape(fs, fs, a, 2)[0, 0]
        want = [(s_k * math.sqrt(r) * 300, s_k / math.sqrt(r) * 300) for r in dict.fromkeys([1.0, *ratios[k]])]
        want.append((math.sqrt(s_k * s_next) * 300,) * 2)
        np.testing.assert_allclose(wh, want, rtol=1e-12)


@pytest.mark.covers("D2")
def test_faster_rcnn_anchors_per_stride():
    gen = AnchorGenerator(sizes=((32, 64), (128,)), aspect_ratios=((0.5, 1.0, 2.0),))
    levels = gen([(4, 6), (2, 3)], strides=[16, 32])
    assert [len(a) for a in levels] == [4 * 6 * 6, 2 * 3 * 3]
    centre, wh = centres_and_sizes(levels[0])
    per_cell = centre.reshape(4, 6, 6, 2)
    np.testing.assert_allclose(per_cell[3, 5], np.tile([(5 + 0.5) * 16, (3 + 0.5) * 16], (6, 1)))
    area, ratio = wh[:, 0] * wh[:, 1], wh[:, 0] / wh[:, 1]
    np.testing.assert_allclose(area[:6], [32**2] * 3 + [64**2] * 3)
    np.testing.assert_allclose(ratio[:6], [0.5, 1.0, 2.0] * 2)


@pytest.mark.covers("D2")
def test_box_coder_round_trip_and_formula():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (200, 2))
    anchors = np.concatenate([xy, xy + rng.uniform(2, 50, (200, 2))], 1)
    xy = rng.uniform(0, 100, (200, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(1, 60, (200, 2))], 1)
    coder = BoxCoder()
    deltas = coder.encode(boxes, anchors)
    np.testing.assert_allclose(coder.decode(deltas, anchors), boxes, atol=1e-6)
    d = rng.normal(0, 1, (200, 4))
    np.testing.assert_allclose(coder.encode(coder.decode(d, anchors), anchors), d, atol=1e-6)
    # one hand case: anchor (0, 0, 10, 20), box centred 1 px right and twice as wide
    t = coder.encode(np.array([[-4.0, 0.0, 16.0, 20.0]]), np.array([[0.0, 0.0, 10.0, 20.0]]))[0]
    np.testing.assert_allclose(t, [10 * 1 / 10, 0.0, 5 * math.log(2), 0.0], atol=1e-12)
    # a wild prediction is clipped, not overflowed
    assert np.isfinite(coder.decode(np.array([[0, 0, 1e4, 1e4]]), anchors[:1])).all()


@pytest.mark.covers("D2")
def test_matching_hand_cases():
    anchors = np.array([[0, 0, 10, 10], [0, 0, 9, 10], [20, 20, 30, 30], [40, 40, 44, 44], [100, 100, 110, 110]], float)
    gts = np.array([[0, 0, 10, 10], [41, 41, 43, 43]], float)
    matches, ious = match_anchors(anchors, gts, high=0.5, low=0.4)
    # anchor 0 and 1 (IoU 0.9) go to gt 0; anchor 3 overlaps gt 1 with IoU 0.25 < low, but it is gt 1's
    # best anchor, so the small object still gets one positive; the rest are background
    np.testing.assert_array_equal(matches, [0, 0, BACKGROUND, 1, BACKGROUND])
    np.testing.assert_allclose(ious[[0, 1, 3]], [1.0, 0.9, 0.25])
    matches, _ = match_anchors(anchors, gts, high=0.5, low=0.4, allow_low_quality_matches=False)
    np.testing.assert_array_equal(matches, [0, 0, BACKGROUND, BACKGROUND, BACKGROUND])
    # the ignored band: IoU in [low, high)
    matches, _ = match_anchors(anchors, np.array([[0, 0, 10, 4.5]]), high=0.5, low=0.4, allow_low_quality_matches=False)
    assert matches[0] == IGNORED
    # no ground truth: all background
    np.testing.assert_array_equal(match_anchors(anchors, np.zeros((0, 4)))[0], [BACKGROUND] * 5)


def test_matching_two_gts_want_the_same_anchor():
    anchors = np.array([[0, 0, 10, 10], [50, 50, 60, 60]], float)
    gts = np.array([[0, 0, 5, 5], [0, 0, 8, 8]], float)  # both best with anchor 0; gt 1 overlaps more
    matches, _ = match_anchors(anchors, gts, high=0.7)
    assert matches[0] == 1


@pytest.mark.covers("D2")
def test_hard_negative_mining_keeps_three_negatives_per_positive():
    rng = np.random.default_rng(1)
    labels = rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, -1], size=(6, 40))
    labels[5] = 0  # an image without objects
    loss = rng.random((6, 40))
    mask = hard_negative_mining(loss, labels, neg_pos_ratio=3)
    for i in range(6):
        pos = labels[i] > 0
        neg = np.flatnonzero(labels[i] == 0)
        k = min(3 * pos.sum(), len(neg))
        hardest = neg[np.argsort(-loss[i, neg], kind="stable")[:k]]
        want = pos.copy()
        want[hardest] = True
        np.testing.assert_array_equal(mask[i], want)
        assert not mask[i][labels[i] < 0].any()
    assert hard_negative_mining(loss, labels, 3, min_negatives=2)[5].sum() == 2


def test_bad_input():
    with pytest.raises(ValueError, match=r"match_anchors: need 0 <= low <= high <= 1, got low=0.6, high=0.5"):
        match_anchors(np.zeros((1, 4)), np.zeros((1, 4)), high=0.5, low=0.6)
    with pytest.raises(ValueError, match="BoxCoder: weights must be 4 positive numbers"):
        BoxCoder((1, 1, 1))
    with pytest.raises(ValueError, match="SSDAnchorGenerator: expected 1 feature maps, got 2"):
        SSDAnchorGenerator(64)([4, 2])
