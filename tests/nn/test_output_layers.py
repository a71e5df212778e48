"""Huffman tree, hierarchical softmax and expected code length (inventory S7, P4)."""
import heapq
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.layers.output_layers import build_huffman_tree, expected_code_length
from tests.oracle import assert_close, gradcheck
from tests.doctests import assert_examples_run

COUNTS = [
    np.array([5, 9, 12, 13, 16, 45]),                         # the textbook example
    np.array([1, 1]),
    np.random.default_rng(0).integers(1, 1000, 37),
    (1000 / np.arange(1, 60)).round() + 1,                    # Zipf-like
]


def _reference_code_lengths(counts):
    """Huffman code lengths with heapq, written independently of the library's two queues."""
    heap = [(float(c), i, [i]) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    depth = np.zeros(len(counts), dtype=int)
    tie = len(counts)
    while len(heap) > 1:
        c1, _, leaves1 = heapq.heappop(heap)
        c2, _, leaves2 = heapq.heappop(heap)
        depth[leaves1 + leaves2] += 1
        heapq.heappush(heap, (c1 + c2, tie, leaves1 + leaves2))
        tie += 1
    return depth


def _hs(counts, D=4, seed=0):
    hs = nn.HierarchicalSoftmax(counts, D).double()
    hs.weight.data[...] = np.random.default_rng(seed).normal(0, 1, hs.weight.shape)
    return hs


@pytest.mark.covers("S7")
@pytest.mark.parametrize("counts", COUNTS, ids=range(len(COUNTS)))
def test_huffman_tree_is_optimal_and_prefix_free(counts):
    tree = build_huffman_tree(counts)
    V = len(counts)
    ref = _reference_code_lengths(counts)
    assert (tree.lengths * counts).sum() == (ref * counts).sum()   # minimal weighted path length
    codes = {"".join(map(str, tree.codes[w, :tree.lengths[w]])) for w in range(V)}
    assert len(codes) == V and not any(a != b and b.startswith(a) for a in codes for b in codes)
    assert np.all(tree.nodes[:, 0] == V - 2)                        # every path starts at the root
    # Kraft equality: a full binary tree's leaves satisfy sum 2^-len = 1.
    assert np.isclose(np.sum(2.0 ** -tree.lengths), 1.0)


@pytest.mark.covers("S7")
@pytest.mark.parametrize("counts", COUNTS[2:], ids=["random", "zipf"])
def test_frequent_words_get_shorter_codes(counts):
    lengths = build_huffman_tree(counts).lengths
    order = np.argsort(-counts, kind="stable")
    assert np.all(np.diff(lengths[order]) >= 0)       # sorted by count, lengths never shrink
    assert lengths[order[0]] < lengths[order[-1]]


@pytest.mark.covers("S7")
@pytest.mark.parametrize("counts", COUNTS, ids=range(len(COUNTS)))
def test_full_distribution_sums_to_one(counts):
    hs = _hs(counts, D=5)
    h = dn.tensor(np.random.default_rng(1).normal(0, 2, (7, 5)))
    probs = np.exp(hs.full_log_probs(h).numpy())
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.covers("S7")
def test_log_prob_matches_brute_force_walk_over_the_tree():
    """Walk each leaf up to the root through the parent pointers, multiplying the branch
    probabilities sigmoid(+-<h, v_parent>) one scalar at a time."""
    counts = COUNTS[2]
    hs = _hs(counts, D=3, seed=2)
    tree, V = hs.tree, len(counts)
    h = np.random.default_rng(3).normal(size=(4, 3))
    targets = np.array([0, 5, 36, 5])
    expected = []
    for row, w in zip(h, targets):
        bits_leaf_up = list(tree.codes[w, :tree.lengths[w]][::-1])
        logp, node = 0.0, w
        while tree.parent[node] >= 0:
            parent = tree.parent[node]
            score = float(row @ hs.weight.numpy()[parent - V])
            bit = bits_leaf_up.pop(0)
            logp += math.log(1 / (1 + math.exp(-score if bit == 0 else score)))
            node = parent
        assert not bits_leaf_up and node == 2 * V - 2   # the path ended at the root
        expected.append(logp)
    got = hs.log_prob(dn.tensor(h), targets).numpy()
    full = hs.full_log_probs(dn.tensor(h)).numpy()[np.arange(4), targets]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(full, expected, rtol=1e-12)


@pytest.mark.covers("S7")
def test_hierarchical_softmax_gradcheck():
    hs = _hs(COUNTS[3], D=4, seed=4)
    targets = np.array([0, 3, 58, 20, 3])
    h, w = np.random.default_rng(5).normal(size=(5, 4)), hs.weight.numpy().copy()
    gradcheck(lambda h, w: _with_weight(hs, w, lambda: hs.log_prob(h, targets)), [h, w])
    gradcheck(lambda h, w: _with_weight(hs, w, lambda: hs.full_log_probs(h)), [h, w])


def _with_weight(module, weight, fn):
    saved = module._parameters["weight"]
    module._parameters["weight"] = weight
    try:
        return fn()
    finally:
        module._parameters["weight"] = saved


@pytest.mark.covers("S7")
def test_gather_kernel_and_full_route_give_the_same_gradients():
    hs = _hs(COUNTS[2], D=6, seed=6)
    h_data = np.random.default_rng(7).normal(size=(8, 6))
    targets = np.random.default_rng(8).integers(0, len(COUNTS[2]), 8)
    results = []
    for route in ("kernel", "full"):
        hs.zero_grad()
        h = dn.tensor(h_data, requires_grad=True)
        lp = hs.log_prob(h, targets) if route == "kernel" else \
            hs.full_log_probs(h)[np.arange(8), targets]
        (lp * dn.tensor(np.linspace(0.5, 1.5, 8))).sum().backward()
        results.append((lp.numpy(), h.grad.numpy(), hs.weight.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.covers("S7")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_forward_is_the_reduced_negative_log_likelihood(reduction):
    counts = COUNTS[2]
    hs = _hs(counts, D=4)
    hs.reduction = reduction
    h = dn.tensor(np.random.default_rng(9).normal(size=(6, 4)))
    t = np.array([1, 2, 3, 4, 5, 6])
    full = hs.full_log_probs(h).numpy()
    expected = TF.nll_loss(torch.tensor(full), torch.tensor(t), reduction=reduction).numpy()
    assert_close(hs(h, t), expected, "HierarchicalSoftmax loss", atol=1e-12)


@pytest.mark.covers("S7")
def test_balanced_counts_give_log2_v_codes_and_zero_init_is_uniform():
    hs = nn.HierarchicalSoftmax(np.ones(16), 3)
    assert np.all(hs.code_lengths() == 4)
    p = np.exp(hs.full_log_probs(dn.randn(2, 3)).numpy())
    np.testing.assert_allclose(p, 1 / 16, rtol=1e-6)          # zero vectors: every branch 1/2
    assert hs(dn.randn(2, 3), np.array([0, 1])).item() == pytest.approx(4 * math.log(2), rel=1e-6)


@pytest.mark.covers("S7")
def test_hierarchical_softmax_errors():
    hs = nn.HierarchicalSoftmax(np.ones(8), 3)
    with pytest.raises(ValueError, match=r"expected hidden states \(N, 3\)"):
        hs(dn.randn(2, 4), np.array([0, 1]))
    with pytest.raises(IndexError, match="target 8 is out of range for a vocabulary of 8"):
        hs(dn.randn(2, 3), np.array([0, 8]))
    with pytest.raises(ValueError, match="at least 2 counts"):
        nn.HierarchicalSoftmax(np.ones(1), 3)


@pytest.mark.covers("S7", "P4")
def test_expected_huffman_length_is_within_one_bit_of_the_entropy():
    counts = (1e6 / np.arange(1, 5001)).round() + 1        # Zipf
    p = counts / counts.sum()
    entropy = -(p * np.log2(p)).sum()
    length = expected_code_length(counts)
    assert entropy <= length < entropy + 1
    assert length < math.log2(len(counts))                # cheaper than a balanced tree
    assert build_huffman_tree(counts).lengths.max() > math.log2(len(counts))   # rare words pay


@pytest.mark.covers("S7")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.nn.layers.output_layers")
