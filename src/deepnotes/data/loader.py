"""`DataLoader`, samplers and collation: mini-batches from a dataset (inventory O1).

One pass over the loader is one epoch.  A sampler decides the order of the
sample indices (in order, shuffled, weighted); the loader cuts that order
into batches of `batch_size` and turns each batch into tensors.  The batch
size chooses the flavour of gradient descent: `batch_size=len(dataset)` is
full-batch gradient descent, `batch_size=1` is stochastic gradient descent in
the original sense, anything between is mini-batch gradient descent.

Reproducibility: a shuffling loader owns a NumPy `Generator`, seeded from the
global deepnotes generator when the loader is built (or given explicitly).
Every epoch draws a new permutation from it, so epochs differ from each other
while a run started after `manual_seed(s)` is repeated exactly.  Its state is
in `loader.state_dict()`, so a checkpoint can resume the shuffling too.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Number

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor
from .dataset import Subset

# ------------------------------------------------------------------ samplers


class Sampler:
    """An iterable over sample indices; `__len__` is the number of indices per epoch."""

    def __iter__(self):
        return iter(self.indices().tolist())

    def indices(self) -> np.ndarray:
        """All the indices of one epoch as an int64 array (draws new ones each call)."""
        raise NotImplementedError(f"{type(self).__name__} must define indices()")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices, new every epoch.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw `num_samples` indices independently (with
            replacement) instead of permuting.
        num_samples: indices per epoch (default `len(data_source)`); without
            replacement and larger than the dataset, whole permutations are
            concatenated (as PyTorch).
        generator: a `numpy.random.Generator`; the global deepnotes generator
            when omitted.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got {self.num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def indices(self):
        rng = self.generator if self.generator is not None else _random.default_generator()
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        perms = [rng.permutation(n) for _ in range(-(-k // n))]
        return np.concatenate(perms)[:k].astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probability proportional to `weights` (one weight per sample).

    PyTorch's semantics: with `replacement=True` (the default) every index is an
    independent draw, P(i) = w_i / sum(w); with `replacement=False` the indices
    are distinct, drawn one after another from the weights of those not drawn
    yet (successive sampling), so `num_samples` may not exceed the number of
    non-zero weights.  The weights need not sum to 1.

    The usual tool against class imbalance: weight each sample by the inverse
    frequency of its class (`imbalance.balanced_sample_weights(y)`) and every
    class is drawn equally often on average.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples must be a positive int, got {num_samples!r}")
        if not isinstance(replacement, (bool, np.bool_)):
            raise ValueError(f"WeightedRandomSampler: replacement must be a bool, got {replacement!r}")
        weights = np.asarray(weights._data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights must be a 1-D sequence, got shape {weights.shape}")
        if weights.size == 0 or (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() == 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(weights):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                f"from {np.count_nonzero(weights)} with non-zero weight"
            )
        self.weights = weights
        self.num_samples = int(num_samples)
        self.replacement = bool(replacement)
        self.generator = generator

    def indices(self):
        rng = self.generator if self.generator is not None else _random.default_generator()
        p = self.weights / self.weights.sum()
        return rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).astype(np.int64)

    def __len__(self):
        return self.num_samples


# ------------------------------------------------------------------ collation


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, new every epoch."""

    def __init__(self, indices, generator=None):
        self.indices_ = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.generator = generator

    def indices(self):
        rng = self.generator if self.generator is not None else _random.default_generator()
        return self.indices_[rng.permutation(len(self.indices_))]

    def __len__(self):
        return len(self.indices_)


class BatchSampler:
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter unless `drop_last`)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), bool(drop_last)

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def _convert_array(array):
    """An array as a Tensor: integer arrays become int64 (what losses expect for labels)."""
    if array.dtype.kind in "iu":
        array = array.astype(np.int64, copy=False)
    elif array.dtype.kind not in "fcb":
        raise TypeError(f"default_collate: cannot make a tensor from an array of dtype {array.dtype}")
    return Tensor(array)


def default_convert(data):
    """Arrays (at any depth in tuples, lists, dicts) to Tensors, without stacking."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return _convert_array(data)
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, (tuple, list)):
        return type(data)(default_convert(v) for v in data)
    return data


def default_collate(batch):
    """Stack a list of samples into one batch of Tensors.

    Conventions: tensors, arrays and numbers are stacked along a new first
    dimension; integer values become int64, Python floats float32 (the
    deepnotes default), NumPy floats keep their dtype.  Tuples, named tuples,
    lists and dicts are collated field by field (a batch of `(x, y)` pairs
    becomes a pair `(X, Y)`; PyTorch returns a list there); strings stay a list.
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        arrays = [x._data if isinstance(x, Tensor) else np.asarray(x) for x in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: samples in a batch must have equal shapes, got {sorted(shapes)}")
        return _convert_array(np.stack(arrays))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, (bool, Number)):
        if isinstance(first, bool):
            return Tensor(np.asarray(batch, dtype=np.bool_))
        return Tensor(batch)  # ints -> int64, floats -> float32 (Tensor's rule)
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in batch):
            raise ValueError("default_collate: every sample in a batch must have the same number of fields")
        fields = [default_collate(list(group)) for group in zip(*batch)]
        return type(first)(*fields) if hasattr(first, "_fields") else type(first)(fields)
    raise TypeError(f"default_collate: cannot collate samples of type {type(first).__name__}")


