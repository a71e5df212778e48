"""The synthetic detection data set: seeded, boxes exact and inside the image, sizes 4-32 px."""
import numpy as np
import pytest

from deepnotes.data.shapes import AREA_RANGES, CLASSES, load_shapes, make_shapes
from deepnotes.vision import box_iou


@pytest.fixture(scope="module")
def split():
    return load_shapes(n_train=60, n_test=20, seed=3)


def test_seeded_and_independent_streams(split):
    again = load_shapes(n_train=60, n_test=20, seed=3)
    np.testing.assert_array_equal(split.x_train, again.x_train)
    np.testing.assert_array_equal(split.y_test[4]["boxes"], again.y_test[4]["boxes"])
    other = load_shapes(n_train=60, n_test=20, seed=4)
    assert not np.array_equal(split.x_train, other.x_train)
    assert not np.array_equal(split.x_train[:20], split.x_test)


@pytest.mark.covers("D2")
def test_boxes_classes_and_sizes(split):
    assert split.x_train.shape == (60, 1, 64, 64) and split.x_train.dtype == np.float32
    boxes = np.concatenate([t["boxes"] for t in split.y_train])
    labels = np.concatenate([t["labels"] for t in split.y_train])
    assert all(2 <= len(t["boxes"]) <= 5 for t in split.y_train)
    assert boxes.min() >= 0 and boxes.max() <= 64
    side = boxes[:, 2] - boxes[:, 0]
    np.testing.assert_allclose(side, boxes[:, 3] - boxes[:, 1], rtol=1e-5)  # square boxes
    assert side.min() >= 4 - 1e-4 and side.max() <= 32 + 1e-4
    assert set(labels.tolist()) == {0, 1, 2} and len(CLASSES) == 3
    area = side**2
    for lo, hi in AREA_RANGES.values():  # each size bucket holds a fair share of the objects
        assert 0.15 < np.mean((area >= lo) & (area < hi)) < 0.6
    for t in split.y_train:  # no two objects overlap
        iou = box_iou(t["boxes"], t["boxes"])
        assert (iou[~np.eye(len(iou), dtype=bool)] == 0).all()


def test_pixels_show_the_shapes():
    images, targets = make_shapes(30, noise=0.0, seed=1)
    outside = []
    for img, t in zip(images[:, 0], targets):
        mask = np.zeros(img.shape, bool)
        for (x1, y1, x2, y2), label in zip(t["boxes"], t["labels"]):
            r0, r1, c0, c1 = int(np.ceil(y1)), int(y2), int(np.ceil(x1)), int(x2)
            mask[int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))] = True
            if label == 0 and r1 > r0 and c1 > c0:  # the pixels fully inside a square are the shape's intensity
                core = img[r0:r1, c0:c1]
                assert np.ptp(core) < 1e-6 and core.min() >= 0.5 - 1e-6
        outside.append(img[~mask])
    outside = np.concatenate(outside)
    assert outside.max() <= 0.3 + 1e-6  # the background level, no noise here


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"make_shapes: need 0 < min_size <= max_size <= image_size, got 10, 5"):
        make_shapes(2, min_size=10, max_size=5)
