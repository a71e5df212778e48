"""Fused loss kernels (inventory L1-L4): one `Function` per loss, per-element output.

Each Function returns the *unreduced* loss (one value per element or per
sample); `deepnotes.nn.functional` validates the arguments and applies the
reduction ('mean', 'sum', 'none'), dividing by a constant where PyTorch does
(e.g. the total weight of the non-ignored targets).  Fusing matters most for
cross-entropy: log-softmax followed by picking the target's log-probability
has the simple gradient softmax(z) - onehot(y), computed here in one pass
without building the intermediate graph.  Tests check every kernel against
PyTorch, and the cross-entropy kernels also against the same loss composed
from primitive ops (log_softmax + gather + mean).

Class-probability arrays are (N, C, d1, ...) with the class axis 1, as in
PyTorch; class-index targets are (N, d1, ...).  Class weights, `pos_weight`
and element weights are constants (no gradient), as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .activation import log_softmax_array, stable_sigmoid
from .elementwise import constant


def class_axis_view(weight, ndim):
    """A (C,) class-weight vector shaped to broadcast along axis 1 of an `ndim`-d array."""
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def _pick(array, labels):
    """array[n, labels[n, ...], ...]: the entry of each sample's class along axis 1."""
    return np.take_along_axis(array, labels[:, None], axis=1)[:, 0]


