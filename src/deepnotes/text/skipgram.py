"""A skip-gram word2vec trainer in vectorized NumPy (Mikolov et al. 2013; inventory S6, S7).

Each word in a window around a center word is a prediction target:
maximize log p(context | center) with the center's input vector v and
either

- negative sampling: log sigmoid(<v, u_o>) + sum_k log sigmoid(-<v, u_k>),
  noise words k ~ unigram^0.75, or
- hierarchical softmax: sum over the Huffman path of the context word of
  log sigmoid(s_j <v, theta_j>) (see `nn.HierarchicalSoftmax`).

As in word2vec and gensim: frequent words are randomly dropped before
windowing (keep probability (sqrt(f / t) + 1) t / f for a word of frequency f,
threshold t = `sample`), each center draws its window size uniformly in
1..window, and the learning rate decays linearly from `alpha` to
`min_alpha` over training.  word2vec applies one pair at a time from several
threads without locks; here a batch of pairs is applied at once, each row
receiving the sum of its pairs' updates (np.add.at), which is what those
threads' updates add up to.

The updates bypass autograd for speed; `negative_sampling_grads` and
`hierarchical_softmax_grads` expose the exact gradients, and the tests check
them against autograd through `nn.NegativeSamplingLoss` and
`nn.HierarchicalSoftmax`.
"""
from __future__ import annotations

import time

import numpy as np

from .. import random as _random
from ..backends import blas
from ..ops.embedding import scatter_add_rows
from ..nn.layers.output_layers import build_huffman_tree, log_sigmoid
from ..nn.layers.sampled_losses import noise_distribution
from ..ops.activation import stable_sigmoid
from .evaluate import nearest_neighbors
from .vocab import Vocab


def negative_sampling_grads(w_in, w_out, centers, contexts, negatives):
    """Loss and gradients of skip-gram negative sampling for a batch of pairs.

        loss_i = -log sigmoid(<v_i, u_{o_i}>) - sum_k log sigmoid(-<v_i, u_{n_ik}>)

    Args:
        w_in (V, D), w_out (V, D); centers (B,), contexts (B,), negatives (B, K) ids.

    Returns:
        (loss (B,), grad of each v_i (B, D), rows (B, K+1) of w_out touched,
        grads of those rows (B, K+1, D)).  Repeated ids add up when scattered.
    """
    v = w_in[centers]                                        # (B, D)
    rows = np.concatenate([contexts[:, None], negatives], axis=1)
    u = w_out[rows]                                          # (B, K+1, D)
    scores = blas.matmul(u, v[:, :, None])[..., 0]            # (B, K+1)
    labels = np.zeros_like(scores)
    labels[:, 0] = 1
    signed = np.where(labels == 1, scores, -scores)
    loss = -log_sigmoid(signed).sum(axis=1)
    coef = stable_sigmoid(scores) - labels                   # d loss / d score
    grad_v = blas.matmul(coef[:, None, :], u)[:, 0, :]
    grad_u = coef[:, :, None] * v[:, None, :]
    return loss, grad_v, rows, grad_u


def hierarchical_softmax_grads(w_in, w_nodes, centers, nodes, signs):
    """Loss and gradients of skip-gram hierarchical softmax for a batch of pairs.

        loss_i = -sum_j log sigmoid(s_ij <v_i, theta_{n_ij}>)   (s = 0 on padding)

    Args:
        w_in (V, D), w_nodes (V-1, D); centers (B,); nodes, signs (B, L): the
        context words' Huffman paths padded to the batch's longest one
        (`HuffmanTree.nodes`, and 1 - 2 * codes on the path, 0 past its end).

    Returns:
        (loss (B,), grad of each v_i (B, D), the path rows (B, L), their grads
        (B, L, D), zero on padding).  Padding wastes little: on the Lee corpus
        the mean path of a context word is 10.8 nodes, the longest 15, and the
        padded batch runs as two batched matmuls, faster here than gathering
        only the valid steps and scattering them back.
    """
    v = w_in[centers]
    theta = w_nodes[nodes]                                   # (B, L, D)
    x = blas.matmul(theta, v[:, :, None])[..., 0] * signs
    loss = -(log_sigmoid(x) * (signs != 0)).sum(axis=1)
    coef = -stable_sigmoid(-x) * signs                       # d loss / d <v, theta>
    grad_v = blas.matmul(coef[:, None, :], theta)[:, 0, :]
    return loss, grad_v, nodes, coef[:, :, None] * v[:, None, :]


