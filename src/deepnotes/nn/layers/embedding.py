"""Embedding: a learned lookup table from integer ids to vectors (inventory S6).

An embedding layer is a Linear layer applied to one-hot inputs, computed by
indexing instead of multiplying: row `i` of the weight is the vector of id `i`.
Its gradient is therefore sparse: only the rows that were looked up receive
one, and a row looked up several times in a batch receives the SUM of the
gradients of its occurrences.
"""
from __future__ import annotations

import numpy as np

from ... import random as _random
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor, as_tensor
from ..module import Module, Parameter


def scatter_add_rows(target, rows, values):
    """target[rows[i]] += values[i] for every i, repeated rows accumulating, in place.

    Args: target (V, D) C-contiguous; rows (B,) ints; values (B, D).
    np.add.at on the flattened target with one index per element takes
    NumPy's fast 1-D path, several times faster than row-wise np.add.at.
    """
    width = target.shape[1]
    flat = (rows.reshape(-1, 1) * width + np.arange(width)).reshape(-1)
    np.add.at(target.reshape(-1), flat, values.reshape(-1).astype(target.dtype, copy=False))
    return target


class EmbeddingLookup(Function):
    """out = weight[indices]: (*, ) ints -> (*, D).

    Backward scatters the output gradient into the rows: dW[i] = sum of g over
    the positions holding id i (np.add.at accumulates repeats; plain fancy
    assignment would keep only the last one).  The padding row gets none.
    With `scale_grad_by_freq`, each row's sum is divided by how often the id
    occurs in this batch (torch's option for very frequent ids).
    """

    @staticmethod
    def forward(ctx, weight, indices=None, padding_idx=None, scale_grad_by_freq=False):
        ctx.indices, ctx.num_rows = indices, weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        flat = ctx.indices.reshape(-1)
        rows = grad.reshape(flat.size, grad.shape[-1])
        if ctx.scale_grad_by_freq:
            counts = np.bincount(flat, minlength=ctx.num_rows)
            rows = rows / counts[flat][:, None].astype(grad.dtype)
        dweight = scatter_add_rows(np.zeros((ctx.num_rows, grad.shape[-1]), dtype=grad.dtype), flat, rows)
        if ctx.padding_idx is not None:
            dweight[ctx.padding_idx] = 0
        return dweight


def _check_indices(indices, num_embeddings, who):
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{who}: expected integer indices, got dtype {indices.dtype}")
    if indices.size:
        low, high = indices.min(), indices.max()
        bad = low if low < 0 else high if high >= num_embeddings else None
        if bad is not None:
            raise IndexError(f"{who}: index {int(bad)} is out of range for a vocabulary of "
                             f"{num_embeddings} entries (valid ids: 0..{num_embeddings - 1})")


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Rescale, in place, the looked-up rows whose norm exceeds max_norm (as torch.embedding_renorm_)."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    scale = max_norm / (norms[too_long] + 1e-7)
    weight.data[rows[too_long]] *= scale[:, None].astype(weight.dtype)


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
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    num_embeddings = weight.shape[0]
    _check_indices(indices, num_embeddings, _who)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num_embeddings
    if max_norm is not None:
        with no_grad():
            _renorm_rows(weight, indices, max_norm, norm_type)
    return EmbeddingLookup.apply(weight, indices=indices.astype(np.intp, copy=False), padding_idx=padding_idx,
                                 scale_grad_by_freq=scale_grad_by_freq)


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim`, looked up by id.

    Init N(0, 1) as torch, with the `padding_idx` row set to zero; that row
    never receives a gradient, so it stays zero unless assigned.

    Args:
        num_embeddings: vocabulary size V.  embedding_dim: D.
        padding_idx: id whose row is zero and frozen (negative counts from the end).
        max_norm, norm_type: renormalize looked-up rows to norm <= max_norm.
        scale_grad_by_freq: divide each row's gradient by its count in the batch.
        sparse: accepted for torch compatibility (gradients are dense).

    Shape: input (*) integer ids -> output (*, D).

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(dn.tensor([[0, 2], [4, 2]])).shape
        (2, 2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding({num_embeddings}, {embedding_dim}): padding_idx {padding_idx} "
                                 f"must be within the vocabulary (-{num_embeddings}..{num_embeddings - 1})")
            padding_idx %= num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            data = _random.default_generator().standard_normal((num_embeddings, embedding_dim))
            data = data.astype(np.float32)
            if padding_idx is not None:
                data[padding_idx] = 0
        else:
            data = np.array(_weight.data if isinstance(_weight, Tensor) else _weight)
            if data.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {data.shape}, "
                                 f"expected {(num_embeddings, embedding_dim)}")
        self.weight = Parameter(data, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding a copy of `embeddings` (V, D); frozen by default, as torch."""
        data = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a 2-D (V, D) table, got shape {data.shape}")
        return cls(data.shape[0], data.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq,
                   sparse, _weight=data, _freeze=freeze)

    def forward(self, input):  # noqa: A002 - torch's name
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse, _who=self._name())

    def _name(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s


# ---------------------------------------------------------------- bags
class SegmentSum(Function):
    """out[b] = sum of rows[i] over the i with bags[i] == b: (T, D) -> (num_bags, D);  d rows = g[bags]."""

    @staticmethod
    def forward(ctx, rows, bags=None, num_bags=0):
        ctx.bags = bags
        return scatter_add_rows(np.zeros((num_bags, rows.shape[1]), dtype=rows.dtype), bags, rows)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.bags]


class SegmentMax(Function):
    """out[b, d] = max of rows[i, d] over bag b (0 for an empty bag); the gradient goes to the
    first row holding the maximum, per feature."""

    @staticmethod
    def forward(ctx, rows, bags=None, num_bags=0):
        T, D = rows.shape
        out = np.full((num_bags, D), -np.inf, dtype=rows.dtype)
        np.maximum.at(out, bags, rows)
        first = np.full((num_bags, D), T, dtype=np.int64)
        candidates = np.where(rows == out[bags], np.arange(T)[:, None], T)
        np.minimum.at(first, bags, candidates)
        ctx.first, ctx.T = first, T
        out[first == T] = 0  # empty bags
        return out

    @staticmethod
    def backward(ctx, grad):
        first = ctx.first
        rows = np.zeros((ctx.T + 1, grad.shape[1]), dtype=grad.dtype)  # row T collects empty bags, dropped
        rows[first, np.arange(grad.shape[1])[None, :]] = grad
        return rows[:-1]


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
    ids = np.asarray(input.data if isinstance(input, Tensor) else input)
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
        starts = np.asarray(offsets.data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
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


class EmbeddingBag(Module):
    """Reduce each bag of ids to one vector (sum, mean or max of their embeddings), as
    torch.nn.EmbeddingBag: the bag-of-words encoder of fastText-style classifiers.

    Args as `Embedding`, plus mode ('mean' by default), include_last_offset.
    forward(input, offsets=None, per_sample_weights=None): see `embedding_bag`.
    Output: (B, embedding_dim).
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None):
        super().__init__()
        table = Embedding(num_embeddings, embedding_dim, padding_idx, _weight=_weight)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = table.padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.weight = table.weight

    def forward(self, input, offsets=None, per_sample_weights=None):  # noqa: A002
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                             self.padding_idx, _who=f"EmbeddingBag({self.num_embeddings}, {self.embedding_dim})")

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
