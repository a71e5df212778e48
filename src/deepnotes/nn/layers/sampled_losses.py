"""Sampling-based output losses for huge vocabularies: negative sampling and
sampled softmax (inventory S7, P4).

A full softmax over V classes costs O(V * H) per example; instead, score the
target against a few sampled classes only.  Negative sampling (Mikolov et al.
2013) trains binary "real vs noise" decisions; sampled softmax (Jean et al.
2015) is a softmax over the target and the samples, corrected by log Q, that
approximates the full one.  Both are training-time tricks: evaluation still
needs all V scores.  The tree-based alternative, hierarchical softmax, lives in
`output_layers`; what each costs, in `output_cost`.
"""
from __future__ import annotations

import math

import numpy as np

from ... import random as _random
from ...autograd.tensor import Tensor
from ...ops import activation as A
from ...ops.api import cat
from ..module import Module, Parameter
from ...ops.embedding import EmbeddingLookup
from .output_layers import LogSigmoid, _check_io, _reduce


def noise_distribution(counts, power=0.75):
    """Q(w) proportional to count(w)^power; 3/4 (Mikolov et al. 2013) flattens the
    unigram distribution so rare words are drawn more often than their frequency."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


class _NoiseSampledLoss(Module):
    """What both losses share: the vocabulary size V from its (V,) word counts, the noise
    distribution Q = unigram^power over it, the input width H and the reduction."""

    def __init__(self, vocab_counts, in_features, power, reduction):
        super().__init__()
        counts = np.asarray(vocab_counts._data if isinstance(vocab_counts, Tensor) else vocab_counts)
        self.vocab_size, self.in_features = counts.size, in_features
        self.power, self.reduction = power, reduction
        self.noise = noise_distribution(counts, power)


class NegativeSamplingLoss(_NoiseSampledLoss):
    """Skip-gram negative sampling (Mikolov et al. 2013):

        loss = -log sigmoid(<h, u_t>) - sum_{k=1..K} log sigmoid(-<h, u_{n_k}>),  n_k ~ Q

    with Q = unigram^power.  Only K + 1 output vectors are touched per example.
    It is not a normalized model: it learns which (h, word) pairs are real.

    Args:
        vocab_counts: (V,) counts for the noise distribution.
        in_features: H.  num_negatives: K.  power: exponent of Q (0.75).
        reduction: 'mean' | 'sum' | 'none'.

    Parameter: `weight` (V, H), the output ("context") vectors, zero-initialized
    as in word2vec.  Negatives equal to the target are kept (the original paper
    does not exclude them; gensim skips them), so this loss and
    `deepnotes.text.skipgram` agree exactly given the same draws.
    """

    def __init__(self, vocab_counts, in_features, num_negatives=5, power=0.75, reduction="mean"):
        super().__init__(vocab_counts, in_features, power, reduction)
        self.num_negatives = num_negatives
        self._cumulative = np.cumsum(self.noise)
        self.weight = Parameter(np.zeros((self.vocab_size, in_features), dtype=np.float32))

    def sample(self, shape, generator=None):
        """Noise words of the given shape, drawn from Q (inverse-CDF sampling)."""
        rng = generator or _random.default_generator()
        draws = np.searchsorted(self._cumulative, rng.random(shape) * self._cumulative[-1], side="right")
        return np.minimum(draws, self.vocab_size - 1)

    def forward(self, h, targets, negatives=None):
        """h (N, H), targets (N,), negatives (N, K) ints or None (drawn) -> loss."""
        h, t = _check_io("NegativeSamplingLoss", h, targets, self.in_features, self.vocab_size)
        negatives = self.sample((t.size, self.num_negatives)) if negatives is None else np.asarray(negatives)
        positive = EmbeddingLookup.apply(self.weight, indices=t)                 # (N, H)
        noise = EmbeddingLookup.apply(self.weight, indices=negatives)           # (N, K, H)
        pos_score = (h * positive).sum(dim=1)
        neg_score = (noise @ h.unsqueeze(2)).squeeze(2)                         # (N, K)
        loss = -LogSigmoid.apply(pos_score) - LogSigmoid.apply(-neg_score).sum(dim=1)
        return _reduce(loss, self.reduction, "NegativeSamplingLoss")

    def extra_repr(self):
        return f"vocab_size={self.vocab_size}, in_features={self.in_features}, " \
               f"num_negatives={self.num_negatives}, power={self.power}"


class SampledSoftmaxLoss(_NoiseSampledLoss):
    """Sampled softmax (Jean et al. 2015): cross-entropy over the target and S classes
    drawn from Q, each logit corrected by -log(S Q(c)), which makes the sampled
    softmax's expected gradient approach the full softmax's.

        logits = [<h, u_t> + b_t - log(S Q(t)),  <h, u_s> + b_s - log(S Q(s))  for s in samples]
        loss   = -log_softmax(logits)[target]

    One set of S samples is shared by the batch (as TensorFlow does), so the
    cost is one (N, H) x (H, S) product.  A sample equal to a row's target is
    masked out of that row ("accidental hit").

    Args:
        vocab_counts: (V,) counts defining Q (unigram^power).
        in_features: H.  num_samples: S.  power: Q's exponent (1.0 = unigram).

    Parameters: `weight` (V, H), `bias` (V,), init as Linear(H, V).
    """

    def __init__(self, vocab_counts, in_features, num_samples=64, power=1.0, reduction="mean"):
        super().__init__(vocab_counts, in_features, power, reduction)
        self.num_samples = num_samples
        bound = 1.0 / math.sqrt(in_features)
        rng = _random.default_generator()
        self.weight = Parameter(rng.uniform(-bound, bound, (self.vocab_size, in_features)).astype(np.float32))
        self.bias = Parameter(rng.uniform(-bound, bound, self.vocab_size).astype(np.float32))

    def forward(self, h, targets, samples=None):
        h, t = _check_io("SampledSoftmaxLoss", h, targets, self.in_features, self.vocab_size)
        if samples is None:
            samples = _random.default_generator().choice(self.vocab_size, self.num_samples, p=self.noise)
        samples = np.asarray(samples)
        classes = np.concatenate([t, samples])
        log_q = np.log(self.num_samples * self.noise[classes]).astype(h.dtype)
        vecs = EmbeddingLookup.apply(self.weight, indices=classes)             # (N + S, H)
        biases = EmbeddingLookup.apply(self.bias.reshape(-1, 1), indices=classes).reshape(-1)
        corrected = biases - Tensor(log_q)
        true_logit = (h * vecs[: t.size]).sum(dim=1) + corrected[: t.size]     # (N,)
        sampled = h @ vecs[t.size:].T + corrected[t.size:]                      # (N, S)
        hits = Tensor(np.where(samples[None, :] == t[:, None], -np.inf, 0.0).astype(h.dtype))
        logits = cat([true_logit.unsqueeze(1), sampled + hits], dim=1)
        loss = -A.LogSoftmax.apply(logits, axis=1)[:, 0]
        return _reduce(loss, self.reduction, "SampledSoftmaxLoss")
