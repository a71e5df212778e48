"""Distribution-shift tests (R8): calibrated under IID, powerful under shift, BBSE recovers label shift."""
import numpy as np
import pytest
from scipy import stats

from deepnotes.data import shift

pytestmark = pytest.mark.covers("R8")


def test_mmd2_equals_the_direct_unbiased_formula():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(15, 3)), rng.normal(0.5, 1, size=(11, 3))
    h = 1.3
    k = lambda x, y: np.exp(-((x - y) ** 2).sum() / (2 * h * h))  # noqa: E731
    aa = sum(k(a[i], a[j]) for i in range(15) for j in range(15) if i != j) / (15 * 14)
    bb = sum(k(b[i], b[j]) for i in range(11) for j in range(11) if i != j) / (11 * 10)
    ab = sum(k(x, y) for x in a for y in b) / (15 * 11)
    assert shift.mmd2(a, b, bandwidth=h) == pytest.approx(aa + bb - 2 * ab, rel=1e-10)


def test_permutation_p_values_are_uniform_under_the_null():
    """Same distribution: over 60 independent pairs of sets the p-values are ~U(0, 1) (KS test), and the
    rejection rate at 0.05 is within 5 sigma of 0.05."""
    rng = np.random.default_rng(1)
    p_mmd = [shift.mmd_test(rng.normal(size=(30, 2)), rng.normal(size=(30, 2)), n_permutations=99,
                            random_state=i).pvalue for i in range(60)]
    assert stats.kstest(p_mmd, "uniform").pvalue > 1e-3
    from sklearn.naive_bayes import GaussianNB  # a fast classifier: the test is about the p-value, not the model

    p_c2st = [shift.classifier_two_sample_test(rng.normal(size=(40, 2)), rng.normal(size=(40, 2)), GaussianNB(),
                                               n_permutations=99, random_state=i).pvalue for i in range(60)]
    rate = np.mean(np.array(p_c2st) <= 0.05)
    assert abs(rate - 0.05) <= 5 * np.sqrt(0.05 * 0.95 / 60)


@pytest.mark.parametrize("kind", ["brightness", "translate", "rotate"])
def test_covariate_shift_on_digits_is_detected_and_iid_is_not(kind):
    x_ref, x_new, _, _ = shift.shifted_digits(kind, seed=0, n=250)
    assert shift.mmd_test(x_ref, x_new, n_permutations=200, random_state=0).pvalue < 0.01
    c2st = shift.classifier_two_sample_test(x_ref, x_new, n_permutations=200, random_state=0)
    assert c2st.pvalue < 0.01 and c2st.statistic > 0.75
    x_ref, x_new, _, _ = shift.shifted_digits("iid", seed=0, n=250)
    assert shift.mmd_test(x_ref, x_new, n_permutations=200, random_state=0).pvalue > 0.01
    assert shift.classifier_two_sample_test(x_ref, x_new, n_permutations=200, random_state=0).pvalue > 0.01


def test_black_box_shift_estimation_recovers_the_new_class_prior():
    """Label shift on digits: BBSE's estimated prior is closer to the truth than the source prior is."""
    from sklearn.linear_model import LogisticRegression

    x_ref, x_new, y_ref, y_new = shift.shifted_digits("prior", seed=0, n=600)
    half = len(y_ref) // 2
    clf = LogisticRegression(max_iter=2000).fit(x_ref[:half], y_ref[:half])
    w, q = shift.black_box_shift_estimate(y_ref[half:], clf.predict(x_ref[half:]), clf.predict(x_new), n_classes=10)
    truth = np.bincount(y_new, minlength=10) / len(y_new)
    source = np.bincount(y_ref[half:], minlength=10) / half
    assert np.abs(q - truth).sum() < 0.5 * np.abs(source - truth).sum()
    assert w[:5].mean() < 0.6 < 1.2 < w[5:].mean()  # classes 0-4 were thinned to a quarter


def test_black_box_shift_estimation_is_exact_for_a_perfect_confusion_matrix():
    y_val = np.repeat([0, 1, 2], [50, 30, 20])
    pred_val = y_val.copy()
    pred_target = np.repeat([0, 1, 2], [10, 30, 60])
    w, q = shift.black_box_shift_estimate(y_val, pred_val, pred_target)
    np.testing.assert_allclose(q, [0.1, 0.3, 0.6])
    np.testing.assert_allclose(w, [0.2, 1.0, 3.0])


def test_importance_weights_correct_a_covariate_shift():
    """Source N(0, 1), target N(1, 1): the weighted source mean moves to the target mean
    (true w(x) = exp(x - 1/2))."""
    rng = np.random.default_rng(2)
    source, target = rng.normal(size=(2000, 1)), rng.normal(1.0, 1.0, size=(2000, 1))
    w = shift.importance_weights(source, target)
    assert np.average(source[:, 0], weights=w) == pytest.approx(1.0, abs=0.15)
    true = np.exp(source[:, 0] - 0.5)
    assert stats.spearmanr(w, true).statistic > 0.99


def test_bad_input_names_the_function():
    with pytest.raises(ValueError, match="mmd_test"):
        shift.mmd_test(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="shifted_digits"):
        shift.shifted_digits("blur")
