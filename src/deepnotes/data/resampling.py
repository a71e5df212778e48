"""Re-sampling imbalanced classes (M2): random over- and under-sampling, SMOTE, Borderline-SMOTE, ADASYN.

- `RandomOverSampler` repeats minority samples; `RandomUnderSampler` drops majority samples;
- `SMOTE` (Chawla et al., 2002) makes new minority samples on the segment between a minority sample
  and one of its k nearest minority neighbours, `x_new = x_i + u (x_j - x_i)`, u ~ U[0, 1];
- `BorderlineSMOTE` (Han et al., 2005) does so only from the minority samples near the class border;
- `ADASYN` (He et al., 2008) makes more of them where the majority class crowds in.

All take imbalanced-learn's `sampling_strategy`: a float (binary only: the wanted minority / majority
ratio after re-sampling), a string ("auto", "minority", "majority", "not minority", "not majority",
"all") or a dict {class: wanted number of samples}. Re-sample the training split only -- never the
validation or test data. The other remedies (class weights, threshold moving, a balanced ensemble)
are in `imbalance.py`.
"""
from __future__ import annotations

import numpy as np

STRINGS = ("auto", "minority", "majority", "not minority", "not majority", "all")


# ------------------------------------------------------------------ sampling_strategy

def _class_counts(y):
    classes, counts = np.unique(y, return_counts=True)
    return dict(zip(classes.tolist(), counts.tolist()))


def sampling_targets(sampling_strategy, y, kind, owner="sampling_targets"):
    """{class: n} as imbalanced-learn: samples to *add* (kind="over") or to *keep* (kind="under").

    Ties between equally large classes go to the smallest label.
    """
    counts = _class_counts(y)
    if len(counts) < 2:
        raise ValueError(f"{owner}: y needs at least 2 classes, got {len(counts)}")
    n_max, n_min = max(counts.values()), min(counts.values())
    majority = max(counts, key=counts.get)
    minority = min(counts, key=counts.get)
    if isinstance(sampling_strategy, str):
        if sampling_strategy not in STRINGS:
            raise ValueError(f"{owner}: sampling_strategy must be a float, a dict or one of {STRINGS}, "
                             f"got {sampling_strategy!r}")
        strategy = sampling_strategy
        if strategy == "auto":
            strategy = "not majority" if kind == "over" else "not minority"
        if (strategy, kind) in (("majority", "over"), ("minority", "under")):
            raise ValueError(f"{owner}: sampling_strategy={sampling_strategy!r} cannot be used to "
                             f"{kind}-sample")
        chosen = {"minority": [minority], "majority": [majority], "all": list(counts),
                  "not minority": [c for c in counts if c != minority],
                  "not majority": [c for c in counts if c != majority]}[strategy]
        return {c: (n_max - counts[c]) if kind == "over" else n_min for c in chosen}
    if isinstance(sampling_strategy, dict):
        unknown = set(sampling_strategy) - set(counts)
        if unknown:
            raise ValueError(f"{owner}: classes {sorted(unknown)} in sampling_strategy are not in y")
        targets = {}
        for c, n in sorted(sampling_strategy.items()):
            if n < 0:
                raise ValueError(f"{owner}: sampling_strategy asks for {n} samples of class {c!r}; must be >= 0")
            if kind == "over" and n < counts[c]:
                raise ValueError(f"{owner}: over-sampling cannot shrink class {c!r} from {counts[c]} to {n}")
            if kind == "under" and n > counts[c]:
                raise ValueError(f"{owner}: under-sampling cannot grow class {c!r} from {counts[c]} to {n}")
            targets[c] = n - counts[c] if kind == "over" else n
        return targets
    if isinstance(sampling_strategy, (float, int)) and not isinstance(sampling_strategy, bool):
        if not 0 < sampling_strategy <= 1:
            raise ValueError(f"{owner}: a float sampling_strategy must be in (0, 1], got {sampling_strategy}")
        if len(counts) != 2:
            raise ValueError(f"{owner}: a float sampling_strategy needs a binary target; use a dict for "
                             f"{len(counts)} classes")
        if kind == "over":
            targets = {c: int(n_max * sampling_strategy - n) for c, n in counts.items() if c != majority}
            if any(n <= 0 for n in targets.values()):
                raise ValueError(f"{owner}: sampling_strategy={sampling_strategy} would remove minority samples; "
                                 "increase it")
        else:
            targets = {c: int(n_min / sampling_strategy) for c in counts if c != minority}
            if any(n > counts[c] for c, n in targets.items()):
                raise ValueError(f"{owner}: sampling_strategy={sampling_strategy} would add majority samples; "
                                 "increase it")
        return targets
    raise ValueError(f"{owner}: sampling_strategy must be a float, a string or a dict, got {sampling_strategy!r}")


