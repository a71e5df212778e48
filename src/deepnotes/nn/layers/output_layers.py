"""Hierarchical softmax over huge vocabularies: a Huffman tree, its path
log-probability kernel, and the layer built on them (inventory S7, P4).

A full softmax over V classes costs O(V * H) per example, forward and
backward, and its weight and logits grow with V.  With V = 10 million that
stops fitting.  Hierarchical softmax (Morin & Bengio 2005; Mikolov et al.
2013) puts the words at the leaves of a binary tree, with one vector per inner
node; the probability of a word is the product of the left/right decisions on
its path, each a sigmoid.  Cost O(log V) per example, and the probabilities of
all leaves still sum to one exactly.  With a Huffman tree built from word
counts, frequent words get short paths, so the *average* cost is the entropy
of the unigram distribution (in bits), less than log2 V; rare words pay with
long paths.

The other way out, sampling, lives in `sampled_losses` (negative sampling,
sampled softmax), which shares this file's `LogSigmoid` and argument checks;
what each layer costs, in `output_cost`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor, as_tensor
from ...backends import blas
from ...ops import activation as A
from ..module import Module, Parameter
from ...ops.embedding import scatter_add_rows


# ------------------------------------------------------------- Huffman tree
@dataclass(frozen=True)
class HuffmanTree:
    """A Huffman tree over V leaves (word ids) with V - 1 inner nodes 0..V-2 (root V-2).

    `nodes[w, :lengths[w]]` are the inner nodes on word w's path, root first;
    `codes[w, :lengths[w]]` the branch taken at each (0 or 1).  Padding past
    a path's end holds node 0 and code 0.
    """

    nodes: np.ndarray    # (V, max_len) int64
    codes: np.ndarray    # (V, max_len) uint8
    lengths: np.ndarray  # (V,) int64
    parent: np.ndarray   # (2V - 1,) node ids, leaves 0..V-1 then inner V..2V-2; root's parent is -1


def build_huffman_tree(counts):
    """Huffman tree from positive counts (V >= 2), as word2vec builds it.

    Merging the two lightest subtrees until one is left minimizes the
    count-weighted path length: sum_w count(w) * len(w).  Two queues (the
    leaves sorted by count, and the merged nodes, which come out in increasing
    weight) make each merge O(1).  On ties a leaf is taken before a merged
    node, which keeps the longest code short.
    """
    counts = np.asarray(counts, dtype=np.float64)
    V = counts.size
    if V < 2 or counts.ndim != 1:
        raise ValueError(f"build_huffman_tree: need a 1-D array of at least 2 counts, got shape {counts.shape}")
    if np.any(counts <= 0):
        raise ValueError("build_huffman_tree: counts must be positive")
    order = np.argsort(counts, kind="stable")
    weight = np.concatenate([counts, np.zeros(V - 1)])
    parent = np.full(2 * V - 1, -1, dtype=np.int64)
    bit = np.zeros(2 * V - 1, dtype=np.uint8)
    leaf, merged, new = 0, V, V      # heads of the two queues; next merged node id
    for _ in range(V - 1):
        picked = []
        for _ in range(2):
            if leaf < V and (merged >= new or counts[order[leaf]] <= weight[merged]):
                picked.append(order[leaf])
                leaf += 1
            else:
                picked.append(merged)
                merged += 1
        weight[new] = weight[picked[0]] + weight[picked[1]]
        parent[picked] = new
        bit[picked[1]] = 1
        new += 1
    # Walk all leaves up to the root together, one level per step.
    steps_nodes, steps_codes = [], []
    current = np.arange(V)
    while True:
        up = parent[current]
        active = up >= 0
        if not active.any():
            break
        steps_nodes.append(np.where(active, up - V, -1))
        steps_codes.append(np.where(active, bit[current], 0))
        current = np.where(active, up, current)
    up_nodes = np.stack(steps_nodes, axis=1)   # leaf-to-root order, -1 after the root
    up_codes = np.stack(steps_codes, axis=1)
    lengths = (up_nodes >= 0).sum(axis=1)
    # Reverse each row's valid prefix so paths read root first.
    cols = np.arange(up_nodes.shape[1])
    src = np.clip(lengths[:, None] - 1 - cols, 0, None)
    valid = cols < lengths[:, None]
    nodes = np.where(valid, np.take_along_axis(up_nodes, src, axis=1), 0)
    codes = np.where(valid, np.take_along_axis(up_codes, src, axis=1), 0).astype(np.uint8)
    return HuffmanTree(nodes.astype(np.int64), codes, lengths.astype(np.int64), parent)


# ------------------------------------------------------------------- kernels
def log_sigmoid(x):
    """log(1 / (1 + e^-x)) = -log(1 + e^-x), stable for any x."""
    return -np.logaddexp(0, -x)


class LogSigmoid(Function):
    """y = log sigmoid(x);  dy/dx = sigmoid(-x)."""

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return log_sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return grad * A.stable_sigmoid(-x)


class PathLogProb(Function):
    """log p(w | h) = sum_j log sigmoid(s_j <h, v_{n_j}>) over the nodes n_j of w's path.

    Arrays: h (N, D), weight (V-1, D).  Params: nodes (N, L) and signs (N, L),
    s = +1 for code 0, -1 for code 1, 0 on padding past the path's end.
    Cost O(N L D) with L the longest path in the batch.  Returns (N,).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, h, weight, nodes=None, signs=None):
        vecs = weight[nodes]                                    # (N, L, D)
        x = blas.matmul(vecs, h[:, :, None])[..., 0] * signs      # signed scores (N, L)
        ctx.save_for_backward(h, weight, x)
        ctx.nodes, ctx.signs = nodes, signs
        return (log_sigmoid(x) * (signs != 0)).sum(axis=1)

    @staticmethod
    def backward(ctx, grad):
        h, weight, x = ctx.saved_arrays
        nodes, signs = ctx.nodes, ctx.signs
        # d/d<h, v> of log sigmoid(s <h, v>) = s * sigmoid(-s <h, v>); signs = 0 on padding.
        coef = grad[:, None] * A.stable_sigmoid(-x) * signs    # (N, L)
        dh = dweight = None
        if ctx.needs_input_grad[0]:
            dh = blas.matmul(coef[:, None, :], weight[nodes])[:, 0, :]
        if ctx.needs_input_grad[1]:
            dweight = scatter_add_rows(np.zeros_like(weight), nodes, coef[:, :, None] * h[:, None, :])
        return dh, dweight