def _batch_getter(dataset):
    """A function `indices -> batch of arrays` if `dataset` can fetch a batch in one go, else None."""
    if isinstance(dataset, Subset):
        inner = _batch_getter(dataset.dataset)
        return None if inner is None else (lambda idx: inner(dataset.indices[idx]))
    getter = getattr(dataset, "get_batch", None)
    return getter if callable(getter) else None


# ------------------------------------------------------------------ loader


class DataLoader:
    """Iterate over `dataset` in batches.

    Args:
        dataset: a `Dataset` (anything with `__getitem__` and `__len__`).
        batch_size: samples per batch; `None` yields single samples unbatched.
        shuffle: a new random order every epoch.
        drop_last: drop the last batch when it is smaller than `batch_size`.
        collate_fn: list of samples -> batch; `default_collate` when omitted.
            Without a `collate_fn`, a dataset with `get_batch(indices)`
            (`TensorDataset`, or a `Subset` of one) is indexed once per batch
            instead of once per sample.
        generator: the `numpy.random.Generator` (or an int seed) used to
            shuffle; by default a fresh one seeded from the global deepnotes
            generator when the loader is built.
        sampler: a `Sampler` giving the order of indices (exclusive with `shuffle`).

    Example:
        >>> import numpy as np
        >>> from deepnotes.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10.0, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> [y.tolist() for _, y in DataLoader(ds, batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        shuffle = bool(shuffle)
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive (the sampler sets the order)")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                             "and drop_last (it makes the batches itself)")
        if not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if isinstance(generator, (int, np.integer)):
            generator = np.random.default_rng(int(generator))
        elif generator is None and shuffle:
            generator = np.random.default_rng(int(_random.default_generator().integers(2**63)))
        elif generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a deepnotes.Generator, a numpy.random.Generator or an int, "
                f"got {type(generator).__name__}"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None or batch_sampler is not None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        # accepted for PyTorch's sake: pinned memory and timeouts mean nothing on NumPy arrays
        self.num_workers, self.worker_init_fn = int(num_workers), worker_init_fn
        self.pin_memory, self.timeout, self.persistent_workers = bool(pin_memory), timeout, bool(persistent_workers)
        self.multiprocessing_context, self.prefetch_factor = multiprocessing_context, prefetch_factor

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _epoch_indices(self):
        if isinstance(self.sampler, Sampler):
            return self.sampler.indices()
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def __iter__(self):
        if self.num_workers > 0:
            from .workers import iterate_in_workers

            yield from iterate_in_workers(self, list(self._batches()))
            return
        for batch in self._batches():
            yield self._fetch(batch)

    def _batches(self):
        """The epoch's batches: index arrays (a single int when batch_size is None)."""
        if self.batch_sampler is not None:
            for batch in self.batch_sampler:
                yield np.asarray(batch, dtype=np.int64)
            return
        indices = self._epoch_indices()
        if self.batch_size is None:
            yield from indices.tolist()
            return
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield indices[start:start + self.batch_size]

    def _fetch(self, batch):
        """One batch of samples, collated (or one sample, converted, when batch_size is None)."""
        if not isinstance(batch, np.ndarray):
            return (self.collate_fn or default_convert)(self.dataset[batch])
        getter = _batch_getter(self.dataset) if self.collate_fn is None else None
        if getter is not None:
            return default_convert(getter(batch))
        return (self.collate_fn or default_collate)([self.dataset[i] for i in batch.tolist()])

    # --------------------------------------------------------- checkpointing
    def state_dict(self):
        """The shuffling generator's state (None when the loader does not own one)."""
        return {"generator": None if self.generator is None else self.generator.bit_generator.state}

    def load_state_dict(self, state):
        saved = state.get("generator")
        if saved is None:
            return
        if self.generator is None:
            raise ValueError(
                "DataLoader.load_state_dict: the checkpoint has a generator state but this loader has none "
                "(build it with shuffle=True or a generator)"
            )
        self.generator.bit_generator.state = saved

    def __repr__(self):
        return (f"DataLoader(dataset={type(self.dataset).__name__}(n={len(self.dataset)}), "
                f"batch_size={self.batch_size}, sampler={type(self.sampler).__name__}, drop_last={self.drop_last})")

