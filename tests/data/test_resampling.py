"""Re-sampling (random over- and under-sampling, SMOTE, Borderline-SMOTE, ADASYN) against imbalanced-learn (M2)."""
from collections import Counter

import numpy as np
import pytest
from imblearn import over_sampling as imb_over
from imblearn import under_sampling as imb_under
from scipy import stats
from sklearn.neighbors import NearestNeighbors

from deepnotes.data import resampling as rs
from tests.metrics.sk_oracle import compare

from .test_imbalance import binary_data, three_class_data


STRATEGIES = [0.3, 0.5, 1.0, 0.05, 1.5, "auto", "minority", "majority", "not minority", "not majority", "all",
              "bogus", {0: 100, 1: 40}, {1: 10}, {0: 5}, {7: 3}, {1: -1}]
SAMPLERS = [
    (rs.RandomOverSampler, imb_over.RandomOverSampler, {}),
    (rs.RandomUnderSampler, imb_under.RandomUnderSampler, {}),
    (rs.SMOTE, imb_over.SMOTE, {"k_neighbors": 3}),
    (rs.BorderlineSMOTE, imb_over.BorderlineSMOTE, {"k_neighbors": 3}),
]


def _outcome(sampler, X, y):
    """What must equal imbalanced-learn's: the class counts after fit_resample and the shape of X.
    (Equal counts and shapes also make len(X_new) == len(y_new), as it is for imbalanced-learn.)"""
    X_new, y_new = sampler.fit_resample(X, y)
    return dict(sorted(Counter(y_new.tolist()).items())), X_new.shape


def check_counts(ours, theirs, X, y):
    """Through the shared oracle: the same outcome as imbalanced-learn, or the same error class."""
    compare(f"{type(ours).__name__}.fit_resample", lambda: _outcome(ours, X, y), lambda: _outcome(theirs, X, y),
            what=f"{type(ours).__name__}(sampling_strategy={ours.sampling_strategy!r}) on {len(y)} samples", rtol=0, atol=0)


@pytest.mark.covers("M2")
@pytest.mark.parametrize("ours,theirs,kwargs", SAMPLERS, ids=[s[0].__name__ for s in SAMPLERS])
def test_class_counts_equal_imblearn_for_every_sampling_strategy(ours, theirs, kwargs):
    for X, y in (binary_data(), three_class_data()):
        for strategy in STRATEGIES:
            if isinstance(strategy, dict) and ours is rs.RandomUnderSampler:
                strategy = {c: min(n, 20) if n >= 0 else n for c, n in strategy.items()}
            check_counts(ours(sampling_strategy=strategy, random_state=0, **kwargs),
                         theirs(sampling_strategy=strategy, random_state=0, **kwargs), X, y)


@pytest.mark.covers("M2")
@pytest.mark.parametrize("ours,theirs,kwargs", SAMPLERS + [(rs.ADASYN, imb_over.ADASYN, {"n_neighbors": 4})],
                         ids=[s[0].__name__ for s in SAMPLERS] + ["ADASYN"])
def test_class_counts_with_string_labels_equal_imblearn(ours, theirs, kwargs):
    X, y = three_class_data(4)
    y = np.array(["benign", "cyst", "malignant"])[y]
    for strategy in ("auto", "not majority", "not minority", "all", {"malignant": 20}, {"cyst": 12}, 0.5):
        check_counts(ours(sampling_strategy=strategy, random_state=0, **kwargs),
                     theirs(sampling_strategy=strategy, random_state=0, **kwargs), X, y)


@pytest.mark.covers("M2")
def test_adasyn_counts_equal_imblearn():
    for X, y in (binary_data(2, minority=0.3), three_class_data(3)):
        check_counts(rs.ADASYN(random_state=0, n_neighbors=4), imb_over.ADASYN(random_state=0, n_neighbors=4), X, y)


@pytest.mark.covers("M2")
def test_nearest_neighbours_equal_sklearn():
    rng = np.random.default_rng(4)
    for n, d, k in ((10, 2, 3), (40, 5, 5), (25, 1, 4)):
        X = rng.normal(size=(n, d))
        compare("nearest_neighbors", lambda: rs.nearest_neighbors(X, k), rtol=0, atol=0,  # sklearn's: itself first
                reference=lambda: NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:])