class CrossEntropy(Function):
    """Softmax cross-entropy with class-index targets, fused (log-softmax + NLL in one node).

    For logits z (N, C, d...) and labels y (N, d...), with p = softmax(z) along C,
    class weights w (ones by default) and label smoothing eps:

        loss_n = -(1 - eps) w[y_n] log p[n, y_n] - (eps / C) sum_c w_c log p[n, c]

    and 0 where y_n == ignore_index.  Writing q[n, c] = (1 - eps) w[y_n] [c = y_n]
    + (eps / C) w_c for the weighted target row, loss_n = -sum_c q[n, c] log p[n, c] and

        d loss_n / d z[n, :] = p[n, :] * sum_c q[n, c] - q[n, :]

    (= p - onehot(y) for eps = 0 and unit weights).  This is PyTorch's
    definition, weights included: smoothing mass eps / C is weighted by each
    class's own weight.
    """

    @staticmethod
    def forward(ctx, z, labels=None, weight=None, ignore_index=-100, label_smoothing=0.0):
        n_classes = z.shape[1]
        shifted = z - z.max(axis=1, keepdims=True)  # the max shift keeps exp finite
        e = np.exp(shifted)
        total = e.sum(axis=1)
        log_total = np.log(total)
        keep = labels != ignore_index
        safe = np.where(keep, labels, 0)  # any valid index; these rows are zeroed
        w_label = weight.take(safe) * keep if weight is not None else keep.astype(z.dtype)
        log_p_label = _pick(shifted, safe) - log_total
        loss = -(1 - label_smoothing) * w_label * log_p_label
        if label_smoothing:
            w = class_axis_view(weight, z.ndim) if weight is not None else 1
            logp = shifted - log_total[:, None]
            loss = loss - (label_smoothing / n_classes) * keep.astype(z.dtype) * (w * logp).sum(axis=1)
        if not keep.all():  # an ignored row's loss is exactly 0, as PyTorch's, even when its logits hold NaN or inf
            loss = np.where(keep, loss, 0)
        # Backward needs softmax = e / total: keep e and total instead of a second exp.
        ctx.save_for_backward(e, total, safe, w_label, keep)
        ctx.weight, ctx.eps = weight, label_smoothing
        return loss.astype(z.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        e, total, safe, w_label, keep = ctx.saved_arrays
        weight, eps = ctx.weight, ctx.eps
        n_classes = e.shape[1]
        g = np.where(keep, grad, 0)  # ignored samples get exactly no gradient (even if grad is inf)
        # sum_c q[n, c] = (1 - eps) w[y_n] + (eps / C) sum_c w_c
        w_total = weight.sum() if weight is not None else n_classes
        q_sum = (1 - eps) * w_label + (eps / n_classes) * w_total * keep.astype(e.dtype)  # bool * float: float64
        dz = e * (g * q_sum / total)[:, None]  # softmax * sum(q) * g
        if eps:
            w = class_axis_view(weight, e.ndim) if weight is not None else 1
            dz -= (eps / n_classes) * w * g[:, None]
        onehot_part = ((1 - eps) * w_label * g)[:, None]
        at_label = np.take_along_axis(dz, safe[:, None], axis=1) - onehot_part
        np.put_along_axis(dz, safe[:, None], at_label, axis=1)
        return dz

    @staticmethod
    def backward_graph(ctx, grad):
        """The same gradient, p * sum(q) * g - q * g, from Tensor ops (differentiable again)."""
        _, _, safe, w_label, keep = ctx.saved_arrays
        z = ctx.inputs[0]
        n_classes, eps = z.shape[1], ctx.eps
        w = class_axis_view(ctx.weight, z.ndim) if ctx.weight is not None else np.ones((1,) * z.ndim)
        q = np.broadcast_to((eps / n_classes) * w * keep[:, None], z.shape).astype(z.dtype)
        np.put_along_axis(q, safe[:, None], _pick(q, safe)[:, None] + ((1 - eps) * w_label)[:, None], axis=1)
        g = grad * constant(keep, grad.dtype)
        p = z.softmax(dim=1)
        return p * (g * constant(q.sum(axis=1), z.dtype)).unsqueeze(1) - constant(q, z.dtype) * g.unsqueeze(1)


class SoftTargetCrossEntropy(Function):
    """Cross-entropy with class-probability targets t (same shape as the logits z).

        loss_n = -sum_c w_c t'[n, c] log softmax(z)[n, c],  t' = (1 - eps) t + eps / C

    dz = p * sum_c q - q with q = w t';  dt = -(1 - eps) w log p (PyTorch
    differentiates through the target too).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, z, target, weight=None, label_smoothing=0.0):
        n_classes = z.shape[1]
        logp = log_softmax_array(z, axis=1)
        smoothed = target * (1 - label_smoothing) + label_smoothing / n_classes if label_smoothing else target
        w = class_axis_view(weight, z.ndim) if weight is not None else 1
        q = w * smoothed
        ctx.save_for_backward(logp, q)
        ctx.w, ctx.eps = w, label_smoothing
        return -(q * logp).sum(axis=1)

    @staticmethod
    def backward(ctx, grad):
        logp, q = ctx.saved_arrays
        g = grad[:, None]
        dz = (np.exp(logp) * q.sum(axis=1, keepdims=True) - q) * g if ctx.needs_input_grad[0] else None
        dt = -(1 - ctx.eps) * ctx.w * logp * g if ctx.needs_input_grad[1] else None
        return dz, dt


class NLLLoss(Function):
    """Negative log-likelihood: loss_n = -w[y_n] x[n, y_n] (0 where y_n == ignore_index).

    x are log-probabilities (N, C, d...); dx is -w[y_n] at the label, 0 elsewhere.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, labels=None, weight=None, ignore_index=-100):
        keep = labels != ignore_index
        safe = np.where(keep, labels, 0)
        w_label = weight.take(safe) * keep if weight is not None else keep.astype(x.dtype)
        ctx.save_for_backward(safe, w_label, keep)
        ctx.shape, ctx.dtype = x.shape, x.dtype
        return (-w_label * _pick(x, safe)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        safe, w_label, keep = ctx.saved_arrays
        dx = np.zeros(ctx.shape, dtype=ctx.dtype)
        at_label = np.where(keep, -w_label * grad, 0)  # ignored samples: exactly 0
        np.put_along_axis(dx, safe[:, None], at_label[:, None], axis=1)
        return dx


class BinaryCrossEntropy(Function):
    """loss = -w [y log x + (1 - y) log(1 - x)] on probabilities x, each log clamped at -100.

    The clamp (PyTorch's) keeps the loss finite at x = 0 or 1; the input gradient
    w (x - y) / max(x (1 - x), 1e-12) is PyTorch's too.  The target gradient is
    w (log(1 - x) - log x).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, y, weight=None):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = -(y * log_x + (1 - y) * log_1mx)
        ctx.save_for_backward(x, y, log_x, log_1mx)
        ctx.weight = weight
        return loss * weight if weight is not None else loss

    @staticmethod
    def backward(ctx, grad):
        x, y, log_x, log_1mx = ctx.saved_arrays
        g = grad * ctx.weight if ctx.weight is not None else grad
        dx = g * (x - y) / np.maximum(x * (1 - x), 1e-12) if ctx.needs_input_grad[0] else None
        dy = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                dy = g * (np.log1p(-x) - np.log(x))
        return dx, dy


def softplus_array(x):
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropyWithLogits(Function):
    """BCE on logits x, stable for any x (the log-sum-exp form), with positive-class weight pw:

        loss = w [(1 - y) x + (1 + (pw - 1) y) softplus(-x)]
             = w [-pw y log sigmoid(x) - (1 - y) log(1 - sigmoid(x))]

    dx = w [(1 + (pw - 1) y) sigmoid(x) - pw y]  (= w (sigmoid(x) - y) for pw = 1)
    dy = w [pw softplus(-x) - softplus(x)]       (= -w x for pw = 1)
    `pos_weight` broadcasts along the last axis (one value per class), as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, y, weight=None, pos_weight=None):
        sp_neg = softplus_array(-x)
        coeff = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
        loss = (1 - y) * x + coeff * sp_neg
        ctx.save_for_backward(x, y, sp_neg)
        ctx.weight, ctx.pos_weight = weight, pos_weight
        return loss * weight if weight is not None else loss

    @staticmethod
    def backward(ctx, grad):
        x, y, sp_neg = ctx.saved_arrays
        pw = ctx.pos_weight
        g = grad * ctx.weight if ctx.weight is not None else grad
        dx = dy = None
        if ctx.needs_input_grad[0]:
            s = stable_sigmoid(x)
            dx = g * ((1 + (pw - 1) * y) * s - pw * y) if pw is not None else g * (s - y)
        if ctx.needs_input_grad[1]:
            dy = g * (pw * sp_neg - (x + sp_neg)) if pw is not None else -g * x  # softplus(x) = x + softplus(-x)
        return dx, dy

    @staticmethod
    def backward_graph(ctx, grad):
        """dx and dy of the docstring from Tensor ops, so they can be differentiated again."""
        x, y = ctx.inputs[0], ctx.inputs[1]
        pw = None if ctx.pos_weight is None else constant(ctx.pos_weight, x.dtype)
        g = grad * constant(ctx.weight, x.dtype) if ctx.weight is not None else grad
        dx = dy = None
        if ctx.needs_input_grad[0]:
            dx = g * ((1 + (pw - 1) * y) * x.sigmoid() - pw * y) if pw is not None else g * (x.sigmoid() - y)
        if ctx.needs_input_grad[1]:
            softplus_neg = (-x).relu() + ((-x.abs()).exp() + 1).log()
            dy = g * (pw * softplus_neg - (x + softplus_neg)) if pw is not None else -g * x
        return dx, dy