def keep_probabilities(counts, sample):
    """word2vec's subsampling: keep a word of frequency f with prob min(1, (sqrt(f/t) + 1) t/f)."""
    if not sample:
        return np.ones(len(counts))
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)


def skipgram_pairs(ids, sentence_ids, window, rng, shrink_windows=True):
    """(center, context) id pairs in corpus order, each center with its own window 1..window.

    Loops over the 2 * window offsets, never over tokens.
    """
    n = ids.size
    spans = rng.integers(1, window + 1, size=n) if shrink_windows else np.full(n, window)
    positions, centers, contexts = [], [], []
    for offset in range(1, window + 1):
        for sign in (-1, 1):
            delta = sign * offset
            i = np.arange(max(0, -delta), min(n, n - delta))
            i = i[(spans[i] >= offset) & (sentence_ids[i] == sentence_ids[i + delta])]
            positions.append(i)
            centers.append(ids[i])
            contexts.append(ids[i + delta])
    positions = np.concatenate(positions)
    order = np.argsort(positions, kind="stable")
    return np.concatenate(centers)[order], np.concatenate(contexts)[order]


def noise_table(probabilities, size=None):
    """word2vec's sampling table: word w fills about size * Q(w) of its slots (at least one),
    so a uniform slot is a draw from Q, one array lookup per draw."""
    size = size or max(1_000_000, 100 * len(probabilities))
    slots = np.maximum(1, np.round(probabilities * size)).astype(np.int64)
    return np.repeat(np.arange(len(probabilities), dtype=np.int32), slots)


