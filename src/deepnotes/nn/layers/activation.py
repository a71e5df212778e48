"""Activation layers (inventory A1-A6): thin modules over `nn.functional`.

Conventions (PyTorch's): ReLU'(0) = 0; LeakyReLU's negative side is
negative_slope * z; Softmax / LogSoftmax need the axis `dim` (classes on
axis 1 for (N, C) logits).  Sigmoid gives independent per-output
probabilities (binary / multi-label outputs); Softmax one distribution over
mutually exclusive classes (A6).  `inplace=` is accepted for compatibility
and ignored: results are always new tensors.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..module import Module, Parameter


class Sigmoid(Module):
    """1 / (1 + e^-x); derivative s (1 - s) <= 1/4, vanishing where |x| is large (A1)."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh x: zero-centered, derivative 1 - tanh^2 <= 1, saturating for large |x| (A2)."""

    def forward(self, input):
        return F.tanh(input)


class ReLU(Module):
    """max(x, 0): no saturation for x > 0; a unit whose input stays negative gets no
    gradient and stops learning ("dying ReLU", A3)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise: a small gradient survives for x < 0 (A4)."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Leaky ReLU with a learned slope a (He et al., 2015), one shared or one per channel (axis 1).

    Args:
        num_parameters: 1, or the number of input channels C.
        init: the initial slope (0.25).
    """

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(np.full((num_parameters,), init, dtype=np.dtype(dtype or np.float32)))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x for x > 0, alpha (e^x - 1) otherwise: smooth, saturates to -alpha (Clevert et al., 2016)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x * Phi(x) (Hendrycks & Gimpel, 2016); approximate='tanh' for the tanh formula."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x_i) / sum_j exp(x_j) along `dim`, computed stably (A5)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along `dim`: x - logsumexp(x), never log(0) (A5)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
