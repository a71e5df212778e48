"""Functional forms: losses (PyTorch's names and reductions).

The kernels live in `deepnotes.ops` families (`ops.activation`, `ops.matmul`,
`ops.loss`, ...); this module is the namespace users import.  The functions
here check their arguments (raising errors that name the function, what was
expected and what came) and apply losses' reductions.  New families append
their exports at the end of this file.

Losses follow PyTorch exactly: `reduction` is 'mean' (the default), 'sum' or
'none'; class-index targets have the class axis 1 of the input removed
((N, C, d1, ...) -> (N, d1, ...)); a weighted mean divides by the total weight
of the non-ignored targets.  Where PyTorch only warns about mismatched
input/target shapes (and then broadcasts), deepnotes raises.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..._checks import check_nan, holds_nan
from ... import fast
from ...autograd.tensor import Tensor, as_tensor
from ...errors import DTypeError, IndexRangeError
from ...ops import loss as _L


# ==================================================================== losses
_REDUCTIONS = ("mean", "sum", "none")


def _reduction(fn, reduction, size_average=None, reduce=None, allowed=_REDUCTIONS):
    """Validate `reduction`; map PyTorch's deprecated size_average / reduce flags onto it."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"{fn}: size_average and reduce are deprecated; use reduction={reduction!r}", stacklevel=3)
    if reduction not in allowed:
        raise ValueError(f"{fn}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _floating(x, fn, what="input", scan=True):
    """x as a floating-point Tensor, scanned for NaN (scan=False: the caller checks its result instead)."""
    t = as_tensor(x)
    if t.dtype.kind != "f":
        raise DTypeError(f"{fn}: expected a floating-point {what}, got dtype {t.dtype}")
    if scan:
        check_nan(fn, t._data, what)
    return t


def _checked_result(loss, fn, x):
    """`loss`, after the NaN check of its input x done cheaply: a NaN logit makes its row's loss NaN, so x
    is scanned only when the (much smaller) loss holds a NaN; a NaN loss from a NaN-free x is PyTorch's."""
    if holds_nan(loss._data):
        check_nan(fn, x._data)
    return loss


def _pair(fn, input, target):
    """Float input and target of the same shape."""
    x, y = _floating(input, fn), _floating(target, fn, "target")
    if x.shape != y.shape:
        raise ValueError(
            f"{fn}: input and target must have the same shape, got input {x.shape} and target {y.shape}"
        )
    return x, y


def _constant(value, dtype, fn, what):
    """A weight array (no gradient, as in PyTorch) in the input's dtype."""
    if value is None:
        return None
    array = np.asarray(value._data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: {what} must be numeric, got dtype {array.dtype}")
    return array.astype(dtype, copy=False)


def _broadcastable(fn, name, array, shape):
    """`array` (or None) if it broadcasts to `shape` without growing it; else a ValueError."""
    if array is None:
        return None
    try:
        fits = np.broadcast_shapes(array.shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{fn}: {name} of shape {array.shape} does not broadcast to the input's shape {tuple(shape)}")
    return array


def _elementwise_weighted(fn, loss, weight, reduction, mean_by_weight):
    """PyTorch's optional element weights of mse / l1 / huber (same shape as the input)."""
    if weight is None:
        return _reduce(loss, reduction)
    w = as_tensor(weight)
    if w.shape != loss.shape:
        raise ValueError(f"{fn}: weight must have the input's shape {loss.shape}, got {w.shape}")
    weighted = loss * w
    if reduction == "mean" and mean_by_weight:
        return weighted.sum() / w.sum()
    return _reduce(weighted, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (x - y)^2 (inventory L1); a weighted mean divides by sum(weight)."""
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    x, y = _pair("mse_loss", input, target)
    d = x - y
    return _elementwise_weighted("mse_loss", d * d, weight, reduction, mean_by_weight=True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - y| (inventory L1); the gradient at x = y is 0."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    x, y = _pair("l1_loss", input, target)
    return _elementwise_weighted("l1_loss", (x - y).abs(), weight, reduction, mean_by_weight=True)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 for |d| < delta, delta (|d| - delta / 2) beyond (Huber, 1964); weighted mean = mean(w * loss)."""
    reduction = _reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, y = _pair("huber_loss", input, target)
    return _elementwise_weighted("huber_loss", _L.Huber.apply(x, y, delta=delta), weight, reduction,
                                 mean_by_weight=False)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta for |d| < beta, |d| - beta / 2 beyond (Girshick, 2015) = huber(delta=beta) / beta.

    beta = 0 is the L1 loss.  Smooth L1's gradient is bounded by 1 whatever
    beta; Huber's by delta.
    """
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    x, y = _pair("smooth_l1_loss", input, target)
    return _reduce(_L.Huber.apply(x, y, delta=beta) / beta, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w [y log p + (1 - y) log(1 - p)] on probabilities p, logs clamped at -100 (L2).

    Prefer `binary_cross_entropy_with_logits` on logits: it is exact where
    sigmoid saturates.
    """
    fn = "binary_cross_entropy"
    reduction = _reduction(fn, reduction, size_average, reduce)
    x, y = _pair(fn, input, target)
    if x._data.size and (x._data.min() < 0 or x._data.max() > 1):
        raise ValueError(
            f"{fn}: input must be probabilities in [0, 1], got values in [{x._data.min()}, {x._data.max()}]; "
            "for logits use binary_cross_entropy_with_logits"
        )
    w = _broadcastable(fn, "weight", _constant(weight, x.dtype, fn, "weight"), x.shape)
    return _reduce(_L.BinaryCrossEntropy.apply(x, y, weight=w), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable step (L2, L4).

    loss = -w [pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed as
    w [(1 - y) x + (1 + (pw - 1) y) softplus(-x)], finite for any logit.
    `pos_weight` pw (one per class, broadcast along the last axis) > 1 raises
    recall on the positive class: the imbalance knob.
    """
    fn = "binary_cross_entropy_with_logits"
    reduction = _reduction(fn, reduction, size_average, reduce)
    x, y = _pair(fn, input, target)
    w = _broadcastable(fn, "weight", _constant(weight, x.dtype, fn, "weight"), x.shape)
    pw = _broadcastable(fn, "pos_weight", _constant(pos_weight, x.dtype, fn, "pos_weight"), x.shape)
    return _reduce(_L.BinaryCrossEntropyWithLogits.apply(x, y, weight=w, pos_weight=pw), reduction)


def _class_labels(fn, input, target, n_classes, ignore_index, unbatched):
    """Validate class-index targets: integers of shape (N, d1, ...) in [0, C) or == ignore_index."""
    labels = np.asarray(target._data if isinstance(target, Tensor) else target)
    labels = labels[None] if unbatched else labels
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: expected integer class indices as target (shape {input.shape[:1] + input.shape[2:]}), "
            f"got dtype {labels.dtype} with shape {labels.shape}"
        )
    expected = input.shape[:1] + input.shape[2:]
    if labels.shape != expected:
        raise ValueError(
            f"{fn}: expected target of shape {expected} for input of shape {input.shape} "
            f"(the class axis 1 removed), got {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):  # two reductions in the common case
        bad = (labels < 0) | (labels >= n_classes)
        bad &= labels != ignore_index
        if bad.any():
            raise IndexRangeError(
                f"{fn}: target contains class index {labels[bad].flat[0]}, outside [0, {n_classes}) "
                f"for {n_classes} classes (ignore_index={ignore_index})"
            )
    return labels.astype(np.intp, copy=False)


def _class_weight(fn, weight, n_classes, dtype):
    w = _constant(weight, dtype, fn, "weight")
    if w is not None and w.shape != (n_classes,):
        raise ValueError(f"{fn}: weight must have one entry per class, shape ({n_classes},), got {w.shape}")
    return w


def _batched(fn, input, scan=True):
    """(input with a batch axis, whether it was added): a 1-d input (C,) is one unbatched sample."""
    x = _floating(input, fn, scan=scan)
    if x.ndim == 0:
        raise ValueError(f"{fn}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a scalar")
    return (x.unsqueeze(0), True) if x.ndim == 1 else (x, False)


def _class_reduce(per_sample, labels, weight, ignore_index, reduction, unbatched):
    """Reduce per-sample losses; the mean divides by the total weight of the non-ignored targets."""
    if reduction == "none":
        return per_sample.reshape(()) if unbatched else per_sample
    if reduction == "sum":
        return per_sample.sum()
    keep = labels != ignore_index
    total = float(weight.take(labels[keep]).sum()) if weight is not None else float(keep.sum())
    if total:
        return per_sample.sum() / total
    with np.errstate(invalid="ignore"):  # every target ignored: 0 * inf = nan, gradient 0, as PyTorch
        return per_sample.sum() * float("inf")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood -w[y] x[y] of log-probabilities x (L2, L4).

    Args:
        input: log-probabilities (C,), (N, C) or (N, C, d1, ...).
        target: integer class indices (), (N,) or (N, d1, ...).
        weight: (C,) class weights; the mean divides by sum of w[y_n] over non-ignored n.
        ignore_index: targets with this value contribute neither loss nor weight.
    """
    fn = "nll_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    x, unbatched = _batched(fn, input)
    labels = _class_labels(fn, x, target, x.shape[1], ignore_index, unbatched)
    w = _class_weight(fn, weight, x.shape[1], x.dtype)
    per_sample = _L.NLLLoss.apply(x, labels=labels, weight=w, ignore_index=ignore_index)
    return _class_reduce(per_sample, labels, w, ignore_index, reduction, unbatched)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy on logits, fused (inventory L2, L3, L4).

    Args:
        input: logits (C,), (N, C) or (N, C, d1, ...), classes on axis 1.
        target: either integer class indices (), (N,) or (N, d1, ...), or class
            probabilities of the input's shape (soft labels).
        weight: (C,) class weights.  With class indices the mean divides by the
            total weight of the non-ignored targets; with probabilities by the
            number of samples N * d1 * ... (PyTorch's two conventions).
        ignore_index: class-index targets with this value are skipped.
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) onehot + eps / C
            (Szegedy et al., 2016); with weights, the smoothing mass of class c
            is weighted by w_c, as in PyTorch.

    loss_n = -sum_c q[n, c] log softmax(z_n)_c, gradient softmax(z_n) * sum(q) - q;
    for one-hot q: softmax - onehot.
    """
    fn = "cross_entropy"
    if reduction == "mean" and weight is None and not label_smoothing and size_average is None and reduce is None:
        shortcut = fast.get("mean_cross_entropy")  # the training hot path: one node, its own checks
        loss = None if shortcut is None else shortcut(input, target, ignore_index)
        if loss is not None:
            return loss
    reduction = _reduction(fn, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x, unbatched = _batched(fn, input, scan=False)  # the loss is checked instead (_checked_result)
    n_classes = x.shape[1]
    w = _class_weight(fn, weight, n_classes, x.dtype)
    target_shape = tuple(target.shape) if hasattr(target, "shape") else np.shape(target)
    target_kind = (target.dtype if hasattr(target, "dtype") else np.asarray(target).dtype).kind
    if target_kind == "f":
        if target_shape != tuple(input.shape):
            raise ValueError(
                f"{fn}: a floating-point target holds class probabilities and must have the input's shape "
                f"{tuple(input.shape)}, got {target_shape} (class indices must be integers)"
            )
        if ignore_index >= 0:
            raise ValueError(f"{fn}: ignore_index ({ignore_index}) is not supported with probability targets")
        t = as_tensor(target)
        t = t.unsqueeze(0) if unbatched else t
        per_sample = _L.SoftTargetCrossEntropy.apply(x, t, weight=w, label_smoothing=label_smoothing)
        if reduction == "none":
            return _checked_result(per_sample.reshape(()) if unbatched else per_sample, fn, x)
        return _checked_result(_reduce(per_sample, reduction), fn, x)
    if target_shape == tuple(input.shape) and input.ndim > 0:
        raise TypeError(
            f"{fn}: a target of the input's shape {target_shape} holds class probabilities and must be "
            f"floating-point, got dtype {np.dtype(target.dtype) if hasattr(target, 'dtype') else target_kind}"
        )
    labels = _class_labels(fn, x, target, n_classes, ignore_index, unbatched)
    per_sample = _L.CrossEntropy.apply(
        x, labels=labels, weight=w, ignore_index=ignore_index, label_smoothing=label_smoothing
    )
    return _checked_result(_class_reduce(per_sample, labels, w, ignore_index, reduction, unbatched), fn, x)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || model) pointwise: t (log t - x), with `input` x the model's LOG-probabilities (L3).

    PyTorch's convention, kept here: the input is log q (e.g. log_softmax
    output), the target is p (or log p with `log_target=True`), and the
    pointwise terms sum to KL(p || q) = sum p log(p / q).  reduction='batchmean'
    (sum / N) gives the true KL per sample; 'mean' divides by every element
    (PyTorch warns about it, and so does deepnotes).
    """
    fn = "kl_div"
    reduction = _reduction(fn, reduction, size_average, reduce, allowed=("mean", "batchmean", "sum", "none"))
    x, t = _pair(fn, input, target)
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides by the number of elements, not by the batch size; "
            "use reduction='batchmean' for the KL divergence per sample", stacklevel=2,
        )
    loss = _L.KLDivPointwise.apply(x, t, log_target=log_target)
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, reduction)
