"""Functional forms: embedding lookups (`embedding`, `embedding_bag`) that `nn.Embedding` and
`nn.EmbeddingBag` call (inventory S6)."""
from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor, as_tensor
from ...errors import IndexRangeError
from ...ops.embedding import EmbeddingLookup, SegmentMax, SegmentSum


def _check_indices(indices, num_embeddings, who):
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{who}: expected integer indices, got dtype {indices.dtype}")
    if indices.size:
        low, high = indices.min(), indices.max()
        bad = low if low < 0 else high if high >= num_embeddings else None
        if bad is not None:
            raise IndexRangeError(f"{who}: index {int(bad)} is out of range for a vocabulary of "
                             f"{num_embeddings} entries (valid ids: 0..{num_embeddings - 1})")


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Rescale, in place, the looked-up rows whose norm exceeds max_norm (as torch.embedding_renorm_)."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight._data[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    scale = max_norm / (norms[too_long] + 1e-7)
    weight._data[rows[too_long]] *= scale[:, None].astype(weight.dtype)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002 - torch's name
              scale_grad_by_freq=False, sparse=False, _who="embedding"):
    """Look up rows of `weight` (V, D) for integer `input` (*) -> (*, D).

    Args:
        padding_idx: this id's row receives no gradient (its value is used as is).
        max_norm: rows looked up are first renormalized in place to norm <= max_norm
            (this modifies `weight`, as in torch).
        sparse: accepted for torch compatibility; the gradient is always a dense array.
    """
    weight = as_tensor(weight)
    indices = input._data if isinstance(input, Tensor) else np.asarray(input)
    num_embeddings = weight.shape[0]
    _check_indices(indices, num_embeddings, _who)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num_embeddings
    if max_norm is not None:
        with no_grad():
            _renorm_rows(weight, indices, max_norm, norm_type)
    return EmbeddingLookup.apply(weight, indices=indices.astype(np.intp, copy=False), padding_idx=padding_idx,
                                 scale_grad_by_freq=scale_grad_by_freq)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2.0,  # noqa: A002 - torch's name
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None, _who="embedding_bag"):
    """Sum, mean or max of the embeddings in each bag, without building (B, N, D) (torch.nn.functional's).

    Args:
        input: (B, N) ids, one bag per row; or (T,) ids cut into bags by `offsets`.
        offsets: (B,) start of each bag in `input` (with `include_last_offset`,
            (B + 1,) whose last entry is T).
        mode: 'sum' | 'mean' | 'max'.  An empty bag gives zeros.
        per_sample_weights: like `input`, multiplies each embedding (mode 'sum' only).
        padding_idx: entries with this id are left out of their bag (and of its mean).
    """
    ids = np.asarray(input._data if isinstance(input, Tensor) else input)
    weights = None if per_sample_weights is None else as_tensor(per_sample_weights)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{_who}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if weights is not None and mode != "sum":
        raise ValueError(f"{_who}: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{_who}: offsets must be None for 2-D input (one bag per row)")
        num_bags = ids.shape[0]
        bags = np.repeat(np.arange(num_bags), ids.shape[1])
    elif ids.ndim == 1:
        if offsets is None:
            raise ValueError(f"{_who}: 1-D input needs offsets (the start of each bag)")
        starts = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
        if include_last_offset:
            starts = starts[:-1]
        num_bags = starts.size
        if num_bags and (starts[0] != 0 or np.any(np.diff(starts) < 0) or starts[-1] > ids.size):
            raise ValueError(f"{_who}: offsets must start at 0 and not decrease, got {starts.tolist()[:8]}")
        bags = np.searchsorted(starts, np.arange(ids.size), side="right") - 1
    else:
        raise ValueError(f"{_who}: expected 1-D or 2-D input, got shape {ids.shape}")
    flat = ids.reshape(-1)
    if weights is not None and weights.shape != ids.shape:
        raise ValueError(f"{_who}: per_sample_weights must have the input's shape {ids.shape}, got {weights.shape}")
    if weights is not None:
        weights = weights.reshape(-1)
    if padding_idx is not None:
        padding_idx = padding_idx % as_tensor(weight).shape[0]
        keep = flat != padding_idx
        if not keep.all():
            flat, bags = flat[keep], bags[keep]
            weights = None if weights is None else weights[np.flatnonzero(keep)]
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _who=_who)
    if weights is not None:
        rows = rows * weights.unsqueeze(1)
    if mode == "max":
        return SegmentMax.apply(rows, bags=bags, num_bags=num_bags)
    total = SegmentSum.apply(rows, bags=bags, num_bags=num_bags)
    if mode == "sum":
        return total
    sizes = np.maximum(np.bincount(bags, minlength=num_bags), 1).astype(total.dtype)
    return total / Tensor(sizes[:, None])