class SkipGram:
    """Skip-gram word vectors; arguments named and defaulted as gensim's Word2Vec(sg=1).

    Args:
        vector_size: D.  window: maximum distance between center and context.
        min_count: ignore rarer words.  sample: subsampling threshold (0 = off).
        negative: noise words per pair (0 = no negative sampling).
        hs: use hierarchical softmax (with negative=0 for HS alone; both add up, as in gensim).
        ns_exponent: exponent of the noise distribution (0.75).
        alpha, min_alpha: learning rate, decayed linearly.  epochs: passes.
        batch_size: pairs applied at once.  seed: for init, subsampling, windows and noise.

    After `fit`: `vocab`, `vectors` (V, D) the input vectors, `output_vectors`,
    `node_vectors` (hs), `epoch_losses`, `train_seconds`.

    Example:
        >>> from deepnotes.text import SkipGram
        >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
        >>> model = SkipGram(vector_size=8, min_count=1, epochs=2, seed=0).fit(sentences)
        >>> model.vectors.shape
        (4, 8)
    """

    def __init__(self, vector_size=100, window=5, min_count=5, sample=1e-3, negative=5, hs=False,
                 ns_exponent=0.75, alpha=0.025, min_alpha=1e-4, epochs=5, batch_size=1024, seed=None,
                 shrink_windows=True):
        if not hs and negative <= 0:
            raise ValueError("SkipGram: pick an output layer: negative > 0 and/or hs=True")
        self.vector_size, self.window, self.min_count, self.sample = vector_size, window, min_count, sample
        self.negative, self.hs, self.ns_exponent = negative, hs, ns_exponent
        self.alpha, self.min_alpha, self.epochs, self.batch_size = alpha, min_alpha, epochs, batch_size
        self.shrink_windows = shrink_windows
        self.rng = np.random.default_rng(seed) if seed is not None else _random.default_generator()

    # ----------------------------------------------------------------- setup
    def build_vocab(self, sentences):
        self.vocab = Vocab.build(sentences, min_count=self.min_count)
        V, D = len(self.vocab), self.vector_size
        if V < 2:
            raise ValueError(f"SkipGram: only {V} words have count >= min_count={self.min_count}")
        # gensim's init: input vectors U(-1/D, 1/D), output vectors zero.
        self.vectors = ((self.rng.random((V, D)) * 2 - 1) / D).astype(np.float32)
        self.output_vectors = np.zeros((V, D), dtype=np.float32) if self.negative else None
        if self.hs:
            tree = build_huffman_tree(self.vocab.counts)
            self.tree = tree
            width = np.arange(tree.nodes.shape[1])
            self._signs = np.where(width < tree.lengths[:, None], 1.0 - 2.0 * tree.codes, 0.0).astype(np.float32)
            self.node_vectors = np.zeros((V - 1, D), dtype=np.float32)
        self._noise_table = noise_table(noise_distribution(self.vocab.counts, self.ns_exponent))
        return self

    def _encode(self, sentences):
        encoded = [self.vocab.encode(s) for s in sentences]
        ids = np.concatenate(encoded) if encoded else np.zeros(0, dtype=np.int64)
        sentence_ids = np.repeat(np.arange(len(encoded)), [len(e) for e in encoded])
        return ids, sentence_ids

    # -------------------------------------------------------------- training
    def fit(self, sentences):
        """Build the vocabulary from `sentences` (lists of tokens) and train."""
        sentences = list(sentences)
        self.build_vocab(sentences)
        ids, sentence_ids = self._encode(sentences)
        keep_prob = keep_probabilities(self.vocab.counts.astype(np.float64), self.sample)
        self.epoch_losses = []
        start = time.perf_counter()
        for epoch in range(self.epochs):
            kept = self.rng.random(ids.size) < keep_prob[ids]
            centers, contexts = skipgram_pairs(ids[kept], sentence_ids[kept], self.window, self.rng,
                                               self.shrink_windows)
            total, n_pairs = 0.0, centers.size
            for begin in range(0, n_pairs, self.batch_size):
                progress = (epoch + begin / max(n_pairs, 1)) / self.epochs
                lr = self.alpha - (self.alpha - self.min_alpha) * progress
                batch = slice(begin, begin + self.batch_size)
                total += self._step(centers[batch], contexts[batch], lr)
            self.epoch_losses.append(total / max(n_pairs, 1))
        self.train_seconds = time.perf_counter() - start
        return self

    def _step(self, centers, contexts, lr):
        """One SGD step on a batch of pairs; returns the summed loss before the step."""
        grad_v = np.zeros((centers.size, self.vector_size), dtype=np.float32)
        loss = 0.0
        if self.hs:
            nodes, signs = self.tree.nodes[contexts], self._signs[contexts]
            width = int(self.tree.lengths[contexts].max())
            nodes, signs = nodes[:, :width], signs[:, :width]
            l_hs, g_v, rows, g_rows = hierarchical_softmax_grads(self.vectors, self.node_vectors, centers, nodes,
                                                                 signs)
            scatter_add_rows(self.node_vectors, rows, g_rows * -lr)
            grad_v += g_v
            loss += float(l_hs.sum())
        if self.negative:
            negatives = self.sample_noise((centers.size, self.negative))
            l_ns, g_v, rows, g_out = negative_sampling_grads(self.vectors, self.output_vectors, centers,
                                                             contexts, negatives)
            scatter_add_rows(self.output_vectors, rows, g_out * -lr)
            grad_v += g_v
            loss += float(l_ns.sum())
        scatter_add_rows(self.vectors, centers, grad_v * -lr)
        return loss

    def sample_noise(self, shape):
        """Noise word ids ~ unigram^ns_exponent: uniform draws from the noise table."""
        return self._noise_table[self.rng.integers(0, self._noise_table.size, size=shape)]

    # ------------------------------------------------------------------- use
    def __getitem__(self, word):
        return self.vectors[self.vocab[word]]

    def most_similar(self, word, topn=10):
        """[(word, cosine), ...] of the `topn` nearest words."""
        return nearest_neighbors(self.vectors, self.vocab, word, k=topn)
