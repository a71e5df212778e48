"""A synthetic object-detection data set: squares, circles and triangles on noisy backgrounds.

Generated offline from a seed (nothing is downloaded).  Each 64 x 64 grayscale image holds
``min_objects .. max_objects`` shapes whose sides are drawn log-uniformly between `min_size`
(4 px) and `max_size` (32 px), so the small, medium and large buckets of `AREA_RANGES` get
about a third of the objects each.  Shapes are placed so that no two boxes overlap (no
occlusion; up to 30 draws, a shape that cannot be placed is dropped).

Classes: 0 = square, 1 = circle, 2 = triangle (apex up).  The box of every shape is its exact
bounding box in continuous coordinates (see `deepnotes.vision.boxes`): a square of side s at
(x, y) has box (x, y, x + s, y + s), a circle of radius r at (cx, cy) has (cx - r, cy - r,
cx + r, cy + r).  Pixel (i, j) covers [j, j + 1] x [i, i + 1]; its value is the fraction of it
the shape covers (estimated on a 4 x 4 grid of sub-pixel points), times the shape's intensity
(0.5 .. 1), over a background of level 0 .. 0.3 with Gaussian noise (std `noise`).

>>> split = load_shapes(n_train=4, n_test=2, seed=0)
>>> split.x_train.shape, split.x_train.dtype
((4, 1, 64, 64), dtype('float32'))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES = ("square", "circle", "triangle")
AREA_RANGES = {"small": (0.0, 8.0**2), "medium": (8.0**2, 16.0**2), "large": (16.0**2, 1e10)}
_SUB = 4  # sub-pixel samples per axis


@dataclass(frozen=True, repr=False)
class DetectionSplit:
    """Train and test images with their boxes.

    Attributes:
        x_train, x_test: (N, 1, H, W) float32 images.
        y_train, y_test: one dict per image, {"boxes": (G, 4) float32 xyxy, "labels": (G,) int64}.
        classes: the class names (label i is classes[i]).
        area_ranges: the size buckets for `mean_average_precision`, in squared pixels.
    """

    x_train: np.ndarray
    y_train: list
    x_test: np.ndarray
    y_test: list
    classes: tuple = CLASSES
    area_ranges: dict = None
    name: str = "shapes"

    @property
    def num_classes(self):
        return len(self.classes)

    def __repr__(self):
        return f"DetectionSplit(name={self.name!r}, x_train={self.x_train.shape}, x_test={self.x_test.shape})"


def _iou(box, boxes):
    if not boxes:
        return np.zeros(0)
    b = np.asarray(boxes)
    w = np.clip(np.minimum(box[2], b[:, 2]) - np.maximum(box[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], b[:, 3]) - np.maximum(box[1], b[:, 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / (area(box) + area(b) - inter)


def _coverage(kind, box, xs, ys):
    """Fraction of each pixel covered by the shape, from sub-pixel points xs, ys (H*S, W*S)."""
    x1, y1, x2, y2 = box
    if kind == 0:
        inside = (xs >= x1) & (xs <= x2) & (ys >= y1) & (ys <= y2)
    elif kind == 1:
        r = (x2 - x1) / 2
        inside = (xs - (x1 + r)) ** 2 + (ys - (y1 + r)) ** 2 <= r * r
    else:  # apex (cx, y1), base from (x1, y2) to (x2, y2): |x - cx| <= (y - y1) / 2
        cx, s = (x1 + x2) / 2, x2 - x1
        inside = (ys >= y1) & (ys <= y2) & (np.abs(xs - cx) <= (ys - y1) * (s / 2) / (y2 - y1))
    h, w = xs.shape[0] // _SUB, xs.shape[1] // _SUB
    return inside.reshape(h, _SUB, w, _SUB).mean(axis=(1, 3))


def make_shapes(n_images, image_size=64, min_size=4.0, max_size=32.0, min_objects=2, max_objects=5,
                noise=0.1, seed=0):
    """Generate `n_images` images (n, 1, S, S) float32 and their targets (see the module docstring)."""
    if n_images < 0 or image_size < 8:
        raise ValueError(f"make_shapes: need n_images >= 0 and image_size >= 8, got {n_images}, {image_size}")
    if not 0 < min_size <= max_size <= image_size:
        raise ValueError(f"make_shapes: need 0 < min_size <= max_size <= image_size, got {min_size}, {max_size}")
    if not 1 <= min_objects <= max_objects:
        raise ValueError(f"make_shapes: need 1 <= min_objects <= max_objects, got {min_objects}, {max_objects}")
    rng = np.random.default_rng(seed)
    grid = (np.arange(image_size * _SUB) + 0.5) / _SUB
    xs, ys = np.meshgrid(grid, grid)
    images = np.empty((n_images, 1, image_size, image_size), np.float32)
    targets = []
    for n in range(n_images):
        img = np.full((image_size, image_size), rng.uniform(0.0, 0.3))
        boxes, labels = [], []
        for _ in range(rng.integers(min_objects, max_objects + 1)):
            kind = int(rng.integers(0, len(CLASSES)))
            for _attempt in range(30):
                s = float(np.exp(rng.uniform(np.log(min_size), np.log(max_size))))
                x, y = rng.uniform(0, image_size - s, size=2)
                box = np.array([x, y, x + s, y + s])
                if not (_iou(box, boxes) > 0).any():
                    break
            else:
                continue
            r0, r1 = int(box[1]), min(int(np.ceil(box[3])), image_size)  # only the pixels the box touches
            c0, c1 = int(box[0]), min(int(np.ceil(box[2])), image_size)
            window = (slice(r0 * _SUB, r1 * _SUB), slice(c0 * _SUB, c1 * _SUB))
            cover = _coverage(kind, box, xs[window], ys[window])
            patch = img[r0:r1, c0:c1]
            img[r0:r1, c0:c1] = patch * (1 - cover) + rng.uniform(0.5, 1.0) * cover
            boxes.append(box)
            labels.append(kind)
        images[n, 0] = img + rng.normal(0.0, noise, img.shape)
        targets.append({"boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
                        "labels": np.asarray(labels, np.int64)})
    return images, targets


def load_shapes(n_train=2000, n_test=300, image_size=64, seed=0, **kwargs) -> DetectionSplit:
    """The shapes data set: train and test images drawn from independent streams of `seed`."""
    x_train, y_train = make_shapes(n_train, image_size, seed=[seed, 0], **kwargs)
    x_test, y_test = make_shapes(n_test, image_size, seed=[seed, 1], **kwargs)
    return DetectionSplit(x_train, y_train, x_test, y_test, CLASSES, dict(AREA_RANGES))
