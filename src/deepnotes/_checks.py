"""The few checks every entry point uses, and the one switch that turns them off.

Each helper raises a class from `deepnotes.errors` with a message that names
the layer or function (`name`), the argument (`what`), the value received and
what was expected.  `name` may be a string or a function returning one (a
layer's `repr`), formatted only when an error is raised.

Cost: the helpers compare shapes, dtypes and ints; the one that reads an
array, `check_nan`, makes a single BLAS pass (x . x is NaN exactly when x
holds a NaN: squares are >= 0, so no inf - inf can arise).  Hot paths call
them behind `ENABLED`; `set_checks(False)` (or DEEPNOTES_CHECKS=0) skips the
array-reading checks and the extra shape checks, for speed once a script is
known to be right.  Checks that stop a wrong *result* (matmul dtype mixing,
out-of-range indices) stay on: without them NumPy would answer silently.
"""
from __future__ import annotations

import os

import numpy as np

from .errors import DTypeError, IndexRangeError, NonFiniteError, ShapeError

ENABLED = os.environ.get("DEEPNOTES_CHECKS", "1") not in ("0", "false", "False")


def set_checks(enabled: bool) -> bool:
    """Turn the input checks on or off (on by default); returns the previous setting.

    Off, layers and losses skip the NaN scan of their input and the shape checks
    that NumPy would also catch (with a less helpful message).
    """
    global ENABLED
    previous, ENABLED = ENABLED, bool(enabled)
    return previous


def checks_enabled() -> bool:
    """Whether the input checks run (see `set_checks`)."""
    return ENABLED


def label(name) -> str:
    """The name of the caller: `name` itself, or `name()` when it is a function (a layer's repr)."""
    return name() if callable(name) else name


def shape_text(shape) -> str:
    """(N, 3, H, W)-style text: ints as they are, None as '*', strings (axis names) kept."""
    items = ["*" if s is None else str(s) for s in shape]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def check_shape(name, x, expected, what="input"):
    """Raise ShapeError unless x's shape matches `expected` (ints must match; None or a str matches any size)."""
    shape = np.shape(x._data if hasattr(x, "data") else x)
    if len(shape) == len(expected) and all(
            e is None or isinstance(e, str) or e == s for s, e in zip(shape, expected)):
        return
    raise ShapeError(f"{label(name)}: expected {what} of shape {shape_text(expected)}, got {tuple(shape)}")


def check_ndim(name, x, ndims, layout, what="input"):
    """Raise ShapeError unless x has one of `ndims` dimensions; `layout` says what they mean, e.g. '(N, C, H, W)'."""
    ndims = (ndims,) if isinstance(ndims, int) else tuple(ndims)
    if x.ndim not in ndims:
        allowed = " or ".join(f"{n}-d" for n in ndims)
        raise ShapeError(f"{label(name)}: expected a {allowed} {what} {layout}, got shape {tuple(x.shape)}")


def check_dtype(name, x, kinds="f", what="input"):
    """Raise DTypeError unless x's dtype kind is in `kinds` ('f' floating, 'iu' integer, 'b' bool)."""
    dtype = np.dtype(x.dtype)
    if dtype.kind in kinds:
        return
    wanted = {"f": "floating-point", "iu": "integer", "biu": "integer or bool", "fiu": "numeric",
              "b": "bool", "bf": "bool or floating-point"}.get(kinds, f"kind {kinds!r}")
    raise DTypeError(f"{label(name)}: expected a {wanted} {what}, got dtype {dtype}")


def holds_nan(array) -> bool:
    """Whether a floating-point array holds a NaN, in one pass over it.

    One block of memory (contiguous, or a permutation of a contiguous array, such as a convolution's
    channel-major output seen as (N, C, H, W)): x . x by BLAS over it, NaN exactly when x holds one
    (a sum of squares cannot be inf - inf). Other strided views (a sliced activation): their sum,
    which reads the view in place instead of copying it first; a NaN sum can also come from
    inf - inf, so it is confirmed."""
    if array.dtype.kind != "f" or array.size == 0:
        return False
    flat = array.reshape(-1) if array.flags.c_contiguous else _one_block(array)
    if flat is not None:
        square = np.dot(flat, flat)
        return square != square
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is a question here, not a warning
        total = array.sum()
    return total != total and bool(np.isnan(array).any())


def _one_block(array):
    """The elements of `array` as a 1-d view in memory order when they fill one block of memory
    with positive strides (a transposed or permuted contiguous array), else None."""
    expected = array.itemsize
    for axis in sorted(range(array.ndim), key=lambda a: array.strides[a]):
        if array.shape[axis] != 1 and array.strides[axis] != expected:
            return None
        expected *= array.shape[axis]
    return array.ravel(order="K")  # a view: no copy for such an array


def check_nan(name, array, what="input"):
    """Raise NonFiniteError if `array` holds a NaN (skipped when the checks are off).

    Infinities pass: PyTorch gives a defined answer for many of them (relu(inf),
    a -inf logit of a masked class), and deepnotes keeps that answer.
    """
    if ENABLED and holds_nan(array):
        count = int(np.isnan(array).sum())
        raise NonFiniteError(
            f"{label(name)}: {what} of shape {tuple(array.shape)} contains {count} NaN value(s); "
            "find where it was born with dn.autograd.detect_anomaly() or dn.train.diagnose"
        )


def check_dim(name, dim, ndim, what="dim"):
    """`dim` as a non-negative axis of an ndim-d tensor; IndexRangeError outside [-ndim, ndim - 1] (as PyTorch)."""
    size = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise DTypeError(f"{label(name)}: {what} must be an int, got {dim!r}")
    if -size <= dim < size:
        return int(dim) % size
    raise IndexRangeError(
        f"{label(name)}: {what}={dim} is out of range for a tensor with {ndim} dimensions "
        f"(expected a value in [{-size}, {size - 1}])"
    )


def check_index_range(name, index, size, what="index", negative=True):
    """Raise IndexRangeError unless every integer in `index` lies in [-size, size) (PyTorch's rule for
    indexing), or in [0, size) with negative=False (gather, scatter, class labels)."""
    index = np.asarray(index)
    if index.size == 0:
        return
    first = -size if negative else 0
    low, high = index.min(), index.max()
    if low >= first and high < size:
        return
    bad = int(high) if high >= size else int(low)
    raise IndexRangeError(f"{label(name)}: {what} {bad} is out of range for a dimension of size {size} "
                          f"(expected a value in [{first}, {size - 1}])")


def check_size(name, what, value, minimum=0):
    """Raise ShapeError unless `value` is an int >= minimum (a layer's width, a tensor's size)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise DTypeError(f"{label(name)}: {what} must be an int, got {value!r}")
    if value < minimum:
        raise ShapeError(f"{label(name)}: {what} must be >= {minimum}, got {value}")


def check_positive(name, what, value, strict=True):
    """Raise ValueError unless the number `value` is > 0 (or >= 0 with strict=False) and not NaN."""
    ok = value > 0 if strict else value >= 0
    if not ok:  # NaN fails both comparisons
        raise ValueError(f"{label(name)}: {what} must be {'>' if strict else '>='} 0, got {value}")


__all__ = ["set_checks", "checks_enabled", "check_shape", "check_ndim", "check_dtype", "check_nan", "check_dim",
           "check_index_range", "check_size", "check_positive", "holds_nan", "label", "shape_text"]
