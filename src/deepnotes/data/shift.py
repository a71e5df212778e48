"""Distribution shift: is new data drawn from the training distribution? (R8)

Every guarantee of supervised learning assumes the test data are IID draws
from the training distribution p(x, y).  When that fails:

- **covariate shift**: p(x) changes, p(y | x) does not (new camera, brightness);
- **label shift**: p(y) changes, p(x | y) does not (a disease becomes rarer);
- (*internal* covariate shift, Ioffe & Szegedy 2015, is a different thing: the
  changing distribution of a layer's inputs during training, inside one model.)

This module makes the IID assumption testable on held-out data:

- `classifier_two_sample_test` (Lopez-Paz & Oquab, ICLR 2017): train a
  classifier to tell set A from set B on half the data; on the other half its
  ROC AUC is 0.5 when the sets are exchangeable.  The p-value comes from
  permuting the held-out set labels (the classifier is fixed, so this is exact);
- `mmd_test` (Gretton et al., JMLR 2012): the unbiased squared maximum mean
  discrepancy with a Gaussian kernel (median-distance bandwidth), with a
  permutation p-value;
- `black_box_shift_estimate` (Lipton, Wang & Smola, ICML 2018): under label
  shift, the confusion matrix C[i, j] = P(pred = i, y = j) on source validation
  data and the target's prediction frequencies mu[i] = P_target(pred = i)
  satisfy mu = C w, with w[j] = q(y = j) / p(y = j); solve for w (BBSE);
- `importance_weights` for covariate shift: w(x) = p_target(x) / p_source(x)
  = (n_s / n_t) P(target | x) / P(source | x) from a domain classifier
  (Bickel et al., 2007), to re-weight the training loss.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TestResult:
    """A two-sample test: the statistic (AUC or MMD^2) and its permutation p-value."""

    statistic: float
    pvalue: float
    n_permutations: int


def _two_sets(owner, X_a, X_b):
    X_a = np.asarray(X_a, dtype=np.float64).reshape(len(X_a), -1)
    X_b = np.asarray(X_b, dtype=np.float64).reshape(len(X_b), -1)
    if X_a.shape[1] != X_b.shape[1] or len(X_a) < 2 or len(X_b) < 2:
        raise ValueError(f"{owner}: need two sets of >= 2 samples with the same features, got {X_a.shape} and "
                         f"{X_b.shape}")
    return X_a, X_b


def _default_classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=2000)


def _auc_of_labelings(labelings, scores):
    """ROC AUC of each row of 0/1 `labelings` (P, N) for fixed scores, by ranks (Mann-Whitney U, ties averaged)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n1 = labelings.sum(axis=1)
    n0 = labelings.shape[1] - n1
    return (labelings @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0)


def _permutations(rng, labels, n):
    """(n, N): n random permutations of `labels`, one per row."""
    return np.take_along_axis(np.tile(labels, (n, 1)), rng.random((n, len(labels))).argsort(axis=1), axis=1)


