"""Evaluating word embeddings: similarity, relatedness, analogy, clustering, 2-D maps (inventory S6).

Intrinsic evaluations, each a different question about the geometry:

- relatedness: do cosine similarities rank word pairs as people do?
  Spearman's rho against human scores (WordSim-353, SimLex-999).
- analogy: is "b - a + c" closest to d ("man : king :: woman : queen")?
  3CosAdd on unit vectors (Mikolov et al. 2013), the three question words
  excluded from the answers, accuracy@k.
- categorization: do k-means clusters of the vectors recover known classes?
  Purity of the clusters.
- a 2-D projection (PCA) to look at.

Everything takes an embedding matrix (V, D) (a NumPy array or a Tensor) and
a `Vocab` (or any object with `stoi`/`itos`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import random as _random


def _matrix(embeddings):
    data = getattr(embeddings, "data", embeddings)
    data = getattr(data, "data", data)  # a Parameter inside a module's .weight
    return np.asarray(data, dtype=np.float64)


def unit_rows(embeddings):
    """Rows scaled to unit length (zero rows stay zero)."""
    m = _matrix(embeddings)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


def nearest_neighbors(embeddings, vocab, query, k=10, exclude_query=True):
    """The k words closest to `query` (a word or a vector) by cosine: [(word, cosine), ...]."""
    unit = unit_rows(embeddings)
    if isinstance(query, str):
        idx = vocab.stoi.get(query)
        if idx is None:
            raise KeyError(f"nearest_neighbors: {query!r} is not in the vocabulary")
        vec, skip = unit[idx], idx if exclude_query else None
    else:
        vec, skip = np.asarray(query, dtype=np.float64), None
        vec = vec / (np.linalg.norm(vec) or 1.0)
    sims = unit @ vec
    if skip is not None:
        sims[skip] = -np.inf
    k = min(k, len(sims) - (skip is not None))
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return [(vocab.itos[i], float(sims[i])) for i in top]


# --------------------------------------------------------------- relatedness
def rankdata(x):
    """Ranks 1..n, ties given their average rank (as scipy.stats.rankdata's default)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    starts_group = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    group = np.cumsum(starts_group) - 1
    first = np.flatnonzero(starts_group)
    last = np.concatenate([first[1:], [x.size]]) - 1
    ranks = np.empty(x.size)
    ranks[order] = ((first + last) / 2 + 1)[group]
    return ranks


def spearman(x, y):
    """Spearman's rho: the Pearson correlation of the ranks (Spearman 1904)."""
    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else float("nan")


@dataclass(frozen=True)
class RelatednessResult:
    spearman: float   # rho between cosines and human scores, over the covered pairs
    n_pairs: int      # pairs in the data set
    n_found: int      # pairs with both words in the vocabulary
    coverage: float   # n_found / n_pairs


def evaluate_relatedness(embeddings, vocab, pairs):
    """Spearman's rho between cosine similarity and human scores; pairs with an
    out-of-vocabulary word are skipped and reported through `coverage`.

    Args:
        pairs: [(word1, word2, score), ...].
    """
    unit = unit_rows(embeddings)
    found = [(vocab.stoi[a], vocab.stoi[b], s) for a, b, s in pairs if a in vocab.stoi and b in vocab.stoi]
    n = len(pairs)
    if len(found) < 2:
        return RelatednessResult(float("nan"), n, len(found), len(found) / n if n else 0.0)
    i, j, human = (np.array(col) for col in zip(*found))
    cosines = np.einsum("nd,nd->n", unit[i], unit[j])
    return RelatednessResult(spearman(cosines, human), n, len(found), len(found) / n)


# ------------------------------------------------------------------- analogy
@dataclass(frozen=True)
class AnalogyResult:
    accuracy: float        # correct / evaluated (covered questions only)
    correct: int
    evaluated: int         # questions whose four words are all in the vocabulary
    total: int
    per_section: dict      # section -> (correct, evaluated)

    @property
    def coverage(self):
        return self.evaluated / self.total if self.total else 0.0


def analogy_answers(embeddings, a, b, c, k=1, batch_size=1024):
    """Top-k ids for "a : b :: c : ?" by 3CosAdd: argmax_d cos(d, b - a + c),
    on unit vectors, excluding a, b and c themselves.  a, b, c: (Q,) ids -> (Q, k)."""
    unit = unit_rows(embeddings)
    a, b, c = (np.asarray(v, dtype=np.int64) for v in (a, b, c))
    out = np.empty((a.size, k), dtype=np.int64)
    for start in range(0, a.size, batch_size):  # batches bound the (batch, V) score matrix
        s = slice(start, start + batch_size)
        scores = (unit[b[s]] - unit[a[s]] + unit[c[s]]) @ unit.T
        rows = np.arange(scores.shape[0])
        for col in (a[s], b[s], c[s]):
            scores[rows, col] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        out[s] = np.take_along_axis(top, order, axis=1)
    return out


def evaluate_analogies(embeddings, vocab, questions, k=1):
    """accuracy@k of 3CosAdd with the question words excluded.

    Args:
        questions: {section: [(a, b, c, d), ...]} (as `corpora.load_analogies`)
            or a plain list of 4-tuples.  Questions with a word outside the
            vocabulary are skipped (counted in `total`, not in `evaluated`).
    """
    sections = questions if isinstance(questions, dict) else {"all": list(questions)}
    stoi = vocab.stoi
    per_section, ids, tags = {}, [], []
    total = 0
    for name, items in sections.items():
        total += len(items)
        kept = [tuple(stoi[w] for w in q) for q in items if all(w in stoi for w in q)]
        ids.extend(kept)
        tags.extend([name] * len(kept))
        per_section[name] = [0, len(kept)]
    if not ids:
        return AnalogyResult(float("nan"), 0, 0, total, {n: tuple(v) for n, v in per_section.items()})
    q = np.array(ids)
    hits = (analogy_answers(embeddings, q[:, 0], q[:, 1], q[:, 2], k) == q[:, 3:4]).any(axis=1)
    for name, hit in zip(tags, hits):
        per_section[name][0] += int(hit)
    correct = int(hits.sum())
    return AnalogyResult(correct / len(ids), correct, len(ids), total,
                         {n: tuple(v) for n, v in per_section.items()})


# -------------------------------------------------------------- clustering
@dataclass(frozen=True)
class KMeansResult:
    centers: np.ndarray   # (k, D)
    labels: np.ndarray    # (N,)
    inertia: float        # sum of squared distances to the assigned centers
    n_iter: int


def _squared_distances(X, centers):
    """(N, k) squared Euclidean distances via |x|^2 - 2 x.c + |c|^2 (one GEMM)."""
    d = (X * X).sum(1)[:, None] - 2 * X @ centers.T + (centers * centers).sum(1)[None, :]
    return np.maximum(d, 0)


def kmeans_plus_plus(X, n_clusters, generator=None):
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each new center is drawn with
    probability proportional to the squared distance to the nearest chosen one."""
    rng = generator or _random.default_generator()
    X = np.asarray(X, dtype=np.float64)
    centers = [X[rng.integers(len(X))]]
    closest = _squared_distances(X, centers[0][None])[:, 0]
    for _ in range(1, n_clusters):
        total = closest.sum()
        idx = rng.integers(len(X)) if total == 0 else rng.choice(len(X), p=closest / total)
        centers.append(X[idx])
        closest = np.minimum(closest, _squared_distances(X, X[idx][None])[:, 0])
    return np.array(centers)


def _update_centers(X, labels, old_centers):
    k = len(old_centers)
    sums = np.zeros_like(old_centers)
    np.add.at(sums, labels, X)
    sizes = np.bincount(labels, minlength=k)
    centers = sums / np.maximum(sizes, 1)[:, None]
    empty = np.flatnonzero(sizes == 0)
    if empty.size:
        # An empty cluster restarts at the points farthest from their current center.
        far = np.argsort(-_squared_distances(X, old_centers)[np.arange(len(X)), labels])[: empty.size]
        centers[empty] = X[far]
    return centers


def kmeans(X, n_clusters, init="k-means++", max_iter=300, tol=1e-4, generator=None):
    """Lloyd's algorithm (Lloyd 1982): assign each point to the nearest center, move each
    center to the mean of its points, repeat.

    Args:
        X: (N, D).  n_clusters: k.
        init: 'k-means++', 'random' (k distinct points), or a (k, D) array of centers.
        tol: stop when the summed squared center shift is <= tol * mean feature
            variance (scikit-learn's criterion), or when no label changes.

    Returns:
        KMeansResult(centers, labels, inertia, n_iter).  With the same initial
        centers it gives scikit-learn's KMeans(algorithm='lloyd') labels.
    """
    X = np.asarray(X, dtype=np.float64)
    rng = generator or _random.default_generator()
    if isinstance(init, str):
        if init == "k-means++":
            centers = kmeans_plus_plus(X, n_clusters, rng)
        elif init == "random":
            centers = X[rng.choice(len(X), n_clusters, replace=False)].copy()
        else:
            raise ValueError(f"kmeans: init must be 'k-means++', 'random' or an array, got {init!r}")
    else:
        centers = np.array(init, dtype=np.float64)
        if centers.shape != (n_clusters, X.shape[1]):
            raise ValueError(f"kmeans: init has shape {centers.shape}, expected {(n_clusters, X.shape[1])}")
    threshold = tol * X.var(axis=0).mean()
    labels_before = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        labels = _squared_distances(X, centers).argmin(axis=1)
        if labels_before is not None and np.array_equal(labels, labels_before):
            break  # converged exactly: the update would not move the centers
        new_centers = _update_centers(X, labels, centers)
        shift = ((new_centers - centers) ** 2).sum()
        centers, labels_before = new_centers, labels
        if shift <= threshold:
            break
    d = _squared_distances(X, centers)
    labels = d.argmin(axis=1)
    return KMeansResult(centers, labels, float(d[np.arange(len(X)), labels].sum()), n_iter)


def purity(labels_true, labels_pred):
    """Fraction of points whose cluster's majority class is their class (1.0 = pure)."""
    t = np.unique(np.asarray(labels_true), return_inverse=True)[1]
    p = np.unique(np.asarray(labels_pred), return_inverse=True)[1]
    table = np.zeros((p.max() + 1, t.max() + 1), dtype=np.int64)
    np.add.at(table, (p, t), 1)
    return float(table.max(axis=1).sum() / len(t))


# --------------------------------------------------------------- projection
def pca(X, n_components=2):
    """Project X (N, D) on its top principal axes via the SVD of the centered data.

    Returns (projection (N, n_components), components (n_components, D),
    explained_variance_ratio).  Each axis's sign is fixed so that its
    largest-magnitude loading is positive (scikit-learn's convention).
    """
    X = np.asarray(X, dtype=np.float64)
    centered = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    components = vt[:n_components]
    signs = np.sign(components[np.arange(n_components), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    variance = s ** 2
    return centered @ components.T, components, variance[:n_components] / variance.sum()


def pca_2d(X):
    """The 2-D PCA map of X (N, D): (N, 2)."""
    return pca(X, 2)[0]
