"""The curse of dimensionality, measured: distances concentrate and nearest neighbours stop meaning much.

For n points drawn uniformly in [0, 1]^d, the relative contrast of their pairwise distances

    contrast(d) = (max_ij |x_i - x_j| - min_ij |x_i - x_j|) / min_ij |x_i - x_j|

shrinks towards 0 as d grows (Beyer et al. 1999, "When is nearest neighbor meaningful?"):
every point is about as far from every other, because |x_i - x_j|^2 is a sum of d independent
terms whose spread grows like sqrt(d) while its mean grows like d. A k-NN classifier on a
task with 2 informative dimensions and d - 2 noise dimensions, at a fixed sample size, loses
accuracy as d grows: the noise dimensions swamp the distances.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def pairwise_distances(x):
    """Euclidean distances between the rows of x (n, d): (n, n)."""
    sq = np.sum(x * x, axis=1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0))


def distance_concentration(dims=(1, 2, 5, 10, 20, 50, 100, 500, 1000), n=200, seed=0):
    """Relative contrast (max - min) / min of the pairwise distances of n uniform points, per dimension.

    Returns {"dims": [...], "contrast": [...], "mean_distance": [...], "std_distance": [...]}.
    """
    if n < 3:
        raise ValueError(f"distance_concentration: n must be >= 3, got {n}")
    rng = np.random.default_rng(seed)
    out = {"dims": [int(d) for d in dims], "contrast": [], "mean_distance": [], "std_distance": []}
    for d in dims:
        dist = pairwise_distances(rng.random((n, int(d))))[np.triu_indices(n, 1)]
        out["contrast"].append(float((dist.max() - dist.min()) / dist.min()))
        out["mean_distance"].append(float(dist.mean()))
        out["std_distance"].append(float(dist.std()))
    return out


def knn_predict(x_train, y_train, x_test, k=5):
    """Majority vote of the k nearest training rows (Euclidean; ties go to the smaller label)."""
    sq = np.sum(x_test**2, 1)[:, None] + np.sum(x_train**2, 1)[None, :] - 2.0 * x_test @ x_train.T
    nearest = np.argpartition(sq, k - 1, axis=1)[:, :k]
    votes = y_train[nearest]
    counts = np.stack([(votes == c).sum(1) for c in range(int(y_train.max()) + 1)], axis=1)
    return counts.argmax(1)


def knn_accuracy_vs_dimension(dims=(2, 5, 10, 20, 50, 100, 200), n_train=300, n_test=500, k=5, seed=0):
    """k-NN test accuracy on a 2-class task (label = x_0 + x_1 > 1) padded with d - 2 uniform noise dims."""
    rng = np.random.default_rng(seed)
    accuracy = []
    for d in dims:
        if d < 2:
            raise ValueError(f"knn_accuracy_vs_dimension: every dimension must be >= 2, got {d}")
        x_tr, x_te = rng.random((n_train, d)), rng.random((n_test, d))
        y_tr = (x_tr[:, 0] + x_tr[:, 1] > 1).astype(np.int64)
        y_te = (x_te[:, 0] + x_te[:, 1] > 1).astype(np.int64)
        accuracy.append(float(np.mean(knn_predict(x_tr, y_tr, x_te, k) == y_te)))
    return {"dims": [int(d) for d in dims], "accuracy": accuracy}


def plot_curse(path, seed=0):
    """Two panels: distance contrast vs d (log-log) and k-NN accuracy vs d; writes a PNG, returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conc, knn = distance_concentration(seed=seed), knn_accuracy_vs_dimension(seed=seed)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].loglog(conc["dims"], conc["contrast"], "o-")
    axes[0].set(xlabel="dimension d", ylabel="(max - min) / min distance", title="distances concentrate")
    axes[1].semilogx(knn["dims"], knn["accuracy"], "o-", color="C3")
    axes[1].axhline(0.5, color="gray", ls="--", lw=1, label="chance")
    axes[1].set(xlabel="dimension d (2 informative)", ylabel="5-NN test accuracy", title="k-NN at 300 samples")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
