"""Data augmentation and preprocessing on NumPy arrays (inventory R5).

Augmentation trains on random label-preserving variants of each example (a
shifted digit is the same digit), which multiplies the effective data and
teaches the invariances the variants span.

Every transform is called as `transform(x, generator=None)`:

- `x` is one sample or a batch.  A sample has `sample_ndim` axes — (C, H, W)
  for images (the default, 3), (C, L) for 1-D signals — and a batch has one
  more, leading axis: (N, C, H, W).  Inputs of any other rank raise a
  ValueError.  Each sample of a batch gets its own random draw, computed for
  the whole batch at once (no Python loop over samples).
- `generator` is a NumPy Generator; by default the global one,
  `deepnotes.random.default_generator()`, read at call time so that
  `dn.manual_seed(s)` reproduces the augmentation.

Transforms return new arrays (the input is never modified) with the input's
shape and dtype, except `ToFloat` (dtype) and `RandomCrop` (crop size).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import random as _random


def _rng(generator):
    return generator if generator is not None else _random.default_generator()


def _as_batch(name, x, sample_ndim):
    """(x as a batch (N, *sample), whether x was one sample)."""
    x = np.asarray(x)
    if x.ndim == sample_ndim:
        return x[None], True
    if x.ndim == sample_ndim + 1:
        return x, False
    raise ValueError(
        f"{name}: expected one sample with {sample_ndim} axes or a batch with {sample_ndim + 1}, "
        f"got an array of shape {x.shape}"
    )


def _per_sample(values, ndim):
    """Values of shape (N,) reshaped to (N, 1, ..., 1) to broadcast over a batch of rank `ndim`."""
    return values.reshape((-1,) + (1,) * (ndim - 1))


def _windows(batch, starts, size):
    """batch[n, ..., starts[n, 0]:+size[0], starts[n, 1]:+size[1], ...] for every n, in one gather.

    batch: (N, *lead, *spatial); starts: (N, k) integer offsets into the last
    k = len(size) axes.  `sliding_window_view` gives every window as a view
    (N, *lead, *positions, *size); indexing the positions by each sample's
    offsets picks its window.
    """
    k = len(size)
    spatial_axes = tuple(range(batch.ndim - k, batch.ndim))
    views = sliding_window_view(batch, size, axis=spatial_axes)  # (N, *lead, *positions, *size)
    n = batch.shape[0]
    lead = (slice(None),) * (batch.ndim - 1 - k)
    # Integer arrays separated by slices: NumPy puts their broadcast axis (N) first -> (N, *lead, *size).
    return views[(np.arange(n),) + lead + tuple(starts[:, j] for j in range(k))].copy()


def _pad_spatial(batch, padding):
    """Zero-pad the last len(padding) axes of `batch` by padding[j] on both sides."""
    k = len(padding)
    widths = [(0, 0)] * (batch.ndim - k) + [(p, p) for p in padding]
    return np.pad(batch, widths, mode="constant")


class Compose:
    """Apply transforms in order: Compose([RandomCrop(28, padding=2), RandomHorizontalFlip()])."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x, generator=None):
        for transform in self.transforms:
            x = transform(x, generator)
        return x

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t!r},\n" for t in self.transforms) + ")"