def _reduce(loss, reduction, who):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_io(who, h, targets, in_features, vocab_size):
    h = as_tensor(h)
    if h.ndim != 2 or h.shape[1] != in_features:
        raise ValueError(f"{who}: expected hidden states (N, {in_features}), got shape {h.shape}")
    t = np.asarray(targets._data if isinstance(targets, Tensor) else targets)
    if t.shape != (h.shape[0],) or t.dtype.kind not in "iu":
        raise ValueError(f"{who}: expected integer targets of shape ({h.shape[0]},), got {t.dtype} {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= vocab_size):
        bad = t.min() if t.min() < 0 else t.max()
        raise IndexError(f"{who}: target {int(bad)} is out of range for a vocabulary of {vocab_size}")
    return h, t


# ------------------------------------------------------------------- modules
class HierarchicalSoftmax(Module):
    """Softmax over V words as a walk down a Huffman tree (Morin & Bengio 2005; Mikolov et al. 2013).

        p(w | h) = prod_j sigmoid(s_j <h, v_{n_j}>),  s_j = +1 if the j-th branch is 0 else -1

    over the inner nodes n_j on w's path.  At every inner node the two branch
    probabilities sigmoid(z) and sigmoid(-z) add to one, so the leaves'
    probabilities sum to one without ever computing a normalizer.

    Args:
        vocab_counts: (V,) positive word counts; they shape the tree.
        in_features: H, the size of the hidden state.
        reduction: 'mean' | 'sum' | 'none' for `forward`'s loss.

    Parameter: `weight` (V - 1, H), one vector per inner node, zero-initialized
    as in word2vec (every word starts at p = 2^-len).

    Shape: h (N, H), targets (N,) ints -> loss (scalar, or (N,) with 'none').

    Example:
        >>> import numpy as np, deepnotes as dn, deepnotes.nn as nn
        >>> hs = nn.HierarchicalSoftmax(np.array([50, 20, 20, 10]), in_features=8)
        >>> hs.code_lengths()          # the most frequent word: one decision
        array([1, 3, 2, 3])
        >>> round(float(np.exp(hs.full_log_probs(dn.randn(2, 8)).numpy()).sum(axis=1)[0]), 6)
        1.0
    """

    def __init__(self, vocab_counts, in_features, reduction="mean"):
        super().__init__()
        counts = np.asarray(vocab_counts._data if isinstance(vocab_counts, Tensor) else vocab_counts)
        self.tree = build_huffman_tree(counts)
        self.vocab_size, self.in_features, self.reduction = counts.size, in_features, reduction
        self.weight = Parameter(np.zeros((counts.size - 1, in_features), dtype=np.float32))
        self._signs = np.where(np.arange(self.tree.nodes.shape[1]) < self.tree.lengths[:, None],
                               1.0 - 2.0 * self.tree.codes, 0.0)

    def code_lengths(self):
        """(V,) path length of each word: frequent words have short codes."""
        return self.tree.lengths.copy()

    def log_prob(self, h, targets):
        """log p(target | h) for each row: (N,), in O(N log V) work."""
        h, t = _check_io("HierarchicalSoftmax.log_prob", h, targets, self.in_features, self.vocab_size)
        width = int(self.tree.lengths[t].max()) if t.size else 1
        nodes = self.tree.nodes[t, :width]
        signs = self._signs[t, :width].astype(h.dtype)
        return PathLogProb.apply(h, self.weight, nodes=nodes, signs=signs)

    def forward(self, h, targets):
        """Negative log-likelihood of the targets, reduced as `reduction` says."""
        return _reduce(-self.log_prob(h, targets), self.reduction, "HierarchicalSoftmax")

    def full_log_probs(self, h):
        """(N, V) log-probabilities of every word, in O(N V log V): for checks and evaluation.

        Computed from all inner-node scores at once (h @ weight^T), a route
        independent of `log_prob`'s gather kernel, so each checks the other.
        """
        h = as_tensor(h)
        if h.ndim != 2 or h.shape[1] != self.in_features:
            raise ValueError(f"HierarchicalSoftmax.full_log_probs: expected (N, {self.in_features}), "
                             f"got shape {h.shape}")
        scores = h @ self.weight.T                                     # (N, V-1)
        signs = self._signs.astype(h.dtype)
        signed = scores[:, self.tree.nodes] * Tensor(signs)           # (N, V, L)
        return (LogSigmoid.apply(signed) * Tensor((signs != 0).astype(h.dtype))).sum(dim=2)

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, in_features={self.in_features}, "
                f"max_code_length={int(self.tree.lengths.max())}")


def expected_code_length(counts):
    """Count-weighted mean Huffman path length: the average number of sigmoids per example."""
    counts = np.asarray(counts, dtype=np.float64)
    return float((build_huffman_tree(counts).lengths * counts).sum() / counts.sum())