def classifier_two_sample_test(X_a, X_b, classifier=None, n_permutations=500, random_state=None):
    """Classifier two-sample test: held-out ROC AUC of a classifier trained to separate A from B.

    Args:
        X_a: (N_a, ...) and X_b: (N_b, ...) the two samples (flattened to rows).
        classifier: an object with `fit(X, y)` and `predict_proba(X)` (scikit-learn
            style); default: logistic regression.
        n_permutations: permutations of the held-out labels for the p-value.

    Returns:
        `TestResult(statistic=AUC, pvalue, n_permutations)`; p = (1 + #{AUC_perm >= AUC}) / (1 + n_perm).
    """
    X_a, X_b = _two_sets("classifier_two_sample_test", X_a, X_b)
    rng = np.random.default_rng(random_state)
    X = np.vstack([X_a, X_b])
    d = np.r_[np.zeros(len(X_a), int), np.ones(len(X_b), int)]
    fit_half = np.zeros(len(d), bool)
    for label in (0, 1):  # stratified halves
        members = rng.permutation(np.flatnonzero(d == label))
        fit_half[members[: len(members) // 2]] = True
    clf = classifier if classifier is not None else _default_classifier()
    clf.fit(X[fit_half], d[fit_half])
    scores = clf.predict_proba(X[~fit_half])[:, 1]
    held = d[~fit_half]
    observed = _auc_of_labelings(held[None, :].astype(np.float64), scores)[0]
    null = _auc_of_labelings(_permutations(rng, held, n_permutations).astype(np.float64), scores)
    return TestResult(float(observed), float((1 + (null >= observed).sum()) / (1 + n_permutations)), n_permutations)


def gaussian_kernel(X, Y, bandwidth):
    d2 = (X**2).sum(1)[:, None] - 2 * X @ Y.T + (Y**2).sum(1)[None, :]
    return np.exp(-np.maximum(d2, 0) / (2 * bandwidth**2))


def median_bandwidth(Z):
    """The median pairwise distance (the usual heuristic for the Gaussian kernel's width)."""
    d2 = (Z**2).sum(1)[:, None] - 2 * Z @ Z.T + (Z**2).sum(1)[None, :]
    upper = np.sqrt(np.maximum(d2[np.triu_indices(len(Z), 1)], 0))
    return float(np.median(upper)) or 1.0


def _mmd2_from_kernel(K, in_a):
    """Unbiased MMD^2 for each row of the boolean (P, N) mask `in_a` (set A's rows), pooled kernel K (N, N)."""
    a = in_a.astype(np.float64)
    b = 1.0 - a
    m, n = a.sum(axis=1), b.sum(axis=1)
    K0 = K - np.diag(np.diag(K))  # the unbiased estimate leaves out k(x, x)
    k_aa = ((a @ K0) * a).sum(axis=1) / (m * (m - 1))
    k_bb = ((b @ K0) * b).sum(axis=1) / (n * (n - 1))
    k_ab = ((a @ K) * b).sum(axis=1) / (m * n)
    return k_aa + k_bb - 2 * k_ab


def mmd2(X_a, X_b, bandwidth=None):
    """Unbiased squared MMD with a Gaussian kernel (Gretton et al., 2012, eq. 3).

    MMD^2 = E k(a, a') + E k(b, b') - 2 E k(a, b); the estimate can be slightly
    negative when the sets come from one distribution.  `bandwidth` defaults to
    the median pairwise distance of the pooled sample.
    """
    X_a, X_b = _two_sets("mmd2", X_a, X_b)
    Z = np.vstack([X_a, X_b])
    h = median_bandwidth(Z) if bandwidth is None else float(bandwidth)
    in_a = np.r_[np.ones(len(X_a), bool), np.zeros(len(X_b), bool)]
    return float(_mmd2_from_kernel(gaussian_kernel(Z, Z, h), in_a[None, :])[0])


def mmd_test(X_a, X_b, n_permutations=500, bandwidth=None, random_state=None):
    """Kernel two-sample test: MMD^2 and the permutation p-value (set labels shuffled over the pooled sample)."""
    X_a, X_b = _two_sets("mmd_test", X_a, X_b)
    rng = np.random.default_rng(random_state)
    Z = np.vstack([X_a, X_b])
    h = median_bandwidth(Z) if bandwidth is None else float(bandwidth)
    K = gaussian_kernel(Z, Z, h)
    in_a = np.r_[np.ones(len(X_a), bool), np.zeros(len(X_b), bool)]
    observed = _mmd2_from_kernel(K, in_a[None, :])[0]
    null = _mmd2_from_kernel(K, _permutations(rng, in_a, n_permutations))
    return TestResult(float(observed), float((1 + (null >= observed).sum()) / (1 + n_permutations)), n_permutations)


def black_box_shift_estimate(y_val, pred_val, pred_target, n_classes=None):
    """BBSE (Lipton et al., 2018): class-prior ratios w[j] = q(y=j) / p(y=j) under label shift.

    Args:
        y_val: (N,) true labels of source validation data (not the training data).
        pred_val: (N,) the fixed classifier's predictions on it.
        pred_target: (M,) its predictions on the unlabeled target data.

    Returns:
        (w, q): the (K,) weights (negative solutions clipped to 0) and the
        estimated target class prior q = w * p, renormalized.
    """
    y_val, pred_val, pred_target = (np.asarray(a, dtype=np.int64).reshape(-1) for a in (y_val, pred_val, pred_target))
    if len(y_val) != len(pred_val):
        raise ValueError(f"black_box_shift_estimate: y_val and pred_val lengths differ: {len(y_val)}, {len(pred_val)}")
    k = n_classes or int(max(y_val.max(), pred_val.max(), pred_target.max())) + 1
    C = np.zeros((k, k))
    np.add.at(C, (pred_val, y_val), 1.0)
    C /= len(y_val)
    mu = np.bincount(pred_target, minlength=k) / len(pred_target)
    w, *_ = np.linalg.lstsq(C, mu, rcond=None)
    w = np.clip(w, 0, None)
    p = np.bincount(y_val, minlength=k) / len(y_val)
    q = w * p
    return w, q / q.sum() if q.sum() > 0 else q


def importance_weights(X_source, X_target, classifier=None, clip=20.0):
    """Covariate-shift weights w(x_i) = p_target(x_i) / p_source(x_i) for the source samples.

    A domain classifier estimates P(target | x); by Bayes,
    w(x) = (n_s / n_t) P(target | x) / P(source | x).  Weights are clipped at
    `clip` (large ones make the weighted loss high-variance) and rescaled to mean 1.
    """
    X_s, X_t = _two_sets("importance_weights", X_source, X_target)
    clf = classifier if classifier is not None else _default_classifier()
    clf.fit(np.vstack([X_s, X_t]), np.r_[np.zeros(len(X_s), int), np.ones(len(X_t), int)])
    p_t = np.clip(clf.predict_proba(X_s)[:, 1], 1e-6, 1 - 1e-6)
    w = np.minimum(len(X_s) / len(X_t) * p_t / (1 - p_t), clip)
    return w / w.mean()


# ------------------------------------------------------------------ synthetic shifts of the digits

def shifted_digits(kind, seed=0, n=400):
    """(X_reference, X_new, y_reference, y_new): two draws of 8x8 digits, the second shifted by `kind`.

    kind: "iid" (no shift), "brightness" (pixels * 0.8 + 0.1: covariate shift),
    "translate" (images moved one pixel right: a small geometric shift),
    "rotate" (images turned 20 degrees counter-clockwise about their centre,
    bilinear), "prior" (class 0-4 kept with probability 0.25: label shift).
    """
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(seed)
    bunch = load_digits()
    X, y = bunch.data / 16.0, bunch.target
    order = rng.permutation(len(y))
    ref, new = order[:n], order[n:]
    X_new, y_new = X[new], y[new]
    if kind == "brightness":
        X_new = X_new * 0.8 + 0.1
    elif kind == "translate":
        images = X_new.reshape(-1, 8, 8)
        X_new = np.concatenate([np.zeros((len(images), 8, 1)), images[:, :, :-1]], axis=2).reshape(-1, 64)
    elif kind == "rotate":
        from scipy.ndimage import rotate

        images = rotate(X_new.reshape(-1, 8, 8), 20.0, axes=(2, 1), reshape=False, order=1, mode="constant")
        X_new = np.clip(images, 0.0, 1.0).reshape(-1, 64)
    elif kind == "prior":
        keep = (y_new >= 5) | (rng.random(len(y_new)) < 0.25)
        X_new, y_new = X_new[keep], y_new[keep]
    elif kind != "iid":
        raise ValueError(f"shifted_digits: kind must be 'iid', 'brightness', 'translate', 'rotate' or 'prior', "
                         f"got {kind!r}")
    take = rng.permutation(len(y_new))[:n]
    return X[ref], X_new[take], y[ref], y_new[take]
