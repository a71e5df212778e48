"""Univariate filters against scikit-learn through the metrics' oracle: mutual information (imbalanced and
tiny classes, ties, discrete features, string labels, every n_neighbors), ANOVA F, SelectKBest (M2)."""
from functools import partial

import numpy as np
import pytest
from sklearn import feature_selection as skfs

from deepnotes.data import feature_selection as fs
from tests.metrics.sk_oracle import check

pytestmark = pytest.mark.covers("M2")


def mi_cases(seed, n_random=14):
    """[(X, y)]: imbalanced classes (some of 1-7 samples), informative, noise, tied and constant features."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_random):
        n, d, k = int(rng.integers(5, 160)), int(rng.integers(1, 6)), int(rng.integers(2, 5))
        y = rng.choice(k, size=n, p=rng.dirichlet(np.full(k, 0.7)))  # often very imbalanced
        X = rng.normal(size=(n, d)) * rng.uniform(0.01, 50, size=d) + np.outer(y, rng.normal(0, 1.5, size=d))
        if i % 3 == 1:
            X[:, 0] = np.round(X[:, 0])  # heavy ties (the noise breaks them)
        if i % 4 == 2:
            X[:, -1] = 3.0  # a constant feature
        if i % 5 == 3:
            y = np.array(["neg", "pos", "unk", "zzz"])[y]  # string labels
        cases.append((X, y))
    y = np.r_[np.zeros(40, int), np.ones(3, int), 2]  # minority of 3, a class of one sample
    cases.append((np.c_[rng.normal(size=44) + y, rng.normal(size=44)], y))
    cases.append((rng.integers(0, 4, size=(30, 3)), rng.integers(0, 2, 30)))  # integer X
    cases.append((rng.normal(size=(10, 2)), np.zeros(10, int)))               # one class only
    return cases


CASES = mi_cases(0)


def sk_mutual_info(*args, **kwargs):
    """scikit-learn's estimate as float64: it returns int64 when every estimate was clipped to the int 0."""
    return np.asarray(skfs.mutual_info_classif(*args, **kwargs), dtype=np.float64)


@pytest.mark.parametrize("n_neighbors", [1, 3, 5, 10])
def test_mutual_info_continuous(n_neighbors):
    for i, (X, y) in enumerate(CASES):
        check(fs.mutual_info_classif, sk_mutual_info, X, y, n_neighbors=n_neighbors, random_state=i)


@pytest.mark.parametrize("discrete", [True, "mask", "indices"])
def test_mutual_info_discrete_features(discrete):
    for i, (X, y) in enumerate(CASES):
        X = np.round(X / (np.abs(X).max(axis=0) + 1e-12) * 3)  # a few levels per feature
        d = X.shape[1]
        option = {True: True, "mask": np.arange(d) % 2 == 0, "indices": np.arange(0, d, 2)}[discrete]
        check(fs.mutual_info_classif, sk_mutual_info, X, y, discrete_features=option, random_state=i)


def test_mutual_info_bad_input_matches_sklearn_and_names_the_function():
    X, y = CASES[0]
    bad_calls = [dict(n_neighbors=0), dict(n_neighbors=2.5), dict(discrete_features="sometimes")]
    for kwargs in bad_calls:
        check(fs.mutual_info_classif, sk_mutual_info, X, y, **kwargs)
    check(fs.mutual_info_classif, sk_mutual_info, X, y + 0.5)        # continuous target
    check(fs.mutual_info_classif, sk_mutual_info, X[:-1], y)        # lengths differ
    check(fs.mutual_info_classif, sk_mutual_info, X[:, 0], y)       # X not 2-D
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    check(fs.mutual_info_classif, sk_mutual_info, X_nan, y)
    with pytest.raises(ValueError, match=r"mutual_info_classif: n_neighbors must be an int >= 1, got 0"):
        fs.mutual_info_classif(X, y, n_neighbors=0)
    with pytest.raises(ValueError, match=r"mutual_info_classif: discrete_features indices must be ints in \[0, "):
        fs.mutual_info_classif(X, y, discrete_features=[99])


def test_mutual_info_sees_what_anova_misses():
    """A class living in both tails of a feature: no mean shift (F ~ 0) but high mutual information."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 600)
    X = np.c_[np.where(y == 1, rng.choice([-3.0, 3.0], 600), 0.0) + 0.3 * rng.normal(size=600), rng.normal(size=600)]
    f, _ = fs.f_classif(X, y)
    mi = fs.mutual_info_classif(X, y, random_state=0)
    assert f[0] < 10 and mi[0] > 0.4 and mi[1] < 0.05


@pytest.mark.filterwarnings("ignore:Features .* are constant", "ignore:invalid value encountered")
def test_f_classif():
    for X, y in CASES:
        check(fs.f_classif, skfs.f_classif, X, y)


def _support(score_func, k):
    def support(X, y):
        return fs.SelectKBest(score_func, k=k).fit(X, y).get_support()
    support.__name__ = f"SelectKBest({getattr(score_func, 'func', score_func).__name__})"
    return support


@pytest.mark.parametrize("k", [0, 1, 2, "all"])
def test_select_k_best(k):
    for i, (X, y) in enumerate(CASES[:8]):
        kk = min(k, X.shape[1]) if k != "all" else k
        check(_support(fs.f_classif, kk), lambda X, y: skfs.SelectKBest(skfs.f_classif, k=kk).fit(X, y).get_support(),
              X, y)
        dn_mi, sk_mi = partial(fs.mutual_info_classif, random_state=i), partial(skfs.mutual_info_classif, random_state=i)
        check(_support(dn_mi, kk), lambda X, y: skfs.SelectKBest(sk_mi, k=kk).fit(X, y).get_support(), X, y)
    with pytest.raises(ValueError, match="SelectKBest: k must be 'all' or an int"):
        fs.SelectKBest(k=99).fit(*CASES[0])
