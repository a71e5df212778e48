"""The curse of dimensionality measures (T5), k-NN against scikit-learn."""
import numpy as np
import pytest
from scipy.spatial.distance import pdist
from sklearn.neighbors import KNeighborsClassifier

from deepnotes.tune import dimensionality as dim
from tests.oracle import assert_close


@pytest.mark.covers("T5")
def test_pairwise_distances_and_knn_match_the_references():
    rng = np.random.default_rng(0)
    x = rng.random((30, 7))
    assert_close(dim.pairwise_distances(x)[np.triu_indices(30, 1)], pdist(x), "pairwise distances vs scipy", atol=1e-10)
    x_tr, x_te = rng.random((100, 4)), rng.random((50, 4))
    y_tr = (x_tr[:, 0] > 0.5).astype(np.int64)
    ref = KNeighborsClassifier(5).fit(x_tr, y_tr).predict(x_te)
    assert_close(dim.knn_predict(x_tr, y_tr, x_te, 5), ref, "k-NN predictions vs sklearn", atol=0, rtol=0)


@pytest.mark.covers("T5")
def test_distances_concentrate_and_knn_degrades_with_dimension(tmp_path):
    conc = dim.distance_concentration(dims=(2, 20, 200), n=100)
    assert conc["contrast"][0] > 10 * conc["contrast"][1] > 10 * conc["contrast"][2] / 3
    cv = np.array(conc["std_distance"]) / np.array(conc["mean_distance"])
    assert np.all(np.diff(cv) < 0)  # relative spread falls like 1/sqrt(d)
    knn = dim.knn_accuracy_vs_dimension(dims=(2, 200), n_train=200, n_test=300)
    assert knn["accuracy"][0] > 0.9 and knn["accuracy"][1] < knn["accuracy"][0] - 0.2
    assert dim.plot_curse(tmp_path / "curse.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="distance_concentration: n must be >= 3, got 2"):
        dim.distance_concentration(n=2)
