"""`F.one_hot` and `F.pad`, as PyTorch's."""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, as_tensor
from ...ops import api as ops


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 labels of shape (*) -> int64 one-hot (*, num_classes); num_classes=-1: max label + 1."""
    labels = as_tensor(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer tensor of class indices, got dtype {labels.dtype}")
    data = labels._data
    n = int(data.max()) + 1 if num_classes == -1 else int(num_classes)
    if data.size and (data.min() < 0 or data.max() >= n):
        raise ValueError(f"one_hot: class values must be in [0, {n}), got values in [{data.min()}, {data.max()}]")
    return Tensor((data[..., None] == np.arange(n)).astype(np.int64))


def pad(input, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dimensions: pad = (left, right, top, bottom, ...) from the last dim backwards.

    Modes: "constant" (with `value`, 0 by default), "reflect", "replicate", "circular" (the last
    three through an index gather, so they are differentiable too).  Negative pads crop.
    """
    x = as_tensor(input)
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expects an even number of pads for at most {x.ndim} dims, got {tuple(pad)}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, x.shape))
    if any(a < 0 or b < 0 for a, b in widths):
        x = x[crop]
        widths = [(max(a, 0), max(b, 0)) for a, b in widths]
    if mode == "constant":
        return ops.pad_constant(x, widths, 0.0 if value is None else value)
    numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if numpy_mode is None:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    index = tuple(np.pad(np.arange(n), w, mode=numpy_mode) for n, w in zip(x.shape, widths))
    return x[np.ix_(*index)]