def _segment_of(points, members, k):
    """For each point: (base i, neighbour j, u, residual) of the closest segment x_i + u (x_j - x_i),
    over i and its k nearest minority neighbours j (scikit-learn's NearestNeighbors)."""
    nn_idx = NearestNeighbors(n_neighbors=k + 1).fit(members).kneighbors(members, return_distance=False)[:, 1:]
    base = np.repeat(np.arange(len(members)), k)
    other = nn_idx.reshape(-1)
    a, direction = members[base], members[other] - members[base]          # (S, D)
    rel = points[:, None, :] - a[None, :, :]                                # (P, S, D)
    u = (rel * direction).sum(-1) / (direction**2).sum(-1)                 # (P, S)
    residual = np.linalg.norm(rel - u[..., None] * direction, axis=-1)
    residual = np.where((u >= -1e-9) & (u <= 1 + 1e-9), residual, np.inf)
    best = residual.argmin(axis=1)
    rows = np.arange(len(points))
    return base[best], other[best], u[rows, best], residual[rows, best]


@pytest.mark.covers("M2")
def test_every_smote_sample_lies_on_a_segment_to_one_of_its_k_nearest_minority_neighbours():
    X, y = binary_data(5, n=150, minority=0.2, d=4)
    for k in (1, 3, 5):
        X_new, y_new = rs.SMOTE(random_state=k, k_neighbors=k).fit_resample(X, y)
        np.testing.assert_array_equal(X_new[: len(X)], X)  # originals first, unchanged
        synthetic = X_new[len(X):]
        assert (y_new[len(X):] == 1).all()
        _, _, u, residual = _segment_of(synthetic, X[y == 1], k)
        assert residual.max() < 1e-9 and u.min() >= 0 and u.max() <= 1


def _smote_draws(make, X, y, draws):
    points = [make(seed).fit_resample(X, y)[0][len(X):] for seed in range(draws)]
    return np.concatenate(points)


@pytest.mark.covers("M2")
def test_smote_distribution_matches_imblearn_over_many_draws():
    """Two-sample tests between deepnotes' and imbalanced-learn's synthetic points (fixed seeds):
    each coordinate (Kolmogorov-Smirnov), the position u on the segment (KS) and which base sample
    was used (chi-square).  A SMOTE that only walks half-way is rejected by the same tests."""
    X, y = binary_data(6, n=80, minority=0.25, d=2)
    members = X[y == 1]
    ours = _smote_draws(lambda s: rs.SMOTE(random_state=s, k_neighbors=3), X, y, 40)
    theirs = _smote_draws(lambda s: imb_over.SMOTE(random_state=1000 + s, k_neighbors=3), X, y, 40)

    def p_values(a, b):
        ia, _, ua, _ = _segment_of(a, members, 3)
        ib, _, ub, _ = _segment_of(b, members, 3)
        table = np.stack([np.bincount(ia, minlength=len(members)), np.bincount(ib, minlength=len(members))])
        table = table[:, table.sum(axis=0) > 0]
        return [stats.ks_2samp(a[:, d], b[:, d]).pvalue for d in range(a.shape[1])] + [
            stats.ks_2samp(ua, ub).pvalue, stats.chi2_contingency(table).pvalue]

    assert min(p_values(ours, theirs)) > 1e-4
    half_way = members[None, :, :]  # a broken SMOTE: u ~ U[0, 0.5]
    rng = np.random.default_rng(0)
    nn_idx = rs.nearest_neighbors(members, 3)
    i, j = rng.integers(0, len(members), len(theirs)), rng.integers(0, 3, len(theirs))
    broken = half_way[0, i] + rng.uniform(0, 0.5, (len(theirs), 1)) * (members[nn_idx[i, j]] - members[i])
    assert min(p_values(broken, theirs)) < 1e-4


def test_make_imbalanced_keeps_the_requested_share():
    X, y = np.arange(200)[:, None], np.r_[np.zeros(100, int), np.ones(100, int)]
    Xs, ys, kept = rs.make_imbalanced(X, y, 0.1, minority=0, random_state=0)
    assert (ys == 0).sum() == 11 and (ys == 1).sum() == 100
    np.testing.assert_array_equal(Xs[:, 0], kept)
    with pytest.raises(ValueError, match="make_imbalanced"):
        rs.make_imbalanced(X, y, 1.5)
