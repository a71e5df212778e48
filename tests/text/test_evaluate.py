"""Embedding evaluation: neighbours, relatedness (Spearman), analogy, k-means, purity, PCA (inventory S6)."""
import numpy as np
import pytest
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

import deepnotes as dn
from deepnotes.text import (
    Vocab, evaluate_analogies, evaluate_relatedness, kmeans, kmeans_plus_plus, nearest_neighbors, pca, pca_2d,
    purity, rankdata, spearman,
)


def _vocab(words):
    return Vocab({w: len(words) - i for i, w in enumerate(words)})


# Hand-built embedding: axes "royal", "female", "fruit", and a shared "person" axis.
WORDS = ["man", "woman", "king", "queen", "apple", "pear", "banana", "prince"]
VECTORS = np.array([
    [0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 1.0],
    [0.0, 0.0, 2.0, 0.1], [0.1, 0.1, 2.0, 0.1], [0.0, 0.2, 1.9, 0.1], [0.9, 0.0, 0.0, 1.0],
])


@pytest.mark.covers("S6")
def test_nearest_neighbors_by_cosine():
    vocab = _vocab(WORDS)
    hits = nearest_neighbors(VECTORS, vocab, "apple", k=2)
    assert [w for w, _ in hits] == ["pear", "banana"]
    a, b = VECTORS[4], VECTORS[5]
    assert hits[0][1] == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert nearest_neighbors(dn.tensor(VECTORS), vocab, np.array([1.0, 0, 0, 1.0]), k=1)[0][0] == "king"


@pytest.mark.covers("S6")
@pytest.mark.parametrize("seed", range(4))
def test_spearman_and_ranks_match_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 6, 40).astype(float), rng.normal(size=40) + rng.integers(0, 3, 40)
    np.testing.assert_allclose(rankdata(x), stats.rankdata(x))
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert spearman(x, x ** 3) == pytest.approx(1.0)


@pytest.mark.covers("S6")
def test_relatedness_on_a_hand_built_embedding_with_oov_pairs():
    vocab = _vocab(WORDS)
    pairs = [("apple", "pear", 9.0), ("king", "queen", 7.0), ("man", "apple", 1.0), ("king", "banana", 0.5),
             ("apple", "durian", 8.0)]                      # durian is out of vocabulary
    result = evaluate_relatedness(VECTORS, vocab, pairs)
    assert result.n_found == 4 and result.n_pairs == 5 and result.coverage == pytest.approx(0.8)
    assert result.spearman == pytest.approx(1.0)            # cosines rank the pairs as the scores do
    reversed_scores = [(a, b, -s) for a, b, s in pairs]
    assert evaluate_relatedness(VECTORS, vocab, reversed_scores).spearman == pytest.approx(-1.0)


@pytest.mark.covers("S6")
def test_analogy_3cosadd_excludes_the_question_words():
    vocab = _vocab(WORDS)
    questions = {"gender": [("man", "woman", "king", "queen"), ("king", "queen", "man", "woman")],
                 "royal": [("man", "king", "woman", "queen"), ("man", "king", "pear", "durian")]}
    result = evaluate_analogies(VECTORS, vocab, questions)
    assert result.correct == 3 and result.evaluated == 3 and result.total == 4
    assert result.per_section == {"gender": (2, 2), "royal": (1, 1)} and result.coverage == 0.75
    # "man : man :: king : ?" has the answer king itself, which is excluded: the nearest other word is prince.
    assert evaluate_analogies(VECTORS, vocab, [("man", "man", "king", "prince")]).accuracy == 1.0


@pytest.mark.covers("S6")
def test_analogy_accuracy_at_k():
    vocab = _vocab(WORDS)
    q = [("man", "woman", "king", "prince")]     # prince is second best after queen
    assert evaluate_analogies(VECTORS, vocab, q, k=1).accuracy == 0.0
    assert evaluate_analogies(VECTORS, vocab, q, k=2).accuracy == 1.0


def _blobs(seed, n=300, k=4, d=5):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (k, d))
    labels = rng.integers(0, k, n)
    return centers[labels] + rng.normal(size=(n, d)), labels


@pytest.mark.covers("S6")
@pytest.mark.parametrize("seed", range(4))
def test_kmeans_matches_sklearn_given_the_same_init(seed):
    X, _ = _blobs(seed)
    X = X + np.random.default_rng(seed).normal(0, 2.0, X.shape)     # overlapping: several iterations
    init = X[np.random.default_rng(seed + 10).choice(len(X), 4, replace=False)]
    ours = kmeans(X, 4, init=init)
    theirs = KMeans(4, init=init, n_init=1, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels, theirs.labels_)
    np.testing.assert_allclose(ours.centers, theirs.cluster_centers_, rtol=1e-8)
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-8)


@pytest.mark.covers("S6")
def test_kmeans_plus_plus_recovers_separated_clusters_and_purity():
    X, labels = _blobs(0)
    result = kmeans(X, 4, generator=np.random.default_rng(0))
    assert purity(labels, result.labels) > 0.95
    seeds = kmeans_plus_plus(X, 4, np.random.default_rng(1))
    assert len({labels[np.argmin(((X - c) ** 2).sum(1))] for c in seeds}) >= 3   # spread-out seeds
    assert kmeans(X, 4, init="random", generator=np.random.default_rng(2)).inertia >= result.inertia * 0.999


@pytest.mark.covers("S6")
def test_purity_by_hand():
    assert purity([0, 0, 1, 1, 2, 2], [5, 5, 5, 7, 7, 7]) == pytest.approx(4 / 6)
    assert purity(["a", "b", "c"], [0, 1, 2]) == 1.0
    assert purity([0, 1, 0, 1], [0, 0, 0, 0]) == 0.5


@pytest.mark.covers("S6")
def test_pca_matches_sklearn_up_to_sign():
    X = np.random.default_rng(0).normal(size=(50, 6)) @ np.diag([5, 3, 1, 0.5, 0.2, 0.1])
    proj, components, ratio = pca(X, 2)
    ref = PCA(2).fit(X)
    signs = np.sign((proj * ref.transform(X)).sum(0))
    np.testing.assert_allclose(proj * signs, ref.transform(X), atol=1e-10)
    np.testing.assert_allclose(ratio, ref.explained_variance_ratio_, rtol=1e-10)
    assert pca_2d(X).shape == (50, 2)
