"""Univariate feature filters: ANOVA F and mutual information, and `SelectKBest` (M2).

With few minority samples and many features, a model overfits the noise
features first; a filter that scores each feature against the labels on the
training split, without a model, and keeps the k best is the cheap remedy.

- `f_classif`: one-way ANOVA F, between-class over within-class variance.  It
  sees only differences of class *means*.
- `mutual_info_classif`: I(X_j; Y) in nats, the reduction of uncertainty about
  the class from knowing the feature.  It sees any dependence (a class that
  lives in both tails of a feature has no mean shift and F ~ 0, but high MI).
  For a continuous feature it is Ross's (2014) nearest-neighbour estimator,
  the discrete-target form of Kraskov, Stoegbauer & Grassberger (2004):

      I = psi(N) + <psi(k_i)> - <psi(N_{y_i})> - <psi(m_i)>

  where psi is the digamma function, k_i = min(k, N_{y_i} - 1) neighbours are
  taken among the samples of the same class, d_i is the distance to the k_i-th
  of them, and m_i counts the samples of *any* class strictly closer than d_i
  (itself included).  Samples alone in their class are dropped.  A discrete
  feature uses the plug-in estimate sum p(x, y) log(p(x, y) / (p(x) p(y))).
  Estimates below 0 are set to 0.

As scikit-learn, continuous features are divided by their standard deviation
and get Gaussian noise of scale 1e-10 (times max(1, mean |x|)) to break ties,
drawn from `np.random.RandomState(random_state)` -- the same legacy stream, so
a seed gives scikit-learn's numbers exactly.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..errors import EmptyInputError
from .resampling import _check_xy


def f_classif(X, y):
    """One-way ANOVA F statistic and p-value of every feature against the classes.

    F_j = [sum_c n_c (mean_cj - mean_j)^2 / (K - 1)] / [sum_c sum_{i in c} (x_ij - mean_cj)^2 / (N - K)]:
    between-class over within-class variance.  Returns `(F, p)`, each (D,).
    """
    from scipy import stats

    X, y = _check_xy("f_classif", X, y)
    X = X.astype(np.float64)
    classes = np.unique(y)
    n, k = len(y), len(classes)
    mean = X.mean(axis=0)
    between = sum((y == c).sum() * (X[y == c].mean(axis=0) - mean) ** 2 for c in classes)
    within = sum(((X[y == c] - X[y == c].mean(axis=0)) ** 2).sum(axis=0) for c in classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (between / (k - 1)) / (within / (n - k))
    return f, stats.f.sf(f, k - 1, n - k)


def _kth_neighbour_distance(x, k):
    """(m,) distance from each of the m values in `x` to its k-th nearest other value (1-D).

    scikit-learn's neighbour search switches to brute force when k >= m // 2,
    and brute force computes distances by the Gram expansion
    sqrt(x_i^2 - 2 x_i x_j + x_j^2), which rounds differently from |x_i - x_j|;
    the radius (and so which samples fall inside it) follows that rounding, so
    we reproduce it there.  Otherwise the distances are exact.
    """
    m = len(x)
    if k >= m // 2:
        d2 = -2 * np.outer(x, x) + (x * x)[:, None] + (x * x)[None, :]
        d = np.sqrt(np.maximum(d2, 0))
        np.fill_diagonal(d, np.inf)
        return np.partition(d, k - 1, axis=1)[:, k - 1]
    order = np.argsort(x, kind="mergesort")
    s = x[order]
    pos = np.arange(m)[:, None] + np.r_[np.arange(-k, 0), np.arange(1, k + 1)][None, :]  # the k on each side
    inside = (pos >= 0) & (pos < m)
    d = np.where(inside, np.abs(s[pos.clip(0, m - 1)] - s[:, None]), np.inf)
    out = np.empty(m)
    out[order] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return out


def _count_within(x, radius):
    """(m,) number of values x_j with |x_j - x_i| <= radius_i (x_i itself included), in O(m log m)."""
    s = np.sort(x)
    m = len(s)
    lo = np.searchsorted(s, x - radius, side="left")
    hi = np.searchsorted(s, x + radius, side="right")
    # x +- radius is rounded: move each end by one while it disagrees with the exact test |x_j - x_i| <= r
    while True:
        grow_hi = (hi < m) & (np.abs(s[np.minimum(hi, m - 1)] - x) <= radius)
        shrink_hi = (hi > 0) & (np.abs(s[np.maximum(hi - 1, 0)] - x) > radius)
        grow_lo = (lo > 0) & (np.abs(s[np.maximum(lo - 1, 0)] - x) <= radius)
        shrink_lo = (lo < m) & (np.abs(s[np.minimum(lo, m - 1)] - x) > radius)
        if not (grow_hi.any() or shrink_hi.any() or grow_lo.any() or shrink_lo.any()):
            return hi - lo
        hi = hi + grow_hi - (shrink_hi & ~grow_hi)
        lo = lo - grow_lo + (shrink_lo & ~grow_lo)


def _mi_continuous(x, y, n_neighbors):
    """Ross's (2014) estimate of I(x; y) for a continuous x and class labels y, in nats."""
    from scipy.special import digamma

    classes, code, counts = np.unique(y, return_inverse=True, return_counts=True)
    keep = counts[code] > 1  # a sample alone in its class has no neighbour of its class
    radius, k_of = np.zeros(len(x)), np.zeros(len(x))
    for c in np.flatnonzero(counts > 1):
        mask = code == c
        k = min(n_neighbors, counts[c] - 1)
        # samples strictly inside the k-th neighbour's distance: the largest float below it, inclusive
        radius[mask] = np.nextafter(_kth_neighbour_distance(x[mask], k), 0)
        k_of[mask] = k
    x, radius = x[keep], radius[keep]
    if not keep.any():
        return 0.0
    m = _count_within(x, radius)
    mi = digamma(keep.sum()) + np.mean(digamma(k_of[keep])) - np.mean(digamma(counts[code][keep])) \
        - np.mean(digamma(m))
    return max(0.0, float(mi))