def _check_xy(owner, X, y):
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"{owner}: expected X of shape (N, D) and y of shape (N,), got {X.shape} and {y.shape}")
    return X, y


def _rng(random_state):
    return random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)


class _Sampler:
    kind = "over"

    def __init__(self, sampling_strategy="auto", random_state=None):
        self.sampling_strategy, self.random_state = sampling_strategy, random_state

    def fit_resample(self, X, y):
        """(X_resampled, y_resampled); also sets `sampling_strategy_` (the {class: n} it used)."""
        owner = f"{type(self).__name__}.fit_resample"
        X, y = _check_xy(owner, X, y)
        self.sampling_strategy_ = sampling_targets(self.sampling_strategy, y, self.kind, owner)
        return self._resample(X, y, _rng(self.random_state))


class RandomOverSampler(_Sampler):
    """Repeat random samples (with replacement) of the classes to grow.

    Example:
        >>> X, y = np.arange(12.0).reshape(6, 2), np.array([0, 0, 0, 0, 1, 1])
        >>> np.bincount(RandomOverSampler(random_state=0).fit_resample(X, y)[1]).tolist()
        [4, 4]
    """

    def _resample(self, X, y, rng):
        extra = [rng.choice(np.flatnonzero(y == c), size=n, replace=True)
                 for c, n in self.sampling_strategy_.items() if n > 0]
        idx = np.concatenate([np.arange(len(y)), *extra]).astype(np.int64)
        self.sample_indices_ = idx
        return X[idx], y[idx]


class RandomUnderSampler(_Sampler):
    """Keep a random subset (without replacement by default) of the classes to shrink."""

    kind = "under"

    def __init__(self, sampling_strategy="auto", random_state=None, replacement=False):
        super().__init__(sampling_strategy, random_state)
        self.replacement = replacement

    def _resample(self, X, y, rng):
        parts = []
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            if c.item() in self.sampling_strategy_:
                members = rng.choice(members, size=self.sampling_strategy_[c.item()], replace=self.replacement)
            parts.append(members)
        idx = np.concatenate(parts).astype(np.int64)
        self.sample_indices_ = idx
        return X[idx], y[idx]


