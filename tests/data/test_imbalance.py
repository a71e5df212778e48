"""Class weights against scikit-learn, samplers by statistics, threshold moving, the balanced ensemble
(M2, L4); the univariate filters are in test_feature_selection.py."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_curve
from sklearn.utils.class_weight import compute_class_weight as sk_compute_class_weight

import deepnotes.nn as nn
from deepnotes import data
from deepnotes.data import imbalance as imb
from tests.metrics.sk_oracle import check, compare, score_cases


def binary_data(seed=0, n=120, minority=0.15, d=3):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < minority).astype(int)
    return rng.normal(size=(n, d)) + 1.5 * y[:, None], y


def three_class_data(seed=1):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(60, int), np.ones(25, int), np.full(12, 2)]
    return rng.normal(size=(len(y), 2)) + y[:, None], y


@pytest.mark.covers("L4")
def test_compute_class_weight_equals_sklearn():
    """Through the shared oracle: 'balanced', a dict, None, string classes, and the same errors."""
    def sk_weights(class_weight, *, classes, y):
        return sk_compute_class_weight(class_weight, classes=classes, y=y)

    rng = np.random.default_rng(7)
    for _ in range(6):
        y = rng.integers(0, 4, size=int(rng.integers(5, 50)))
        classes = np.unique(y)
        for class_weight in ("balanced", {int(classes[0]): 3.0}, None):
            check(imb.compute_class_weight, sk_weights, class_weight, classes=classes, y=y)
    y = np.array(["a", "b", "b", "b"])
    check(imb.compute_class_weight, sk_weights, "balanced", classes=np.array(["a", "b"]), y=y)
    for bad in (dict(classes=np.array([0]), y=[0, 1]), dict(classes=np.array([0, 1, 2]), y=[0, 1])):
        check(imb.compute_class_weight, sk_weights, "balanced", **bad)


@pytest.mark.covers("L4")
def test_balanced_weights_give_every_class_the_same_total_weight_in_the_loss():
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    w = imb.compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    assert w[0] * 90 == pytest.approx(w[1] * 10)
    loss = nn.CrossEntropyLoss(weight=data.TensorDataset(w.astype(np.float32)).tensors[0])
    assert loss.weight is not None


def _five_sigma(counts, n, p):
    sigma = np.sqrt(n * p * (1 - p))
    return np.all(np.abs(counts - n * p) <= 5 * sigma + 1e-12)


@pytest.mark.covers("M2")
def test_weighted_random_sampler_with_replacement_draws_in_proportion_to_the_weights():
    weights = np.array([1.0, 2.0, 0.0, 7.0, 0.5])
    sampler = data.WeightedRandomSampler(weights, num_samples=20000, replacement=True,
                                         generator=np.random.default_rng(0))
    idx = np.array(list(sampler))
    assert len(idx) == len(sampler) == 20000
    assert _five_sigma(np.bincount(idx, minlength=5), 20000, weights / weights.sum())
    assert not (idx == 2).any()


@pytest.mark.covers("M2")
def test_weighted_random_sampler_without_replacement_matches_torch():
    """Successive sampling: distinct indices; the inclusion frequency of each index over many epochs
    agrees with torch.utils.data.WeightedRandomSampler's within 5 sigma; the first index is drawn
    with probability w_i / sum(w)."""
    import torch

    weights = np.array([5.0, 1.0, 1.0, 2.0, 0.2, 3.0])
    epochs, k = 3000, 3
    ours = data.WeightedRandomSampler(weights, num_samples=k, replacement=False, generator=np.random.default_rng(1))
    torch.manual_seed(0)
    theirs = torch.utils.data.WeightedRandomSampler(torch.tensor(weights), num_samples=k, replacement=False)
    draws_ours = np.array([list(ours) for _ in range(epochs)])
    draws_theirs = np.array([list(theirs) for _ in range(epochs)])
    assert all(len(set(row)) == k for row in draws_ours)
    inc_ours = np.bincount(draws_ours.ravel(), minlength=6) / epochs
    inc_theirs = np.bincount(draws_theirs.ravel(), minlength=6) / epochs
    sigma = np.sqrt((inc_ours * (1 - inc_ours) + inc_theirs * (1 - inc_theirs)) / epochs)
    assert np.all(np.abs(inc_ours - inc_theirs) <= 5 * sigma + 1e-3)
    assert _five_sigma(np.bincount(draws_ours[:, 0], minlength=6), epochs, weights / weights.sum())


@pytest.mark.covers("M2")
def test_weighted_random_sampler_argument_checks_as_torch():
    import torch

    for kwargs in (dict(weights=[1.0, 2.0], num_samples=0), dict(weights=[1.0, 2.0], num_samples=True),
                   dict(weights=[1.0, 2.0], num_samples=2.5), dict(weights=[[1.0, 2.0]], num_samples=2),
                   dict(weights=[1.0, 2.0], num_samples=2, replacement=1)):
        with pytest.raises(ValueError):
            torch.utils.data.WeightedRandomSampler(**kwargs)
        with pytest.raises(ValueError, match="WeightedRandomSampler"):
            data.WeightedRandomSampler(**kwargs)
    with pytest.raises(ValueError, match="without replacement"):
        data.WeightedRandomSampler([1.0, 0.0, 1.0], num_samples=3, replacement=False)


@pytest.mark.covers("M2")
def test_balanced_sample_weights_draw_every_class_equally_often():
    y = np.r_[np.zeros(950, int), np.ones(50, int)]
    sampler = data.WeightedRandomSampler(imb.balanced_sample_weights(y), num_samples=20000,
                                         generator=np.random.default_rng(2))
    counts = np.bincount(y[sampler.indices()], minlength=2)
    assert _five_sigma(counts, 20000, np.array([0.5, 0.5]))


def _sk_best_f1(y, p):
    """The reference: the largest F1 over scikit-learn's precision-recall curve."""
    precision, recall, _ = precision_recall_curve(y, p)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=(precision + recall) > 0)
    return float(f1.max())


