"""Positional encodings: fixed sinusoidal and learned tables (inventory S4, S5).

Attention (`attention.py`) weighs positions by content alone, so it does not
see their order; adding a vector that depends on the position to each input
embedding gives it that order (Vaswani et al. 2017; Gehring et al. 2017).
Both modules here add the first L rows of a (max_len, E) table to x, shaped
(L, N, E), or (N, L, E) with `batch_first`.
"""
from __future__ import annotations

import numpy as np

from ... import random as _random
from ...autograd.tensor import Tensor, as_tensor
from ..module import Module, Parameter
from .dropout import Dropout


def sinusoidal_positional_encoding(length, d_model, base=10000.0, dtype=np.float32):
    """(length, d_model) table of Vaswani et al. (2017):

        PE[pos, 2i] = sin(pos / base^(2i / d_model)),  PE[pos, 2i+1] = cos(pos / base^(2i / d_model))

    Each pair of columns is a rotation at its own frequency, so PE[pos + k] is
    a fixed linear function of PE[pos]: relative offsets are easy to read out.
    """
    positions = np.arange(length, dtype=np.float64)[:, None]
    inv_freq = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    angles = positions * inv_freq
    table = np.zeros((length, d_model))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table.astype(dtype)


class SinusoidalPositionalEncoding(Module):
    """x + PE[:L] with the fixed sinusoidal table, then dropout (Vaswani et al. 2017).

    Args:
        d_model: embedding size E.  max_len: longest sequence accepted.
        dropout: dropout probability after the sum (the paper uses 0.1).
        batch_first: x is (N, L, E) instead of (L, N, E).

    Shape: x (L, N, E) or (N, L, E) -> same shape.  The table is a
    non-persistent buffer (recomputed, not saved in state_dict).
    """

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", Tensor(sinusoidal_positional_encoding(max_len, d_model)), persistent=False)

    def forward(self, x):
        return self.dropout(x + _positions(self, self.pe, x))

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """x + P[:L] with a learned table P (max_len, E) (Gehring et al. 2017; BERT, GPT).

    Init N(0, 0.02^2), small next to token embeddings, as GPT-2 and BERT do.
    Unlike the sinusoidal table it cannot extrapolate past `max_len`.

    Shape: x (L, N, E) or (N, L, E) with `batch_first` -> same shape.
    """

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=False):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        rng = _random.default_generator()
        self.weight = Parameter(rng.normal(0.0, 0.02, size=(max_len, d_model)).astype(np.float32))
        self.dropout = Dropout(dropout)

    def forward(self, x):
        return self.dropout(x + _positions(self, self.weight, x))

    def extra_repr(self):
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"


def _positions(module, table, x):
    """The first L rows of `table`, shaped to broadcast against x (L, N, E) or (N, L, E)."""
    x = as_tensor(x)
    if x.ndim != 3 or x.shape[-1] != module.d_model:
        raise ValueError(f"{type(module).__name__}: expected input (L, N, {module.d_model}) or "
                         f"(N, L, {module.d_model}), got shape {x.shape}")
    length = x.shape[1] if module.batch_first else x.shape[0]
    if length > module.max_len:
        raise ValueError(f"{type(module).__name__}: sequence length {length} exceeds max_len {module.max_len}")
    rows = table[:length]
    return rows.unsqueeze(0) if module.batch_first else rows.unsqueeze(1)