class Huber(Function):
    """Huber loss: d^2 / 2 for |d| < delta, delta (|d| - delta / 2) beyond, d = x - y.

    Quadratic near 0 (smooth, unlike L1), linear in the tails (robust to
    outliers, unlike L2).  dd = clip(d, -delta, delta).  Smooth L1 with beta is
    Huber with delta = beta divided by beta (Girshick, 2015, Fast R-CNN).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, y, delta=1.0):
        d = x - y
        ad = np.abs(d)
        ctx.save_for_backward(d)
        ctx.delta = delta
        return np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_arrays
        dd = grad * np.clip(d, -ctx.delta, ctx.delta)
        return dd, -dd


class KLDivPointwise(Function):
    """Pointwise KL term t (log t - x) for log-probabilities x (PyTorch's kl_div convention).

    With log_target=False, t are probabilities and 0 log 0 = 0; with
    log_target=True, t are log-probabilities: e^t (t - x).  Summed over classes
    this is KL(target || model).  dx = -t (or -e^t);  dt = log t + 1 - x (or
    e^t (t - x + 1)).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, t, log_target=False):
        if log_target:
            p_t = np.exp(t)
            out = p_t * (t - x)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                t_log_t = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0)
            out = t_log_t - t * x
            p_t = t
        ctx.save_for_backward(x, t, p_t)
        ctx.log_target = log_target
        return out.astype(np.result_type(x, t), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t, p_t = ctx.saved_arrays
        dx = -grad * p_t if ctx.needs_input_grad[0] else None
        dt = None
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                dt = grad * p_t * (t - x + 1)
            else:
                with np.errstate(divide="ignore"):
                    dt = grad * (np.log(t) + 1 - x)
        return dx, dt