def _cost(y, p, t, cost_fp, cost_fn):
    return float(cost_fp * ((p >= t) & (y == 0)).sum() + cost_fn * ((p < t) & (y == 1)).sum())


@pytest.mark.covers("M2", "M1")
def test_best_threshold_maximizes_f1_and_minimizes_cost():
    """Through the shared oracle, exactly (1e-12 for F1): the F1 found equals the best on sklearn's
    precision-recall curve and sklearn's F1 at the threshold returned; the cost found equals the
    brute-force minimum over every observed score (and +inf), and the cost at the threshold returned.
    Probabilities rounded to 0.01 (ties), then the shared score cases (ties, one class only, all tied)."""
    rng = np.random.default_rng(8)
    cases = []
    for _ in range(5):
        y = (rng.random(200) < 0.1).astype(int)
        cases.append((y, np.clip(np.round(rng.beta(2, 5, 200) + 0.3 * y, 2), 0, 1)))
    for y, p in cases + score_cases(8):
        t, best = imb.best_threshold(y, p)
        compare("best_threshold", lambda: best, lambda: _sk_best_f1(y, p), rtol=0, atol=1e-12)  # the best F1 there is
        compare("best_threshold", lambda: best, lambda: f1_score(y, (p >= t).astype(int)), rtol=0, atol=1e-12)  # t gives it
        for cost_fp, cost_fn in ((1.0, 10.0), (3.0, 0.5)):
            t_cost, cost = imb.best_threshold(y, p, criterion="cost", cost_fp=cost_fp, cost_fn=cost_fn)
            brute = min(_cost(y, p, s, cost_fp, cost_fn) for s in np.r_[p, np.inf])
            compare("best_threshold", lambda: cost, lambda: brute, rtol=0, atol=0)
            compare("best_threshold", lambda: _cost(y, p, t_cost, cost_fp, cost_fn), lambda: brute, rtol=0, atol=0)
    y, p = cases[0]
    for bad_y, bad_p in ((y, p[:-1]), (y[:0], p[:0])):  # lengths differ, empty: errors as sklearn's
        compare("best_threshold", lambda: imb.best_threshold(bad_y, bad_p), lambda: _sk_best_f1(bad_y, bad_p))


@pytest.mark.covers("M2")
def test_balanced_ensemble_members_see_all_minority_and_equal_majority():
    X, y = binary_data(9, n=200, minority=0.1, d=4)
    X = X.astype(np.float32)
    ens = imb.BalancedEnsemble(lambda: nn.Linear(4, 2), n_estimators=3, epochs=5, random_state=0).fit(X, y)
    minority = set(np.flatnonzero(y == 1).tolist())
    for subset in ens.subsets_:
        labels = y[subset]
        assert set(subset[labels == 1].tolist()) == minority
        assert (labels == 0).sum() == (labels == 1).sum() and len(set(subset.tolist())) == len(subset)
    assert len({tuple(s) for s in ens.subsets_}) == 3  # members see different majority subsets
    proba = ens.predict_proba(X)
    members = []
    for m in ens.members_:
        z = m(data.TensorDataset(X).tensors[0]).numpy().astype(np.float64)
        members.append(np.exp(z) / np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(proba, np.mean(members, axis=0), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-9)
