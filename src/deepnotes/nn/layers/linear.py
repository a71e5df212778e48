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
from ...autograd.tensor import as_tensor
from ...ops.matmul import Linear as _LinearFn


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
        x = as_tensor(input)
        self.check_input(x, nan=False)
        weight, bias = self._parameters["weight"], self._parameters["bias"]
        # The checks are F.linear's, so the fused op is applied directly (a hot path).
        out = _LinearFn.apply(x, weight) if bias is None else _LinearFn.apply(x, weight, bias)
        # A NaN in x makes its whole output row NaN (NaN * w is NaN for every w), so when the
        # output is the smaller array it is searched instead of x; x is searched only when the
        # output holds a NaN (which a NaN weight could also have put there).
        if 0 < out.data.size < x.data.size and not holds_nan(out.data):
            return out
        self.check_input(x)
        return out

    def check_input(self, x, nan=True):
        """Raise the error `forward` gives for the tensor x: not floating point, wrong last
        dimension, a dtype other than the weight's, or (with `nan`) a NaN anywhere."""
        weight = self._parameters["weight"]
        if x.dtype.kind != "f":
            raise TypeError(f"{self._name()}: expected a floating-point input tensor, got dtype {x.dtype}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self._name()}: expected input of shape (..., {self.in_features}), got {x.shape}")
        if x.dtype != weight.dtype:
            raise TypeError(
                f"{self._name()}: input dtype {x.dtype} differs from the weight's {weight.dtype}; "
                f"cast one of them (x.astype(...), or layer.to(...))"
            )
        if nan and holds_nan(x.data):
            raise ValueError(
                f"{self._name()}: input of shape {x.shape} contains {int(np.isnan(x.data).sum())} NaN value(s)"
            )

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def holds_nan(array):
    """Whether the array holds a NaN: x . x is NaN exactly then (one BLAS pass, ~2x a sum's speed)."""
    flat = array.reshape(-1)
    square = np.dot(flat, flat)
    return square != square
