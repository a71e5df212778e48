"""Gaussian image pyramid: blur, then keep every second pixel (inventory D4).

Burt & Adelson, "The Laplacian Pyramid as a Compact Image Code" (IEEE Trans. Commun., 1983):
level 0 is the image, and level l + 1 = subsample_2(g * level l), with g the separable 5-tap
binomial kernel w = [1, 4, 6, 4, 1] / 16 (g = w w^T), which approximates a Gaussian of
sigma ~ 1.  Blurring first removes the frequencies that subsampling would otherwise alias.
The blur is the project's convolution (`deepnotes.nn.functional.conv2d`, one depthwise 5 x 5
kernel per channel) on the image padded by reflection (no dark border).  Level l has size
floor(H / 2^l) x floor(W / 2^l) (the 1-based odd pixels are dropped: ``[::2]``).

Detectors use pyramids in two ways (SNIP, Singh & Davis 2018, discusses both): run one
single-scale detector on every level and merge the boxes (an image pyramid at test time), or
build the multi-scale features inside the network (FPN, `deepnotes.nn.FPN`).
`upsample2x` doubles an image (bilinear, `interpolate`) for the "2x image pyramid" that lets a
coarse detector see small objects at twice their size.

>>> import numpy as np
>>> [lvl.shape for lvl in gaussian_pyramid(np.zeros((1, 1, 16, 16), np.float32), levels=3)]
[(1, 1, 16, 16), (1, 1, 8, 8), (1, 1, 4, 4)]
"""
from __future__ import annotations

import numpy as np

BINOMIAL_5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _images(images, fn):
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):
        images = images.detach().numpy()
    x = np.asarray(images)
    if x.ndim != 4 or x.dtype.kind != "f":
        raise ValueError(f"{fn}: images must be a float (N, C, H, W) array, got shape {x.shape} dtype {x.dtype}")
    return x


def gaussian_blur(images) -> np.ndarray:
    """Blur (N, C, H, W) images with the 5 x 5 binomial kernel, reflect-padded; same shape."""
    import deepnotes as dn
    from deepnotes.nn import functional as F

    x = _images(images, "gaussian_blur")
    if min(x.shape[2:]) < 3:
        raise ValueError(f"gaussian_blur: images must be at least 3 x 3 (reflect padding by 2), got {x.shape[2:]}")
    c = x.shape[1]
    kernel = np.outer(BINOMIAL_5, BINOMIAL_5).astype(x.dtype)
    weight = np.broadcast_to(kernel, (c, 1, 5, 5)).copy()
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    with dn.no_grad():
        return F.conv2d(dn.tensor(padded), dn.tensor(weight), groups=c).numpy()


def pyr_down(images) -> np.ndarray:
    """One pyramid step: blur, then keep rows and columns 0, 2, 4, ... -> (N, C, H // 2, W // 2)."""
    x = _images(images, "pyr_down")
    h, w = x.shape[2] // 2, x.shape[3] // 2
    return np.ascontiguousarray(gaussian_blur(x)[:, :, 0:2 * h:2, 0:2 * w:2])


def gaussian_pyramid(images, levels=3) -> list:
    """[level 0 = images, level 1, ..., level levels-1], each half the previous size."""
    if not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"gaussian_pyramid: levels must be an int >= 1, got {levels!r}")
    out = [_images(images, "gaussian_pyramid")]
    for level in range(1, levels):
        if min(out[-1].shape[2:]) < 6:
            raise ValueError(f"gaussian_pyramid: level {level} would be smaller than 3 x 3 "
                             f"(input {out[0].shape[2:]}, {levels} levels)")
        out.append(pyr_down(out[-1]))
    return out


def upsample2x(images) -> np.ndarray:
    """Bilinear 2x enlargement (N, C, H, W) -> (N, C, 2H, 2W) (interpolate, align_corners=False)."""
    import deepnotes as dn
    from deepnotes.nn import functional as F

    x = _images(images, "upsample2x")
    with dn.no_grad():
        return F.interpolate(dn.tensor(x), scale_factor=2, mode="bilinear").numpy()