def _mi_discrete(x, y):
    """Plug-in I(x; y) of two discrete variables from their contingency table, in nats."""
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    table = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(table, (xi, yi), 1.0)
    if table.shape[0] == 1 or table.shape[1] == 1:
        return 0.0
    n = table.sum()
    i, j = np.nonzero(table)
    nij = table[i, j]
    terms = nij / n * (np.log(nij) + np.log(n) - np.log(table.sum(1)[i]) - np.log(table.sum(0)[j]))
    return max(0.0, float(terms.sum()))


def _discrete_mask(fn, discrete_features, d):
    if isinstance(discrete_features, str):
        if discrete_features != "auto":
            raise ValueError(f"{fn}: discrete_features must be 'auto', a bool, a boolean mask or indices, "
                             f"got {discrete_features!r}")
        return np.zeros(d, dtype=bool)  # dense X: all continuous, as scikit-learn's 'auto'
    if isinstance(discrete_features, (bool, np.bool_)):
        return np.full(d, bool(discrete_features))
    given = np.asarray(discrete_features)
    if given.dtype == bool:
        if given.shape != (d,):
            raise ValueError(f"{fn}: the discrete_features mask must have {d} entries, got shape {given.shape}")
        return given
    if given.dtype.kind not in "iu" or given.ndim != 1 or (given.size and not (-d <= given.min() and given.max() < d)):
        raise ValueError(f"{fn}: discrete_features indices must be ints in [0, {d}), got {given.tolist()}")
    mask = np.zeros(d, dtype=bool)
    mask[given] = True
    return mask