def nearest_neighbors(X, k, reference=None):
    """(N, k) indices of the k nearest rows of `reference` (default X itself, excluding each row) by
    Euclidean distance, nearest first."""
    ref = X if reference is None else reference
    d2 = (X**2).sum(1)[:, None] - 2 * X @ ref.T + (ref**2).sum(1)[None, :]
    if reference is None:
        np.fill_diagonal(d2, np.inf)
    if k > ref.shape[0] - (reference is None):
        raise ValueError(f"nearest_neighbors: asked for {k} neighbours of {ref.shape[0]} samples"
                         f"{' (excluding itself)' if reference is None else ''}")
    idx = np.argpartition(d2, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(d2, idx, axis=1).argsort(axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)


def _interpolate(base, neighbours, n, rng, step=1.0):
    """n points base[i] + u (neighbours[i, j] - base[i]) for random rows i, neighbours j and u ~ U[0, step]."""
    rows = rng.integers(0, len(base), size=n)
    cols = rng.integers(0, neighbours.shape[1], size=n)
    u = rng.uniform(0.0, step, size=(n, 1))
    return base[rows] + u * (neighbours[rows, cols] - base[rows])


class SMOTE(_Sampler):
    """Synthetic Minority Over-sampling TEchnique (Chawla, Bowyer, Hall & Kegelmeyer, JAIR 2002).

    For each class to grow, with its samples x_1..x_m: find each one's
    `k_neighbors` nearest neighbours *within the class*, then n times pick a
    random sample x_i, a random one of its neighbours x_j and u ~ U[0, 1] and
    add `x_i + u (x_j - x_i)`.  New points lie inside the class' local convex
    hulls; a plain copy (RandomOverSampler) adds no new information, SMOTE
    smooths the decision region instead.

    Args:
        sampling_strategy: see the module docstring.
        k_neighbors: neighbours per sample (5 as in the paper).
        random_state: an int seed or a NumPy Generator.
    """

    def __init__(self, sampling_strategy="auto", random_state=None, k_neighbors=5):
        super().__init__(sampling_strategy, random_state)
        self.k_neighbors = k_neighbors

    def _resample(self, X, y, rng):
        X = X.astype(np.float64) if X.dtype.kind != "f" else X
        xs, ys = [X], [y]
        for c, n in self.sampling_strategy_.items():
            if n <= 0:
                continue
            members = X[y == c]
            neighbours = members[nearest_neighbors(members, self.k_neighbors)]
            xs.append(_interpolate(members, neighbours, n, rng).astype(X.dtype))
            ys.append(np.full(n, c, dtype=y.dtype))
        return np.concatenate(xs), np.concatenate(ys)


class BorderlineSMOTE(SMOTE):
    """SMOTE from the minority samples in danger only (Han, Wang & Mao, ICIC 2005).

    A minority sample is *in danger* when at least half, but not all, of its
    `m_neighbors` nearest neighbours in the whole data set are of other classes
    (all of them: noise, not used).  "borderline-1" interpolates towards
    minority neighbours; "borderline-2" also towards neighbours of any class,
    with u ~ U[0, 0.5] for those, so new points stay on the minority side.
    """

    def __init__(self, sampling_strategy="auto", random_state=None, k_neighbors=5, m_neighbors=10,
                 kind="borderline-1"):
        super().__init__(sampling_strategy, random_state, k_neighbors)
        if kind not in ("borderline-1", "borderline-2"):
            raise ValueError(f"BorderlineSMOTE: kind must be 'borderline-1' or 'borderline-2', got {kind!r}")
        self.m_neighbors, self.kind_ = m_neighbors, kind

    def _resample(self, X, y, rng):
        X = X.astype(np.float64) if X.dtype.kind != "f" else X
        xs, ys = [X], [y]
        for c, n in self.sampling_strategy_.items():
            if n <= 0:
                continue
            members = X[y == c]
            others = (y[nearest_neighbors(X, self.m_neighbors)] != c)[y == c].sum(axis=1)
            danger = members[(others >= self.m_neighbors / 2) & (others < self.m_neighbors)]
            if len(danger) == 0:
                continue
            # each danger sample is its own nearest member (distance 0): ask for k + 1 and drop it
            same = members[nearest_neighbors(danger, self.k_neighbors + 1, reference=members)[:, 1:]]
            if self.kind_ == "borderline-1":
                new = _interpolate(danger, same, n, rng)
            else:
                n_same = int(rng.beta(10, 10) * n)
                anyone = X[nearest_neighbors(danger, self.k_neighbors + 1, reference=X)[:, 1:]]
                new = np.concatenate([_interpolate(danger, same, n_same, rng),
                                      _interpolate(danger, anyone, n - n_same, rng, step=0.5)])
            xs.append(new.astype(X.dtype))
            ys.append(np.full(len(new), c, dtype=y.dtype))
        return np.concatenate(xs), np.concatenate(ys)


class ADASYN(SMOTE):
    """ADAptive SYNthetic sampling (He, Bai, Garcia & Li, IJCNN 2008).

    Like SMOTE, but sample x_i of the class receives a share of the n new
    points proportional to r_i, the fraction of its `n_neighbors` nearest
    neighbours (whole data set) that belong to other classes: hard regions get
    more synthetic points.  The shares are rounded, so the total can differ from
    n by a few samples.
    """

    def __init__(self, sampling_strategy="auto", random_state=None, n_neighbors=5):
        super().__init__(sampling_strategy, random_state, n_neighbors)

    def _resample(self, X, y, rng):
        X = X.astype(np.float64) if X.dtype.kind != "f" else X
        xs, ys = [X], [y]
        all_nn = nearest_neighbors(X, self.k_neighbors)
        for c, n in self.sampling_strategy_.items():
            if n <= 0:
                continue
            members = X[y == c]
            r = (y[all_nn[y == c]] != c).mean(axis=1)
            if r.sum() == 0:
                raise RuntimeError(f"ADASYN: no neighbour of class {c!r} belongs to another class; use SMOTE")
            per_sample = np.rint(r / r.sum() * n).astype(np.int64)
            neighbours = members[nearest_neighbors(members, self.k_neighbors)]
            rows = np.repeat(np.arange(len(members)), per_sample)
            cols = rng.integers(0, self.k_neighbors, size=len(rows))
            u = rng.uniform(size=(len(rows), 1))
            new = members[rows] + u * (neighbours[rows, cols] - members[rows])
            xs.append(new.astype(X.dtype))
            ys.append(np.full(len(new), c, dtype=y.dtype))
        return np.concatenate(xs), np.concatenate(ys)


def make_imbalanced(x, y, fraction, minority=0, random_state=None):
    """Keep a random subset of class `minority` so that it makes up `fraction` of the result.

    Returns `(x, y, kept_indices)`; the other classes are untouched.  Used to make an
    imbalanced version of a balanced data set (e.g. breast cancer with 10% malignant).
    """
    x, y = np.asarray(x), np.asarray(y)
    if not 0 < fraction < 1:
        raise ValueError(f"make_imbalanced: fraction must be in (0, 1), got {fraction}")
    members = np.flatnonzero(y == minority)
    if members.size == 0:
        raise ValueError(f"make_imbalanced: class {minority!r} does not occur in y")
    others = np.flatnonzero(y != minority)
    n_keep = max(1, min(len(members), int(round(fraction * len(others) / (1 - fraction)))))
    keep = np.sort(np.r_[others, _rng(random_state).choice(members, n_keep, replace=False)])
    return x[keep], y[keep], keep
