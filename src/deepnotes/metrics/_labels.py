"""Input checks shared by the metrics: label arrays, their type and the set of labels.

scikit-learn's rules, which the oracle tests hold us to:

- labels are numbers or strings, never a mix of both in one call;
- float labels must be whole numbers (continuous targets are not classes);
- a target is *binary* when the union of `y_true` and `y_pred` has at most
  two distinct labels, *multiclass* otherwise;
- the label set is the sorted union of both arrays.
"""
from __future__ import annotations

import numpy as np

from ..errors import EmptyInputError


def as_labels(fn, y, name="y_true"):
    """`y` as a 1-D NumPy array of labels; (N, 1) column vectors are flattened."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{fn}: {name} must be a 1-D array of labels, got shape {arr.shape}")
    if arr.size == 0:  # as scikit-learn: a metric of no samples is undefined, not 0 or 1
        raise EmptyInputError(f"{fn}: {name} is empty (shape {arr.shape}); expected at least 1 sample")
    if arr.dtype.kind == "f" and arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        raise ValueError(f"{fn}: {name} holds continuous values; expected class labels (ints or strings)")
    if arr.dtype.kind == "O":
        kinds = {isinstance(v, str) for v in arr.tolist()}
        if len(kinds) > 1:
            raise ValueError(f"{fn}: {name} mixes strings and numbers")
        if kinds == {True}:
            arr = arr.astype(str)
    return arr


def as_scores(fn, y, name="y_score", ndim=(1,)):
    """`y` as a float64 array with a number of dimensions in `ndim`, all finite."""
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1 and 1 in ndim and 2 not in ndim:
        arr = arr[:, 0]
    if arr.ndim not in ndim:
        raise ValueError(f"{fn}: {name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise EmptyInputError(f"{fn}: {name} is empty (shape {arr.shape}); expected at least 1 sample")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{fn}: {name} contains NaN or infinity")
    return arr


def require_samples(fn, y_true):
    """EmptyInputError naming the public metric `fn` when `y_true` holds no sample (before it delegates)."""
    if np.asarray(y_true).size == 0:
        raise EmptyInputError(f"{fn}: y_true is empty; expected at least 1 sample")


def _is_str(arr):
    return arr.dtype.kind in "US"


def check_targets(fn, y_true, y_pred):
    """(y_true, y_pred, kind, labels): two label arrays of one length, 'binary'/'multiclass', sorted labels."""
    y_true, y_pred = as_labels(fn, y_true, "y_true"), as_labels(fn, y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"{fn}: y_true and y_pred have different lengths: {len(y_true)} and {len(y_pred)}")
    if len(y_true) and len(y_pred) and _is_str(y_true) != _is_str(y_pred):
        raise ValueError(f"{fn}: mix of label types (strings and numbers) in y_true and y_pred")
    labels = np.union1d(y_true, y_pred)
    kind = "binary" if len(labels) <= 2 else "multiclass"
    return y_true, y_pred, kind, labels


def check_weights(fn, sample_weight, n):
    """None, or a float64 vector of length n."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"{fn}: sample_weight must have length {n}, got {w.shape[0]}")
    return w


def binary_positive(fn, y_true, pos_label):
    """A boolean vector `y_true == pos_label` with scikit-learn's default rule for pos_label.

    Without `pos_label`, the labels must be {0, 1}, {-1, 1} or one of them and the
    positive class is 1; otherwise the caller must say which label is positive.
    """
    classes = np.unique(y_true)
    if len(classes) > 2:
        raise ValueError(f"{fn}: y_true has {len(classes)} classes {classes.tolist()}; expected a binary target")
    if pos_label is None:
        if _is_str(classes) or not set(classes.tolist()) <= {0, 1, -1} or set(classes.tolist()) == {0, -1}:
            raise ValueError(f"{fn}: y_true takes values {classes.tolist()} and pos_label is not given; "
                             "use labels in {0, 1} or {-1, 1}, or pass pos_label")
        pos_label = 1
    return y_true == pos_label
