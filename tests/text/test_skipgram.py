"""The skip-gram trainer: its hand-written gradients vs autograd, pair generation, sampling, training (S6, S7)."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.ops.embedding import scatter_add_rows
from deepnotes.nn.layers.sampled_losses import noise_distribution
from deepnotes.text import (
    SkipGram, corpora, evaluate_analogies, evaluate_relatedness, hierarchical_softmax_grads, kmeans,
    negative_sampling_grads, purity,
)
from deepnotes.text.skipgram import keep_probabilities, noise_table, skipgram_pairs
from tests.doctests import assert_examples_run

V, D, B = 12, 5, 9
COUNTS = np.array([40, 30, 22, 15, 10, 8, 6, 5, 3, 2, 2, 1])


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    w_in, w_out = rng.normal(0, 0.5, (V, D)), rng.normal(0, 0.5, (V, D))
    centers, contexts = rng.integers(0, V, B), rng.integers(0, V, B)
    centers[:3] = 4  # a repeated center: its gradients must add up
    return w_in, w_out, centers, contexts, rng.integers(0, V, (B, 3))


@pytest.mark.covers("S6", "S7")
def test_negative_sampling_grads_equal_autograd():
    w_in, w_out, centers, contexts, negatives = _batch()
    loss, grad_v, rows, grad_u = negative_sampling_grads(w_in, w_out, centers, contexts, negatives)
    emb = nn.Embedding.from_pretrained(w_in, freeze=False)
    ns = nn.NegativeSamplingLoss(COUNTS, D, num_negatives=3, reduction="sum").double()
    ns.weight.data[...] = w_out
    total = ns(emb(dn.tensor(centers)), contexts, negatives)
    total.backward()
    assert loss.sum() == pytest.approx(total.item(), rel=1e-12)
    np.testing.assert_allclose(scatter_add_rows(np.zeros((V, D)), centers, grad_v), emb.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(scatter_add_rows(np.zeros((V, D)), rows, grad_u), ns.weight.grad.numpy(), rtol=1e-10)


@pytest.mark.covers("S6", "S7")
def test_hierarchical_softmax_grads_equal_autograd():
    w_in, _, centers, contexts, _ = _batch(1)
    hs = nn.HierarchicalSoftmax(COUNTS, D, reduction="sum").double()
    hs.weight.data[...] = np.random.default_rng(2).normal(0, 0.5, hs.weight.shape)
    tree = hs.tree
    width = int(tree.lengths[contexts].max())
    signs = np.where(np.arange(width) < tree.lengths[contexts][:, None], 1.0 - 2.0 * tree.codes[contexts, :width], 0)
    nodes = tree.nodes[contexts, :width]
    loss, grad_v, rows, grad_rows = hierarchical_softmax_grads(w_in, hs.weight.numpy(), centers, nodes, signs)
    emb = nn.Embedding.from_pretrained(w_in, freeze=False)
    total = hs(emb(dn.tensor(centers)), contexts)
    total.backward()
    assert loss.sum() == pytest.approx(total.item(), rel=1e-12)
    np.testing.assert_allclose(scatter_add_rows(np.zeros((V, D)), centers, grad_v), emb.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(scatter_add_rows(np.zeros_like(hs.weight.numpy()), rows, grad_rows), hs.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-14)


@pytest.mark.covers("S6")
@pytest.mark.parametrize("shrink", [False, True])
def test_pairs_match_a_plain_loop_over_tokens(shrink):
    ids = np.array([5, 1, 2, 7, 3, 3, 0, 4, 6, 1])
    sentence_ids = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2])
    window = 3
    centers, contexts = skipgram_pairs(ids, sentence_ids, window, np.random.default_rng(0), shrink)
    spans = np.random.default_rng(0).integers(1, window + 1, ids.size) if shrink else np.full(ids.size, window)
    expected = []
    for i in range(ids.size):
        for j in range(ids.size):
            if i != j and abs(i - j) <= spans[i] and sentence_ids[i] == sentence_ids[j]:
                expected.append((int(ids[i]), int(ids[j])))
    assert sorted(zip(centers.tolist(), contexts.tolist())) == sorted(expected)
    assert centers.tolist() == [c for c, _ in expected]   # corpus order: centers by position


@pytest.mark.covers("S6")
def test_subsampling_keeps_rare_words_and_thins_frequent_ones():
    counts = np.array([100_000, 1000, 10], dtype=float)
    keep = keep_probabilities(counts, 1e-3)
    t = 1e-3 * counts.sum()
    np.testing.assert_allclose(keep[0], (np.sqrt(counts[0] / t) + 1) * t / counts[0])
    assert keep[0] < 0.2 and keep[2] == 1.0
    assert np.all(keep_probabilities(counts, 0) == 1)


@pytest.mark.covers("S6", "S7")
def test_noise_table_draws_follow_unigram_three_quarters():
    q = noise_distribution(COUNTS)
    table = noise_table(q, size=100_000)
    np.testing.assert_allclose(np.bincount(table, minlength=V) / table.size, q, atol=2e-5)


def _topic_corpus(seed=0, n=400):
    """Sentences from one of two topics: words of a topic co-occur, never across topics."""
    rng = np.random.default_rng(seed)
    topics = [[f"a{i}" for i in range(8)], [f"b{i}" for i in range(8)]]
    return [list(rng.choice(topics[rng.integers(2)], 8)) for _ in range(n)]


@pytest.mark.covers("S6", "S7")
@pytest.mark.parametrize("hs,negative", [(False, 5), (True, 0)])
def test_skipgram_separates_two_topics(hs, negative):
    sentences = _topic_corpus()
    model = SkipGram(vector_size=16, window=3, min_count=1, sample=0, hs=hs, negative=negative, epochs=3,
                     alpha=0.05, batch_size=256, seed=0).fit(sentences)
    assert model.epoch_losses[-1] < model.epoch_losses[0]
    neighbours = [w for w, _ in model.most_similar("a0", topn=5)]
    assert all(w.startswith("a") for w in neighbours), neighbours
    words = model.vocab.itos
    labels = kmeans(model.vectors, 2, generator=np.random.default_rng(0)).labels
    assert purity([w[0] for w in words], labels) == 1.0


@pytest.mark.covers("S6")
def test_skipgram_on_part_of_the_lee_corpus_runs_the_real_evaluations():
    """A few seconds of training on real text, then WordSim-353 and the analogy set end to end."""
    sentences = corpora.load_lee_corpus(max_lines=80)
    model = SkipGram(vector_size=32, min_count=2, epochs=2, seed=0).fit(sentences)
    assert model.vectors.shape == (len(model.vocab), 32) and model.vectors.dtype == np.float32
    assert model.epoch_losses[-1] < model.epoch_losses[0]
    rel = evaluate_relatedness(model.vectors, model.vocab, corpora.load_word_pairs("wordsim353"))
    assert 0 < rel.coverage < 0.5 and -1 <= rel.spearman <= 1
    ana = evaluate_analogies(model.vectors, model.vocab, corpora.load_analogies())
    assert ana.evaluated > 0 and 0 <= ana.accuracy <= 1


@pytest.mark.covers("S6")
def test_skipgram_needs_an_output_layer_and_enough_words():
    with pytest.raises(ValueError, match="negative > 0 and/or hs=True"):
        SkipGram(negative=0, hs=False)
    with pytest.raises(ValueError, match="only 1 words"):
        SkipGram(min_count=1).fit([["a", "a"]])


@pytest.mark.covers("S6")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.text.skipgram")
