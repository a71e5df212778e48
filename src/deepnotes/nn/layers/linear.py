"""The fully connected layer: z = x W^T + b (inventory E4, E5).

One neuron computes z = w . x + b and an activation a = f(z); a `Linear`
layer is `out_features` neurons side by side, and the raw z of the last layer
(before softmax or sigmoid) are the *logits*.  Stacking Linear layers without
an activation in between collapses to one linear map (E6): W2 (W1 x + b1) + b2
= (W2 W1) x + (W2 b1 + b2).
"""
from __future__ import annotations

import math

import numpy as np

from .. import init
from ..module import Module, Parameter
from ..._checks import check_size
from ...autograd.tensor import as_tensor
from ..functional.linear import check_input as _check_input
from ..functional.linear import linear


class Linear(Module):
    """y = x W^T + b.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (float32 by default).

    Shapes:
        input (..., in_features) -> output (..., out_features);
        weight (out_features, in_features), bias (out_features,).

    Initialization is PyTorch's: W ~ U(-1/sqrt(in), 1/sqrt(in)) (written as
    kaiming_uniform_ with a = sqrt 5, whose gain sqrt(2 / (1 + 5)) makes the
    bound sqrt(3) * gain / sqrt(in) = 1 / sqrt(in)), b ~ U(-1/sqrt(in), 1/sqrt(in)).

    Input checks: the last dimension must be `in_features` (ValueError), the
    dtype floating and equal to the weight's (TypeError, as PyTorch), and the
    input free of NaN (ValueError).  The NaN check costs one extra pass,
    `np.isnan(x.sum())`; only when the sum is NaN (a NaN, or +inf and -inf
    together) is the input scanned element by element to confirm.

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> layer = nn.Linear(3, 2)
        >>> layer(dn.ones(5, 3)).shape
        (5, 2)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        check_size("Linear", "in_features", in_features)
        check_size("Linear", "out_features", out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _name(self):
        return f"Linear({self.in_features}, {self.out_features})"

    def forward(self, input):
        weight, bias = self._weight_and_bias()
        return linear(input, weight, bias, _name=self._name)

    def _weight_and_bias(self):
        # A pruned weight (deepnotes.compress.prune) is a plain attribute that a forward pre-hook
        # sets, as in PyTorch; otherwise the registered parameters (read without __getattr__).
        own, params = self.__dict__, self._parameters
        return (own["weight"] if "weight" in own else params["weight"],
                own["bias"] if "bias" in own else params["bias"])

    def check_input(self, x, nan=True):
        """Raise the error `forward` gives for the tensor x (see `nn.functional.linear`)."""
        _check_input(as_tensor(x), self._weight_and_bias()[0], self._name(), nan)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
