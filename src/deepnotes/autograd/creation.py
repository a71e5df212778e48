"""Tensor factories: `tensor`, `zeros`, `ones`, `full`, `randn`, `rand`, `arange`, ...

Float factories default to float32, as in PyTorch; random ones draw from the
global generator (`deepnotes.manual_seed`) unless `generator=` is given.
"""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..errors import ShapeError
from .tensor import DEFAULT_FLOAT
from .tensor import Tensor, _to_array


def _shape(size, who="tensor"):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise ShapeError(f"{who}: size must be non-negative ints, got {shape}")
    return shape


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data`."""
    return Tensor(np.array(_to_array(data, dtype), copy=True), requires_grad=requires_grad)


def zeros(*size, dtype=DEFAULT_FLOAT, requires_grad=False):
    return Tensor(np.zeros(_shape(size, "zeros"), dtype=dtype), requires_grad=requires_grad)


def ones(*size, dtype=DEFAULT_FLOAT, requires_grad=False):
    return Tensor(np.ones(_shape(size, "ones"), dtype=dtype), requires_grad=requires_grad)


def full(size, fill_value, dtype=DEFAULT_FLOAT, requires_grad=False):
    shape = _shape((size,) if isinstance(size, (int, np.integer)) else (tuple(size),), "full")
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(np.zeros_like(_to_array(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(np.ones_like(_to_array(t), dtype=dtype), requires_grad=requires_grad)


def randn(*size, dtype=DEFAULT_FLOAT, requires_grad=False, generator=None):
    """Standard normal samples."""
    rng = generator or _random.default_generator()
    return Tensor(rng.standard_normal(_shape(size, "randn")).astype(dtype), requires_grad=requires_grad)


def rand(*size, dtype=DEFAULT_FLOAT, requires_grad=False, generator=None):
    """Uniform samples on [0, 1)."""
    rng = generator or _random.default_generator()
    return Tensor(rng.random(_shape(size, "rand")).astype(dtype), requires_grad=requires_grad)


def randint(low, high, size, generator=None):
    rng = generator or _random.default_generator()
    return Tensor(rng.integers(low, high, size=tuple(size), dtype=np.int64))


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Like torch.arange: int64 for integer arguments, float32 otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=DEFAULT_FLOAT):
    return Tensor(np.linspace(start, end, steps, dtype=dtype))


def from_numpy(array):
    """Share memory with `array`, keeping its dtype."""
    return Tensor(np.asarray(array))
