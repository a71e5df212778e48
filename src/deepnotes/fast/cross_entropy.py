"""Fast path: mean cross-entropy over (N, C) logits as one node (the training hot path).

`nn.functional.cross_entropy` computes the per-sample losses (`ops.loss.CrossEntropy`) and
then their mean: two nodes and several NumPy calls. With no class weights, no label
smoothing, no ignored targets and the mean reduction, one node does it in a third of the
calls; it matters for small heads, where the calls, not the arithmetic, cost.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
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
        ctx.save_for_backward(e, total, labels)
        picked = shifted[np.arange(n), labels]
        return np.asarray((np.log(total).sum() - picked.sum()) / n, dtype=z.dtype)

    @staticmethod
    def backward(ctx, grad):
        e, total, labels = ctx.saved_arrays
        n = e.shape[0]
        dz = e * (grad / n / total)[:, None]  # softmax(z) * g / N
        dz[np.arange(n), labels] -= grad / n
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
def mean_cross_entropy(logits, labels, weight, ignore_index, label_smoothing, reduction):
    """The mean cross-entropy of (N, C) `logits` as one node, or None when the case is not the
    plain one (weights, smoothing, other reductions, ignored targets, other shapes)."""
    if (reduction != "mean" or weight is not None or label_smoothing or logits.ndim != 2 or not len(labels)
            or (labels == ignore_index).any()):
        return None
    return MeanCrossEntropy.apply(logits, labels=labels)