def mutual_info_classif(X, y, *, discrete_features="auto", n_neighbors=3, copy=True, random_state=None,
                        n_jobs=None):
    """Mutual information I(X_j; y) of every feature with the class labels, in nats: (D,) (see above).

    Args:
        X: (N, D) features.  y: (N,) class labels (ints or strings).
        discrete_features: "auto" (all continuous for a dense X), a bool for
            all features, a (D,) boolean mask or the indices of the discrete ones.
        n_neighbors: k of the nearest-neighbour estimator (larger: less
            variance, more bias).
        random_state: int seed, None or a `np.random.RandomState` for the
            tie-breaking noise.  `copy` and `n_jobs` are accepted for
            scikit-learn's signature (X is never modified; one process).

    Example:
        >>> X = np.c_[np.arange(20.0), np.arange(20) % 2]  # the first feature separates the classes
        >>> mutual_info_classif(X, [0] * 10 + [1] * 10, discrete_features=[1], random_state=0).round(3).tolist()
        [0.66, 0.0]

    Small classes: with k >= N_c // 2 the neighbour distances are computed by
    brute force with scikit-learn's rounding (see `_kth_neighbour_distance`); on a
    (nearly) constant feature the noise-scale distances are then lost to
    rounding and the estimate is large and meaningless, in both libraries.
    """
    fn = "mutual_info_classif"
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, numbers.Integral) or n_neighbors < 1:
        raise ValueError(f"{fn}: n_neighbors must be an int >= 1, got {n_neighbors!r}")
    X, y = _check_xy(fn, X, y)
    if X.size == 0:
        raise EmptyInputError(f"{fn}: X is empty (shape {X.shape}); expected at least 1 sample and 1 feature")
    if X.dtype.kind not in "biuf" or not np.all(np.isfinite(X)):
        raise ValueError(f"{fn}: X must hold finite numbers, got dtype {X.dtype}"
                         + (" with NaN or infinity" if X.dtype.kind in "f" else ""))
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError(f"{fn}: y holds continuous values; expected class labels (ints or strings)")
    discrete = _discrete_mask(fn, discrete_features, X.shape[1])
    rng = random_state if isinstance(random_state, np.random.RandomState) else np.random.RandomState(random_state)
    if (~discrete).any():
        X = X.astype(np.float64)  # a copy: the caller's X is not touched
        cont = X[:, ~discrete]
        std = cont.std(axis=0)
        cont = cont / np.where(std < 10 * np.finfo(np.float64).eps, 1.0, std)
        scale = np.maximum(1.0, np.mean(np.abs(cont), axis=0))
        X[:, ~discrete] = cont + 1e-10 * scale * rng.standard_normal(size=cont.shape)
    return np.array([_mi_discrete(X[:, j], y) if discrete[j] else _mi_continuous(X[:, j], y, n_neighbors)
                     for j in range(X.shape[1])])


class SelectKBest:
    """Keep the k features with the highest univariate scores (default: ANOVA F).

    `score_func(X, y)` returns the scores, or `(scores, pvalues)` (as `f_classif`);
    `fit(X, y)` sets `scores_` and `pvalues_` (None without p-values);
    `transform(X)` keeps the columns of `get_support(indices=True)` (ties
    broken by keeping the later column, as scikit-learn).  For mutual
    information with a fixed seed: `SelectKBest(partial(mutual_info_classif, random_state=0), k=5)`.
    """

    def __init__(self, score_func=f_classif, k=10):
        self.score_func, self.k = score_func, k

    def fit(self, X, y):
        result = self.score_func(X, y)
        self.scores_, self.pvalues_ = (result if isinstance(result, (tuple, list)) else (result, None))
        self.scores_ = np.asarray(self.scores_, dtype=np.float64)
        if self.k != "all" and not (isinstance(self.k, int) and 0 <= self.k <= len(self.scores_)):
            raise ValueError(f"SelectKBest: k must be 'all' or an int in [0, {len(self.scores_)}], got {self.k!r}")
        return self

    def get_support(self, indices=False):
        if not hasattr(self, "scores_"):
            raise RuntimeError("SelectKBest.get_support: call fit first")
        mask = np.zeros(len(self.scores_), dtype=bool)
        if self.k == "all":
            mask[:] = True
        elif self.k:
            scores = np.nan_to_num(self.scores_, nan=-np.inf)  # constant features score lowest
            mask[np.argsort(scores, kind="mergesort")[-self.k:]] = True
        return np.flatnonzero(mask) if indices else mask

    def transform(self, X):
        return np.asarray(X)[:, self.get_support()]

    def fit_transform(self, X, y):
        return self.fit(X, y).transform(X)
