"""Dropout layers: Dropout, Dropout1d/2d, AlphaDropout, DropConnectLinear, LockedDropout (inventory R1, R2).

Each layer draws a fresh mask on every forward call in training mode and is
the identity in eval mode (`model.eval()`).  `p` is the probability to
*drop* (PyTorch's convention; Keras' and the original paper's `keep_prob` is
1 - p), and kept units are scaled by 1 / (1 - p) during training ("inverted"
dropout), so nothing changes at test time.  The math lives in
`deepnotes.ops.dropout`; masks come from `deepnotes.random.default_generator()`.
"""
from __future__ import annotations



from .. import functional as F
from ...ops.dropout import check_probability
from ..module import Module
from .linear import Linear


class _DropoutNd(Module):
    """Holds `p` (validated) and `inplace` (accepted for PyTorch compatibility, ignored)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_probability(type(self).__name__, p)
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout (Srivastava et al., 2014): y = x * keep / (1 - p) in training, y = x in eval.

    keep ~ Bernoulli(1 - p) independently per element, so E[y] = x.  x: any shape.

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> _ = dn.manual_seed(0)
        >>> y = nn.Dropout(0.5)(dn.ones(2, 4))
        >>> sorted(set(y.numpy().ravel().tolist()))   # dropped -> 0, kept -> 1 / (1 - p)
        [0.0, 2.0]
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Channel-wise dropout for x: (N, C, L) or (C, L): every channel zeroed whole with probability p."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Channel-wise dropout (Tompson et al., 2015) for x: (N, C, H, W): whole feature maps zeroed.

    A 3D input is read as (N, C, L) (channel-wise 1D dropout), as PyTorch does.
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Alpha dropout (Klambauer et al., 2017) for SELU networks: dropped units set to SELU's negative
    saturation value, then an affine map restores zero mean and unit variance.  x: any shape."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of x: (N, C, *)."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)


class LockedDropout(_DropoutNd):
    """Variational dropout for sequences (Gal & Ghahramani, 2016), named "locked" by Merity et al. (2018).

    x: (T, B, H), or (B, T, H) with batch_first=True.  One mask of shape
    (B, H) per forward call, the same at every time step of a sequence:
    a unit dropped at step t is dropped at every step.  Fresh masks per step
    (plain Dropout on a sequence) inject noise that an RNN accumulates over
    time; a fixed mask is the Bayesian view's single weight sample per sequence.
    Not in PyTorch.

    Args:
        p: probability to drop a unit for the whole sequence.
        batch_first: the layout of x.
    """

    def __init__(self, p=0.5, batch_first=False):
        super().__init__(p)
        self.batch_first = bool(batch_first)

    def forward(self, input):
        return F.locked_dropout(input, self.p, self.training, self.batch_first)

    def extra_repr(self):
        return f"p={self.p}, batch_first={self.batch_first}"


class DropConnectLinear(Linear):
    """A Linear layer whose *weights* are dropped (DropConnect, Wan et al., 2013).

    Training: y = x (M * W)^T / (1 - p) + b, M ~ Bernoulli(1 - p) per weight,
    one fresh M per forward call shared by the whole batch (the paper samples
    one per example; one per batch is the usual, much cheaper, practice).
    The bias is not dropped.  Eval: y = x W^T + b with the full weights (the
    inverted scaling keeps E[y] equal in both modes; the paper's test-time
    Gaussian moment matching is not used).  Dropout drops whole *rows of
    activations* (every weight out of a unit); DropConnect drops single
    connections.  Not in PyTorch.

    Args:
        in_features, out_features: sizes of x's last axis and of y's.
        p: probability to drop each weight.
        bias: learn an additive bias.

    Shapes: x (*, in_features) -> y (*, out_features); weight
    (out_features, in_features), initialized as PyTorch's Linear
    (kaiming_uniform with a = sqrt(5): U(-1/sqrt(in), 1/sqrt(in)), bias the same).
    """

    def __init__(self, in_features, out_features, p=0.5, bias=True):
        check_probability("DropConnectLinear", p)
        super().__init__(in_features, out_features, bias)  # Linear's parameters and PyTorch's init
        self.p = p

    def forward(self, input):
        if input.ndim < 1 or input.shape[-1] != self.in_features:
            raise ValueError(
                f"DropConnectLinear({self.in_features}, {self.out_features}): expected input with last "
                f"dimension {self.in_features}, got shape {tuple(input.shape)}"
            )
        return F.drop_connect_linear(input, self.weight, self.bias, self.p, self.training)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, p={self.p}, "
            f"bias={self.bias is not None}"
        )
