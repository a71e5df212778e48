"""Datasets: `Dataset`, `TensorDataset`, `Subset`, `ConcatDataset`, `IterableDataset`, `random_split` (PyTorch's API).

A dataset maps an index to one sample.  A dataset that can also fetch a whole
batch at once with one fancy-indexing operation defines
`get_batch(indices) -> batch`; the `DataLoader` then skips the per-item loop
and the collate step (`TensorDataset` does this, and `Subset` passes it on).

Samples are returned as `deepnotes.Tensor`s; arrays are stored as NumPy arrays.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor


class Dataset:
    """An indexable collection of samples.  Subclasses define `__getitem__` and `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(data):
    return data._data if isinstance(data, Tensor) else np.asarray(data)


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays: `dataset[i] = (a[i], b[i], ...)`.

    Args:
        *tensors: NumPy arrays or Tensors with the same first dimension N,
            e.g. inputs `(N, D)` and labels `(N,)`.  They are not copied.

    Example:
        >>> import numpy as np
        >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
        >>> len(ds), ds[2][1].item()
        (5, 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one array or tensor, got none")
        arrays = tuple(_as_array(t) for t in tensors)
        sizes = [a.shape[0] if a.ndim else None for a in arrays]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"TensorDataset: all arrays must have the same first dimension (size), got shapes {shapes}"
            )
        self.arrays = arrays
        self.tensors = tuple(Tensor(a) for a in arrays)

    def __getitem__(self, index):
        return tuple(Tensor(a[index]) for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]

    def get_batch(self, indices):
        """The rows `indices` (an int array) of every array, as a tuple of arrays."""
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of `dataset` at `indices` (a sequence of ints), in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)


def _split_lengths(n, lengths):
    """Integer lengths from ints, or from fractions summing to 1 (PyTorch's rule)."""
    lengths = list(lengths)
    if all(isinstance(x, Integral) for x in lengths):
        lengths = [int(x) for x in lengths]
    elif all(isinstance(x, Real) for x in lengths) and math.isclose(sum(lengths), 1.0) and all(
        0 <= x <= 1 for x in lengths
    ):
        # floor each share, then hand out the remainder one by one from the first subset on
        fractions = lengths
        lengths = [int(math.floor(n * f)) for f in fractions]
        for i in range(n - sum(lengths)):
            lengths[i % len(lengths)] += 1
    else:
        raise ValueError(f"random_split: lengths must be ints or fractions summing to 1, got {lengths}")
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples")
    return lengths


def random_split(dataset, lengths, generator=None):
    """Split `dataset` at random into non-overlapping `Subset`s.

    Args:
        dataset: the dataset to split.
        lengths: the subsets' lengths (ints summing to `len(dataset)`) or
            fractions summing to 1; with fractions each subset gets
            `floor(n * f)` samples and the remainder is dealt one at a time
            from the first subset on (as PyTorch).
        generator: a `numpy.random.Generator`; the global deepnotes generator
            when omitted (so `manual_seed` makes the split reproducible).

    Returns:
        A list of `Subset`s.
    """
    n = len(dataset)
    lengths = _split_lengths(n, lengths)
    rng = generator if generator is not None else _random.default_generator()
    perm = rng.permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other (`ds_a + ds_b` builds one)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset, got none")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        index = index % n
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class IterableDataset(Dataset):
    """A dataset read as a stream: subclasses define `__iter__` (no indexing, no sampler)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__}: an IterableDataset is iterated, not indexed")


Dataset.__add__ = lambda self, other: ConcatDataset([self, other])