class RandomCrop:
    """A random window of size `size` from the zero-padded input.

    Args:
        size: int (a square H x W crop of an image) or tuple of crop sizes for
            the last len(size) axes (e.g. (L,) for 1-D signals (C, L)).
        padding: zeros added on both sides of each cropped axis first (int or
            tuple); with size equal to the input size this is "pad and crop",
            the standard CIFAR augmentation (random shifts of up to `padding`).

    x: (C, H, W) or (N, C, H, W) -> (C, *size) or (N, C, *size).
    """

    def __init__(self, size, padding=0):
        self.size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
        k = len(self.size)
        self.padding = (int(padding),) * k if np.isscalar(padding) else tuple(int(p) for p in padding)
        if len(self.padding) != k:
            raise ValueError(f"RandomCrop: padding {padding} must give one value per cropped axis ({k})")
        self.sample_ndim = k + 1

    def __call__(self, x, generator=None):
        batch, single = _as_batch("RandomCrop", x, self.sample_ndim)
        padded = _pad_spatial(batch, self.padding)
        room = np.array(padded.shape[-len(self.size):]) - np.array(self.size)
        if np.any(room < 0):
            raise ValueError(
                f"RandomCrop: crop size {self.size} is larger than the padded input {padded.shape[-len(self.size):]}"
            )
        starts = _rng(generator).integers(0, room + 1, size=(len(batch), len(self.size)))
        out = _windows(padded, starts, self.size)
        return out[0] if single else out

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomShift:
    """Translate each sample by a random integer offset in [-max_shift, max_shift] per axis, filling with zeros.

    Args:
        max_shift: the largest shift, in samples / pixels.
        dims: how many trailing axes to shift: 1 for signals (C, L), 2 for images (C, H, W).
        sample_ndim: the rank of one sample; default dims + 1 (a channel axis
            first).  Use sample_ndim=1 for channel-less signals (L,) / batches (N, L).

    out[..., i] = x[..., i - shift] where 0 <= i - shift < L, else 0.
    """

    def __init__(self, max_shift, dims=1, sample_ndim=None):
        self.max_shift, self.dims = int(max_shift), int(dims)
        self.sample_ndim = self.dims + 1 if sample_ndim is None else int(sample_ndim)
        if self.max_shift < 0 or self.dims < 1 or self.sample_ndim < self.dims:
            raise ValueError(f"RandomShift: need max_shift >= 0 and 1 <= dims <= sample_ndim, got {self!r}")

    def __call__(self, x, generator=None):
        batch, single = _as_batch("RandomShift", x, self.sample_ndim)
        shifts = _rng(generator).integers(-self.max_shift, self.max_shift + 1, size=(len(batch), self.dims))
        # Shifting by s is cropping the padded input at offset max_shift - s.
        padded = _pad_spatial(batch, (self.max_shift,) * self.dims)
        out = _windows(padded, self.max_shift - shifts, batch.shape[-self.dims:])
        return out[0] if single else out

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift}, dims={self.dims}, sample_ndim={self.sample_ndim})"


class _RandomFlip:
    axis = -1

    def __init__(self, p=0.5, sample_ndim=3):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p has to be between 0 and 1, got {p}")
        self.p, self.sample_ndim = p, int(sample_ndim)

    def __call__(self, x, generator=None):
        batch, single = _as_batch(type(self).__name__, x, self.sample_ndim)
        flip = _rng(generator).random(len(batch)) < self.p
        out = np.where(_per_sample(flip, batch.ndim), np.flip(batch, axis=self.axis), batch)
        return out[0] if single else out

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror each sample left-right (reverse the last axis, W) with probability p.  x: (C, H, W) or (N, C, H, W)."""

    axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror each sample upside down (reverse axis -2, H) with probability p.  x: (C, H, W) or (N, C, H, W)."""

    axis = -2


class GaussianNoise:
    """x + N(mean, std^2) noise, independent per element; float inputs keep their dtype, others become float32.

    Works on one sample or a batch of any shape (the noise is elementwise).
    """

    def __init__(self, std, mean=0.0):
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std, self.mean = float(std), float(mean)

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        x = x if x.dtype.kind == "f" else x.astype(np.float32)
        noise = _rng(generator).standard_normal(x.shape).astype(x.dtype, copy=False)
        return x + (noise * self.std + self.mean)

    def __repr__(self):
        return f"GaussianNoise(std={self.std}, mean={self.mean})"


class Normalize:
    """Per-channel standardization: (x - mean[c]) / std[c].

    Args:
        mean, std: one value per channel (or scalars).
        sample_ndim: the rank of one sample (3 for (C, H, W), 2 for (C, L));
            the channel axis is the first axis of a sample.
    Deterministic; `generator` is accepted for a uniform interface.
    """

    def __init__(self, mean, std, sample_ndim=3):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be nonzero, got {std}")
        self.sample_ndim = int(sample_ndim)

    def __call__(self, x, generator=None):
        batch, single = _as_batch("Normalize", x, self.sample_ndim)
        dtype = batch.dtype if batch.dtype.kind == "f" else np.float32
        shape = (-1,) + (1,) * (self.sample_ndim - 1)
        mean = self.mean.reshape(shape).astype(dtype) if self.mean.ndim else self.mean.astype(dtype)
        std = self.std.reshape(shape).astype(dtype) if self.std.ndim else self.std.astype(dtype)
        out = (batch.astype(dtype, copy=False) - mean) / std
        return out[0] if single else out

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class ToFloat:
    """x.astype(dtype) * scale; e.g. ToFloat(scale=1 / 255) for uint8 images.  Any shape."""

    def __init__(self, dtype=np.float32, scale=1.0):
        self.dtype, self.scale = np.dtype(dtype), float(scale)

    def __call__(self, x, generator=None):
        out = np.asarray(x).astype(self.dtype)
        return out * self.scale if self.scale != 1.0 else out

    def __repr__(self):
        return f"ToFloat(dtype={self.dtype}, scale={self.scale})"
