"""Tensor factories: `tensor`, `zeros`, `ones`, `full`, `randn`, `rand`, `arange`, ...

Float factories default to float32, as in PyTorch; random ones draw from the
global generator (`deepnotes.manual_seed`) unless `generator=` is given.
"""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..device import check_device
from ..errors import ShapeError
from .tensor import DEFAULT_FLOAT
from .tensor import Tensor, _to_array


def _shape(size, who="tensor"):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise ShapeError(f"{who}: size must be non-negative ints, got {shape}")
    return shape


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of `data`."""
    check_device(device, "tensor")
    return Tensor(np.array(_to_array(data, dtype), copy=True), requires_grad=requires_grad)


def zeros(*size, dtype=DEFAULT_FLOAT, requires_grad=False, device=None):
    check_device(device, "zeros")
    return Tensor(np.zeros(_shape(size, "zeros"), dtype=dtype), requires_grad=requires_grad)


def ones(*size, dtype=DEFAULT_FLOAT, requires_grad=False, device=None):
    check_device(device, "ones")
    return Tensor(np.ones(_shape(size, "ones"), dtype=dtype), requires_grad=requires_grad)


def full(size, fill_value, dtype=DEFAULT_FLOAT, requires_grad=False, device=None):
    check_device(device, "full")
    shape = _shape((size,) if isinstance(size, (int, np.integer)) else (tuple(size),), "full")
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device, "zeros_like")
    return Tensor(np.zeros_like(_to_array(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    check_device(device, "ones_like")
    return Tensor(np.ones_like(_to_array(t), dtype=dtype), requires_grad=requires_grad)


def randn(*size, dtype=DEFAULT_FLOAT, requires_grad=False, generator=None, device=None):
    """Standard normal samples."""
    check_device(device, "randn")
    rng = generator or _random.default_generator()
    return Tensor(rng.standard_normal(_shape(size, "randn")).astype(dtype), requires_grad=requires_grad)


def rand(*size, dtype=DEFAULT_FLOAT, requires_grad=False, generator=None, device=None):
    """Uniform samples on [0, 1)."""
    check_device(device, "rand")
    rng = generator or _random.default_generator()
    return Tensor(rng.random(_shape(size, "rand")).astype(dtype), requires_grad=requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """Integers uniform on [low, high) (`randint(high, size)` draws from [0, high)), as torch.randint."""
    check_device(device, "randint")
    if size is None:
        low, high, size = 0, low, high
    rng = generator or _random.default_generator()
    return Tensor(rng.integers(low, high, size=tuple(size)).astype(dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Like torch.arange: int64 for integer arguments, float32 otherwise."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=DEFAULT_FLOAT, device=None):
    check_device(device, "linspace")
    return Tensor(np.linspace(start, end, steps, dtype=dtype))


def from_numpy(array):
    """Share memory with `array`, keeping its dtype."""
    return Tensor(np.asarray(array))


def empty(*size, dtype=DEFAULT_FLOAT, device=None, requires_grad=False):
    """An uninitialised tensor in PyTorch; zeros here (NumPy's `empty` would expose stale memory)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    check_device(device, "full_like")
    return Tensor(np.full_like(_to_array(t), fill_value, dtype=dtype), requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return zeros_like(t, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    array = _to_array(t)
    return rand(*array.shape, dtype=dtype or array.dtype, device=device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    array = _to_array(t)
    return randn(*array.shape, dtype=dtype or array.dtype, device=device, requires_grad=requires_grad)


def randint_like(t, low=0, high=None, dtype=None, device=None, requires_grad=False):
    array = _to_array(t)
    return randint(low, high, array.shape, dtype=dtype or array.dtype, device=device)


def randperm(n, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (torch.randperm)."""
    check_device(device, "randperm")
    rng = generator or _random.default_generator()
    return Tensor(rng.permutation(int(n)).astype(dtype))


def eye(n, m=None, dtype=DEFAULT_FLOAT, device=None, requires_grad=False):
    check_device(device, "eye")
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def normal(mean, std, size=None, generator=None, dtype=DEFAULT_FLOAT, device=None, requires_grad=False):
    """Normal samples with the given mean and std (numbers with `size`, or tensors broadcast together)."""
    check_device(device, "normal")
    rng = generator or _random.default_generator()
    mean, std = np.asarray(_to_array(mean)), np.asarray(_to_array(std))
    shape = tuple(size) if size is not None else np.broadcast_shapes(mean.shape, std.shape)
    out_dtype = mean.dtype if mean.dtype.kind == "f" and size is None else dtype
    return Tensor(rng.normal(mean, std, size=shape).astype(out_dtype), requires_grad=requires_grad)
