"""Data augmentation transforms: shapes, exact geometry, reproducibility, noise statistics (inventory R5)."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.data.transforms import (
    Compose, GaussianNoise, Normalize, RandomCrop, RandomHorizontalFlip, RandomShift, RandomVerticalFlip, ToFloat,
)

SIGMAS = 5.0


def _images(shape=(16, 3, 6, 7), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------------------- flips


@pytest.mark.covers("R5")
@pytest.mark.parametrize("transform, axis", [(RandomHorizontalFlip(), -1), (RandomVerticalFlip(), -2)])
def test_flips_are_exact_reversals_chosen_per_sample(transform, axis):
    x = _images((400, 2, 3, 4))
    y = transform(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    flipped = np.all(y == np.flip(x, axis=axis), axis=(1, 2, 3))
    unchanged = np.all(y == x, axis=(1, 2, 3))
    assert np.all(flipped ^ unchanged)  # each sample is either reversed exactly or left alone
    assert abs(flipped.mean() - 0.5) <= SIGMAS * np.sqrt(0.25 / len(x))


@pytest.mark.covers("R5")
def test_flip_probability_extremes_and_single_sample():
    x = _images()
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(RandomVerticalFlip(p=0.0)(x), x)
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x[0]), x[0, :, :, ::-1])  # one (C, H, W) sample
    with pytest.raises(ValueError, match="RandomHorizontalFlip: p has to be between 0 and 1"):
        RandomHorizontalFlip(p=2)


# ----------------------------------------------------------------------------------- crop, shift


@pytest.mark.covers("R5")
@pytest.mark.parametrize("size, padding", [(4, 0), (6, 2), ((5, 7), 1), ((6, 7), (2, 3))])
def test_random_crop_returns_windows_of_the_zero_padded_input(size, padding):
    x = _images()
    crop = RandomCrop(size, padding)
    y = crop(x)
    h, w = crop.size
    ph, pw = crop.padding
    assert y.shape == x.shape[:2] + (h, w) and y.dtype == x.dtype
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    offsets = set()
    for i in range(len(x)):  # a test may loop; find the window each sample came from
        matches = [(t, l) for t in range(padded.shape[2] - h + 1) for l in range(padded.shape[3] - w + 1)
                   if np.array_equal(padded[i, :, t:t + h, l:l + w], y[i])]
        assert matches, f"sample {i} is not a window of the padded input"
        offsets.add(matches[0])
    positions = (padded.shape[2] - h + 1) * (padded.shape[3] - w + 1)
    assert len(offsets) > 1 or positions == 1  # offsets are drawn per sample


@pytest.mark.covers("R5")
def test_random_crop_single_sample_1d_and_errors():
    x = _images()[0]
    assert RandomCrop(4, padding=1)(x).shape == (3, 4, 4)
    signal = np.arange(10.0).reshape(1, 10)  # one (C, L) signal
    y = RandomCrop((6,))(signal)
    start = int(y[0, 0])
    np.testing.assert_array_equal(y, signal[:, start:start + 6])
    with pytest.raises(ValueError, match="RandomCrop: crop size"):
        RandomCrop(9)(x)
    with pytest.raises(ValueError, match=r"RandomCrop: expected one sample with 3 axes or a batch with 4"):
        RandomCrop(2)(x[0])


@pytest.mark.covers("R5")
def test_random_shift_of_signals_is_a_zero_filled_translation():
    max_shift = 3
    x = np.random.default_rng(0).uniform(1, 2, size=(500, 20))  # channel-less signals (N, L): no zeros
    y = RandomShift(max_shift, sample_ndim=1)(x)
    assert y.shape == x.shape
    seen = set()
    for i in range(len(x)):
        # Recover the shift from where the signal's first value landed (or from the zero prefix).
        shift = int(np.argmax(y[i] != 0)) if y[i, 0] == 0 else -int(np.flatnonzero(x[i] == y[i, 0])[0])
        seen.add(shift)
        expected = np.zeros_like(x[i])
        if shift >= 0:
            expected[shift:] = x[i, :20 - shift]
        else:
            expected[:shift] = x[i, -shift:]
        np.testing.assert_array_equal(y[i], expected)
    assert seen == set(range(-max_shift, max_shift + 1))


@pytest.mark.covers("R5")
def test_random_shift_of_images_moves_all_channels_together():
    x = np.random.default_rng(1).uniform(1, 2, size=(50, 3, 8, 8))
    y = RandomShift(2, dims=2)(x)
    assert y.shape == x.shape
    # Same zero pattern in every channel of a sample: one shift per sample, not per channel.
    zeros = y == 0
    np.testing.assert_array_equal(zeros, np.broadcast_to(zeros[:, :1], zeros.shape))
    # Each image is a window of the zero-padded input.
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(len(x)):
        assert any(np.array_equal(padded[i, :, t:t + 8, l:l + 8], y[i]) for t in range(5) for l in range(5))


# ------------------------------------------------------------------------ noise, normalize, float


@pytest.mark.covers("R5")
def test_gaussian_noise_has_the_requested_std():
    std, n = 0.3, 200_000
    x = np.full(n, 2.0, dtype=np.float32)
    noise = GaussianNoise(std)(x).astype(np.float64) - 2.0
    # Sample std of n Gaussians has standard error std / sqrt(2 n).
    assert abs(noise.std() - std) <= SIGMAS * std / np.sqrt(2 * n)
    assert abs(noise.mean()) <= SIGMAS * std / np.sqrt(n)
    assert GaussianNoise(std)(x).dtype == np.float32
    assert GaussianNoise(0.1)(np.zeros(3, dtype=np.uint8)).dtype == np.float32


@pytest.mark.covers("R5")
def test_normalize_per_channel_and_to_float():
    x = _images((8, 3, 4, 4)) * np.array([1.0, 2.0, 3.0], dtype=np.float32).reshape(1, 3, 1, 1) + 5
    mean, std = x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3))
    y = Normalize(mean, std)(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, rtol=1e-5)
    np.testing.assert_allclose(Normalize(mean, std)(x[3]), y[3], rtol=1e-6)  # one sample the same
    signals = np.ones((4, 2, 5))
    np.testing.assert_array_equal(Normalize([1.0, 0.0], [1.0, 2.0], sample_ndim=2)(signals)[:, 1], 0.5)
    pixels = np.array([[0, 255]], dtype=np.uint8)
    np.testing.assert_allclose(ToFloat(scale=1 / 255)(pixels), [[0.0, 1.0]])
    assert ToFloat()(pixels).dtype == np.float32


# ------------------------------------------------------------------------- compose, reproducibility


@pytest.mark.covers("R5")
def test_same_seed_same_augmentation_and_explicit_generators():
    pipeline = Compose([RandomCrop(6, padding=2), RandomHorizontalFlip(), RandomShift(1, dims=2), GaussianNoise(0.1)])
    x = _images()
    dn.manual_seed(5)
    first = pipeline(x)
    second = pipeline(x)
    dn.manual_seed(5)
    np.testing.assert_array_equal(pipeline(x), first)
    assert not np.array_equal(first, second)
    a = pipeline(x, np.random.default_rng(1))
    np.testing.assert_array_equal(pipeline(x, np.random.default_rng(1)), a)
    assert first.shape == x.shape[:2] + (6, 6)
    assert "RandomCrop(size=(6, 6), padding=(2, 2))" in repr(pipeline)


@pytest.mark.covers("R5")
def test_transforms_do_not_modify_their_input():
    x = _images()
    before = x.copy()
    for t in (RandomCrop(5, 1), RandomHorizontalFlip(1.0), RandomVerticalFlip(1.0), RandomShift(2, dims=2),
              GaussianNoise(1.0), Normalize(1.0, 2.0), ToFloat()):
        t(x)
    np.testing.assert_array_equal(x, before)
