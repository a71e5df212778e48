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
from ...autograd.tensor import Tensor
from ..functional.embedding import embedding, embedding_bag
from ..module import Module, Parameter


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
            data = np.array(_weight._data if isinstance(_weight, Tensor) else _weight)
            if data.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {data.shape}, "
                                 f"expected {(num_embeddings, embedding_dim)}")
        self.weight = Parameter(data, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding a copy of `embeddings` (V, D); frozen by default, as torch."""
        data = embeddings._data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
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
