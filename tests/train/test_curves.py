"""Tests of deepnotes.train.curves: log-spaced sizes, nested (optionally stratified) subsets, the
same seed at every size, and scikit-learn's learning_curve as the oracle on the same subsets."""
import numpy as np
import pytest

from deepnotes.train import LearningCurve, learning_curve, log_sizes, nested_order


@pytest.mark.covers("T4")
def test_log_sizes_are_log_spaced_and_include_the_ends():
    sizes = log_sizes(10, 1000, 3)
    assert sizes == [10, 100, 1000]
    rng = np.random.default_rng(0)
    for _ in range(20):
        lo = int(rng.integers(1, 50))
        hi = lo + int(rng.integers(0, 5000))
        num = int(rng.integers(2, 12))
        s = log_sizes(lo, hi, num)
        assert s[0] == lo and s[-1] == hi and s == sorted(set(s)) and len(s) <= num
    assert log_sizes(5, 5, 1) == [5]
    assert log_sizes(3, 5, 10) == [3, 4, 5]  # rounding duplicates kept once


@pytest.mark.covers("T4")
@pytest.mark.parametrize("args", [(0, 10, 3), (10, 5, 3), (1, 10, 1), (1.5, 10, 3)])
def test_log_sizes_refuses_bad_ranges(args):
    with pytest.raises(ValueError, match="log_sizes"):
        log_sizes(*args)


@pytest.mark.covers("T4")
def test_subsets_are_nested_and_reuse_the_seed():
    x = np.arange(200, dtype=np.float64)[:, None]
    y = np.arange(200) % 4
    calls = []

    def fit_and_score(xs, ys, seed):
        calls.append((seed, xs[:, 0].astype(int).tolist()))
        return {"n": len(xs), "mean": float(xs.mean())}

    curve = learning_curve(fit_and_score, x, y, [5, 20, 80], seeds=[3, 7])
    assert isinstance(curve, LearningCurve) and curve.scores["n"].shape == (2, 3)
    assert curve.scores["n"].tolist() == [[5, 20, 80], [5, 20, 80]]
    for k in range(0, 6, 3):  # each seed's three subsets: prefixes of one permutation
        small, mid, big = (rows for _, rows in calls[k:k + 3])
        assert mid[:5] == small and big[:20] == mid
        assert len(set(big)) == 80
    assert [s for s, _ in calls] == [3, 3, 3, 7, 7, 7]
    assert calls[0][1] != calls[3][1]  # different seeds, different subsets
    again = learning_curve(fit_and_score, x, y, [5, 20, 80], seeds=[3, 7])
    np.testing.assert_array_equal(again.scores["mean"], curve.scores["mean"])
    assert curve.mean("n").tolist() == [5, 20, 80]
    assert curve.to_dict()["sizes"] == [5, 20, 80]


@pytest.mark.covers("T4")
def test_stratified_prefixes_keep_class_proportions():
    rng = np.random.default_rng(1)
    y = rng.choice(5, size=997, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    order = nested_order(y, seed=2, stratify=True)
    assert sorted(order.tolist()) == list(range(len(y)))
    share = np.bincount(y, minlength=5) / len(y)
    for n in (10, 37, 100, 500):
        counts = np.bincount(y[order[:n]], minlength=5)
        assert np.all(np.abs(counts - n * share) <= 1.0 + 1e-9)
    plain = nested_order(y, seed=2)
    np.testing.assert_array_equal(plain, np.random.default_rng(2).permutation(len(y)))
    # a stratified prefix of 10 always holds the three commonest classes (4, 3 and 1.5 expected rows)
    assert all(set(y[nested_order(y, s, stratify=True)[:10]]) >= {0, 1, 2} for s in range(20))


@pytest.mark.covers("T4")
def test_matches_scikit_learn_learning_curve_on_the_same_subsets():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import learning_curve as sk_learning_curve

    x, y = make_classification(n_samples=400, n_features=12, n_informative=6, random_state=0)
    x_pool, y_pool, x_test, y_test = x[:300], y[:300], x[300:], y[300:]
    sizes, seed = [20, 60, 150, 300], 4

    def fit_and_score(xs, ys, s):
        return LogisticRegression(C=0.5, max_iter=2000).fit(xs, ys).score(x_test, y_test)

    ours = learning_curve(fit_and_score, x_pool, y_pool, sizes, seeds=[seed])
    order = nested_order(y_pool, seed)
    # scikit-learn trains on the first n rows of the fold's training indices (shuffle=False)
    _, _, sk_test = sk_learning_curve(LogisticRegression(C=0.5, max_iter=2000), x, y, train_sizes=sizes,
                                      cv=[(order, np.arange(300, 400))], shuffle=False)
    np.testing.assert_allclose(ours.scores["score"][0], sk_test[:, 0], rtol=0, atol=1e-12)


@pytest.mark.covers("T4")
def test_bad_input_names_the_function():
    x, y = np.zeros((10, 2)), np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match="learning_curve: sizes must lie in"):
        learning_curve(lambda a, b, s: 0.0, x, y, [5, 11])
    with pytest.raises(ValueError, match="increasing"):
        learning_curve(lambda a, b, s: 0.0, x, y, [5, 5])
    with pytest.raises(ValueError, match="same length"):
        learning_curve(lambda a, b, s: 0.0, x, y[:9], [5])
    with pytest.raises(ValueError, match="returned metrics"):
        learning_curve(lambda a, b, s: {"a": 0.0} if len(a) == 2 else {"b": 1.0}, x, y, [2, 4])
    with pytest.raises(KeyError, match="no metric"):
        learning_curve(lambda a, b, s: 0.0, x, y, [2]).mean("acc")
