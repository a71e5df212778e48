"""The scikit-learn / imbalanced-learn oracle: the same inputs to deepnotes and the reference, same result or same error.

`check(dn_fn, sk_fn, *args, **kwargs)` calls both with the same arguments.
`compare(name, ours, reference)` is the general form for what is not one call
with shared arguments (a sampler's `fit_resample`, a streaming metric fed batch
by batch, a quantity derived from both outputs): `ours` and `reference` take no
arguments.  If the reference raises, deepnotes must raise an exception of the
same built-in class (ValueError, TypeError, ...); otherwise the results must
agree: floats and arrays to 1e-12 relative and absolute unless the caller asks
for tighter (NaN equal to NaN; integer results must stay integers), tuples and
dicts item by item, strings exactly.  Every comparison is counted in
`CASES[name]`.

`label_cases(seed)`, `score_cases(seed)`, `proba_cases(seed)` and
`multilabel_cases(seed)` draw the random inputs every test uses: several
sizes, 2 to 5 classes, int and string labels, heavy ties in the scores, (N, K)
indicator matrices, and the degenerate cases on purpose (one class present,
all-zero predictions, a class never predicted, empty label sets).  The data
tests (class weights, feature filters) use the same `check`.
"""
from __future__ import annotations

import warnings

import numpy as np

RTOL, ATOL = 1e-12, 1e-12
CASES = {}  # function name -> number of cases compared (for the report)


def _builtin_class(exc):
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins":
            return cls
    return Exception


def _compare(actual, expected, what, rtol, atol):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{what}: got {type(actual).__name__}, the reference gives a dict"
        assert list(actual) == list(expected), f"{what}: keys {list(actual)} != the reference's {list(expected)}"
        for key in expected:
            _compare(actual[key], expected[key], f"{what}[{key!r}]", rtol, atol)
    elif isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected), f"{what}: {len(actual)} items, the reference gives {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{what}[{i}]", rtol, atol)
    elif isinstance(expected, str):
        assert actual == expected, f"{what}:\n{actual}\n!= the reference's\n{expected}"
    elif expected is None:
        assert actual is None, f"{what}: got {actual!r}, the reference gives None"
    else:
        a, e = np.asarray(actual), np.asarray(expected)
        assert a.shape == e.shape, f"{what}: shape {a.shape} != the reference's {e.shape}"
        if e.dtype.kind in "iu":
            assert a.dtype.kind in "iu", f"{what}: dtype {a.dtype}, the reference gives {e.dtype}"
        np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=what)


def compare(name, ours, reference, *, what=None, rtol=RTOL, atol=ATOL):
    """Call `reference()` then `ours()`: same result, or same error class.  Returns ours' result (None if both raised).

    The default tolerance is for float64 on both sides; pass a tighter one to compare exactly, a looser
    one only where deepnotes' side is float32 (and say so at the call)."""
    CASES[name] = CASES.get(name, 0) + 1
    what = what or name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = reference()
        except Exception as ref_exc:  # noqa: BLE001 - any reference error is the expected behaviour
            cls = _builtin_class(ref_exc)
            try:
                got = ours()
            except cls:
                return None
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"{what}: raised {type(exc).__name__}({exc}), the reference raised "
                                     f"{type(ref_exc).__name__}({ref_exc})") from exc
            raise AssertionError(f"{what}: returned {got!r}, the reference raised {type(ref_exc).__name__}({ref_exc})")
        actual = ours()
    _compare(actual, expected, what, rtol, atol)
    return actual


def check(dn_fn, sk_fn, *args, **kwargs):
    """`compare` for one function called with the same arguments on both sides."""
    name = dn_fn.__name__
    return compare(name, lambda: dn_fn(*args, **kwargs), lambda: sk_fn(*args, **kwargs),
                   what=f"{name}{tuple(kwargs.items())}")


def _labels(rng, n, k, strings):
    y = rng.integers(0, k, size=n)
    return np.array(["cat", "dog", "emu", "fox", "gnu"])[y] if strings else y


