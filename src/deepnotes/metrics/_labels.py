"""Input checks shared by the metrics: label arrays, their type and the set of labels.

scikit-learn's rules, which the oracle tests hold us to:

- labels are numbers or strings, never a mix of both in one call;
- float labels must be whole numbers (continuous targets are not classes);
- a target is *binary* when the union of `y_true` and `y_pred` has at most
  two distinct labels, *multiclass* otherwise;
- a 2-D target with more than one column is *multilabel*: an (N, K) indicator
  matrix whose column k says whether sample i carries label k (a sample may
  carry several labels, or none).  It holds at most two distinct whole
  numbers; a nonzero entry is a positive;
- the label set is the sorted union of both arrays (the column indices
  0..K-1 for a multilabel target).
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
    if np.size(np.asarray(y_true)) == 0:
        raise EmptyInputError(f"{fn}: y_true is empty; expected at least 1 sample")


def is_indicator(y):
    """True for a 2-D target with more than one column (multilabel, or a multi-output error)."""
    arr = np.asarray(y)
    return arr.ndim == 2 and arr.shape[1] > 1


def as_indicator(fn, y, name="y_true"):
    """`y` as an (N, K) int64 matrix of 0 and 1; refuses multi-output targets (more than two values)."""
    arr = np.asarray(y)
    if arr.ndim != 2:
        raise ValueError(f"{fn}: {name} must be an (N, K) multilabel indicator matrix, got shape {arr.shape}")
    if arr.size == 0:
        raise EmptyInputError(f"{fn}: {name} is empty (shape {arr.shape}); expected at least 1 sample")
    values = np.unique(arr) if arr.dtype.kind in "biuf" else None
    if values is None or len(values) > 2 or (arr.dtype.kind == "f" and not np.all(values == np.round(values))):
        shown = "" if values is None else f" {values[:5].tolist()}"
        raise ValueError(f"{fn}: {name} of shape {arr.shape} holds values{shown} of dtype {arr.dtype}; a 2-D "
                         "target must be a multilabel indicator matrix of 0 and 1 (multi-output is not supported)")
    return (arr != 0).astype(np.int64)


def _is_str(arr):
    return arr.dtype.kind in "US"


def check_targets(fn, y_true, y_pred):
    """(y_true, y_pred, kind, labels): two label arrays of one length, their kind and the sorted labels.

    kind is 'binary', 'multiclass' or 'multilabel-indicator' (then both are
    (N, K) 0/1 matrices and labels = arange(K)).
    """
    if is_indicator(y_true) or is_indicator(y_pred):
        kinds = ["multilabel-indicator" if is_indicator(y) else "multiclass" for y in (y_true, y_pred)]
        if kinds[0] != kinds[1]:
            raise ValueError(f"{fn}: can't handle a mix of {kinds[0]} (y_true) and {kinds[1]} (y_pred) targets")
        y_true, y_pred = as_indicator(fn, y_true, "y_true"), as_indicator(fn, y_pred, "y_pred")
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{fn}: multilabel y_true and y_pred have different shapes: {y_true.shape} and "
                             f"{y_pred.shape}")
        return y_true, y_pred, "multilabel-indicator", np.arange(y_true.shape[1])
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
