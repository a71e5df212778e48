"""Fast path: mean cross-entropy over (N, C) logits as one node (the training hot path).

`nn.functional.cross_entropy` computes the per-sample losses (`ops.loss.CrossEntropy`) and
then their mean: two nodes and several NumPy calls. With no class weights, no label
smoothing, no ignored targets and the mean reduction, one node does it in a third of the
calls; it matters for small heads, where the calls, not the arithmetic, cost.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._checks import holds_nan
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..ops.elementwise import constant
from . import register


class MeanCrossEntropy(Function):
    """The training hot path of cross-entropy: (N, C) logits, class labels, no weights, no
    smoothing, no ignored targets, averaged over the N samples; one node, scalar output.

        loss = (1/N) sum_n (log sum_c e^{z[n, c]} - z[n, y_n]),
        d loss / d z = (softmax(z) - onehot(y)) / N

    The same value and gradient as `CrossEntropy` followed by the mean, in a third of
    the NumPy calls (it matters for small heads, where the calls, not the arithmetic, cost).
    """

    @staticmethod
    def forward(ctx, z, labels=None):
        n = z.shape[0]
        shifted = z - z.max(axis=1, keepdims=True)  # the max shift keeps exp finite
        e = np.exp(shifted)
        total = np.einsum("ij->i", e)
        rows = np.arange(n)
        ctx.save_for_backward(e, total, labels, rows)
        picked = shifted[rows, labels]
        return np.asarray((np.log(total).sum() - picked.sum()) / n, dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        e, total, labels, rows = ctx.saved_arrays
        n = e.shape[0]
        dz = e * (grad / n / total)[:, None]  # softmax(z) * g / N
        dz[rows, labels] -= grad / n
        return dz

    @staticmethod
    def backward_graph(ctx, grad):
        """(softmax(z) - onehot(y)) * g / N from Tensor ops (differentiable again)."""
        z = ctx.inputs[0]
        labels = ctx.saved_arrays[2]
        onehot = np.zeros(z.shape, dtype=z.dtype)
        onehot[np.arange(z.shape[0]), labels] = 1
        return (z.softmax(dim=1) - constant(onehot, z.dtype)) * (grad / z.shape[0])


@register("mean_cross_entropy", replaces="deepnotes.nn.functional.cross_entropy (reduction='mean')")
def mean_cross_entropy(logits, target, ignore_index):
    """The mean cross-entropy of (N, C) floating-point `logits` (a Tensor) and N integer class
    labels (a Tensor or an array) in [0, C), no index ignored, as one node; None for anything
    else, which the general path checks (and reports) in full. The caller has checked the rest
    of the plain case: no weights, no smoothing, reduction 'mean'.

    The loss is checked for NaN (a NaN logit makes it NaN); only then are the logits scanned."""
    if not isinstance(logits, Tensor):
        return None
    z = logits._data
    labels = target._data if isinstance(target, Tensor) else target
    if (z.ndim != 2 or z.dtype.kind != "f" or not isinstance(labels, np.ndarray) or labels.dtype.kind not in "iu"
            or labels.shape != z.shape[:1] or not len(labels) or 0 <= ignore_index < z.shape[1]
            or labels.min() < 0 or labels.max() >= z.shape[1]):
        return None
    loss = MeanCrossEntropy.apply(logits, labels=labels)
    return loss if not _checks.ENABLED or not holds_nan(loss._data) else None