def label_cases(seed, n_random=12):
    """[(y_true, y_pred)]: random pairs plus the degenerate ones."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_random):
        n, k, strings = int(rng.integers(1, 40)), int(rng.integers(2, 6)), i % 3 == 2
        y_true = _labels(rng, n, k, strings)
        y_pred = np.where(rng.random(n) < 0.6, y_true, _labels(rng, n, k, strings))  # better than chance
        cases.append((y_true, y_pred))
    cases += [
        (np.zeros(8, int), np.zeros(8, int)),                       # one class, all correct
        (np.array([0, 1, 1, 0, 1]), np.zeros(5, int)),              # all-zero predictions
        (np.array([1, 1, 1]), np.array([0, 0, 0])),                 # one class in y_true, never predicted
        (np.array([0, 0, 2, 2, 1]), np.array([0, 2, 2, 2, 2])),     # a class never predicted
        (np.array(["a", "b", "b"]), np.array(["b", "b", "b"])),     # strings, binary
        (np.array([0, 1, 2]), np.array(["a", "b", "c"])),           # mixed types: an error
        (np.array([-1, 1, 1, -1]), np.array([1, 1, -1, -1])),       # {-1, 1}
    ]
    return cases


def score_cases(seed, n_random=10):
    """[(y_true, y_score)] binary: random, with heavy ties, plus degenerate ones."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_random):
        n = int(rng.integers(2, 60))
        y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
        score = y * rng.uniform(0, 1.5) + rng.normal(size=n)
        if i % 2:
            score = np.round(score, 1) if i % 4 == 1 else np.round(score * 2) / 2  # ties
        cases.append((y, score))
    cases += [
        (np.array([1, 1, 1]), np.array([0.1, 0.5, 0.5])),  # only positives
        (np.array([0, 0, 0]), np.array([0.1, 0.5, 0.9])),  # only negatives
        (np.array([0, 1, 0, 1]), np.array([0.3, 0.3, 0.3, 0.3])),  # all tied
        (np.array([0, 1]), np.array([0.2, 0.7])),
    ]
    return cases


def proba_cases(seed, n_random=8):
    """[(y_true, (N, K) probabilities)] multiclass, some with a class missing from y_true."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_random):
        n, k = int(rng.integers(6, 50)), int(rng.integers(3, 6))
        y = rng.integers(0, k - (i % 4 == 3), size=n)
        logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
        if i % 2:
            logits = np.round(logits)  # ties
        p = np.exp(logits)
        cases.append((y, p / p.sum(axis=1, keepdims=True)))
    return cases


def multilabel_cases(seed, n_random=10):
    """[(Y_true, Y_pred, Y_score)]: (N, K) 0/1 indicator matrices and per-label scores with ties.

    Random ones (N 1-30, K 2-5, predictions right about 70% of the entries),
    then degenerate ones: empty label sets, a label nobody carries, one never
    predicted, everything positive, one sample, bool and float dtypes.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_random):
        n, k = int(rng.integers(1, 30)), int(rng.integers(2, 6))
        y_true = (rng.random((n, k)) < rng.uniform(0.1, 0.6)).astype(int)
        y_pred = np.where(rng.random((n, k)) < 0.7, y_true, 1 - y_true)
        score = y_true * rng.uniform(0, 1.5) + rng.normal(size=(n, k))
        if i % 2:
            score = np.round(score, 1) if i % 4 == 1 else np.round(score * 2) / 2  # ties
        cases.append((y_true, y_pred, score))
    base = (rng.random((12, 4)) < 0.4).astype(int)
    score = base + rng.normal(size=(12, 4))
    no_label = base.copy()
    no_label[3:6] = 0                                            # samples with an empty label set
    absent = base.copy()
    absent[:, 2] = 0                                             # a label nobody carries
    never = base.copy()
    never[:, 1] = 0                                              # a label never predicted
    cases += [
        (no_label, base, score),
        (absent, base, score),
        (base, never, score),
        (np.ones((5, 3), int), np.ones((5, 3), int), rng.normal(size=(5, 3))),   # everything positive
        (base[:1], base[:1], score[:1]),                                          # one sample
        (base.astype(bool), never.astype(bool), np.round(score)),                 # bool dtype, ties
        (base.astype(np.float64), base[::-1].astype(np.float64), score),          # float 0./1.
    ]
    return cases
