"""Gaussian image pyramid: against SciPy's mirror-mode correlation and PyTorch's bilinear resize."""
import numpy as np
import pytest
import torch
from scipy import ndimage

from deepnotes.vision.pyramid import BINOMIAL_5, gaussian_blur, gaussian_pyramid, pyr_down, upsample2x


@pytest.mark.covers("D4")
def test_blur_matches_scipy_mirror_correlation():
    x = np.random.default_rng(0).normal(size=(2, 3, 13, 10))
    kernel = np.outer(BINOMIAL_5, BINOMIAL_5)
    want = ndimage.correlate(x, kernel[None, None], mode="mirror")
    np.testing.assert_allclose(gaussian_blur(x), want, atol=1e-12)
    assert BINOMIAL_5.sum() == 1.0


@pytest.mark.covers("D4")
def test_pyramid_levels_sizes_and_values():
    x = np.random.default_rng(1).random((1, 1, 37, 24)).astype(np.float32)
    levels = gaussian_pyramid(x, levels=3)
    assert [lvl.shape[2:] for lvl in levels] == [(37, 24), (18, 12), (9, 6)]
    np.testing.assert_allclose(levels[1], gaussian_blur(x)[:, :, 0:36:2, 0:24:2], atol=1e-6)
    np.testing.assert_allclose(levels[2], pyr_down(levels[1]), atol=1e-6)
    flat = np.full((1, 2, 16, 16), 0.25, np.float32)  # a constant image stays constant (no dark border)
    np.testing.assert_allclose(gaussian_pyramid(flat, 3)[2], 0.25, atol=1e-6)


def test_pyramid_removes_what_subsampling_would_alias():
    checker = np.indices((32, 32)).sum(0) % 2  # the highest frequency: aliases to a constant
    x = checker[None, None].astype(np.float64)
    assert np.ptp(pyr_down(x)[0, 0, 2:-2, 2:-2]) < 1e-12  # blurred flat, at the mean 0.5
    assert pyr_down(x)[0, 0, 5, 5] == pytest.approx(0.5)
    assert np.ptp(x[0, 0, ::2, ::2]) == 0 and x[0, 0, 0, 0] == 0  # plain subsampling: all zeros, mean lost


def test_upsample2x_matches_torch_bilinear():
    x = np.random.default_rng(2).random((2, 1, 8, 6))
    want = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(upsample2x(x), want.numpy(), atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match=r"gaussian_pyramid: levels must be an int >= 1, got 0"):
        gaussian_pyramid(np.zeros((1, 1, 8, 8)), 0)
    with pytest.raises(ValueError, match=r"gaussian_blur: images must be a float \(N, C, H, W\) array"):
        gaussian_blur(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="gaussian_pyramid: level 2 would be smaller"):
        gaussian_pyramid(np.zeros((1, 1, 8, 8)), 4)
