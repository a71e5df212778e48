"""Convolution layers and their functional forms: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.

Inventory C1 (stride, padding, dilation, groups, output size), C3 (1x1 convolution
mixes channels: it is a Linear applied at every pixel), C5 (transposed convolution),
C6 (dilated convolution).  The kernels are in `deepnotes.ops.conv` (im2col + GEMM);
this module parses PyTorch's arguments, checks the input and holds the parameters.

Conventions (PyTorch's): NCHW layout; `dilation=1` means no dilation; "convolution" is
cross-correlation (no kernel flip); padding='same' with an even kernel puts the extra
pixel at the end (right / bottom); output size per axis
    floor((S + 2P - D (K - 1) - 1) / stride) + 1,  the textbook (W - K + 2P) / S + 1 when D = 1;
transposed:  (S - 1) stride - 2P + D (K - 1) + output_padding + 1.
"""
from __future__ import annotations

import math

import numpy as np

from ..._checks import check_size
from .. import init
from ..functional.conv import PADDING_MODES, _conv, _conv_transpose, _positive, conv_padding, ntuple
from ..module import Module, Parameter


class _ConvNd(Module):
    """Shared constructor, initialization and repr of the convolution modules."""

    _n = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, output_padding=0, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self._n
        check_size(name, "in_channels", in_channels)
        check_size(name, "out_channels", out_channels)
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
            )
        if padding_mode not in PADDING_MODES or (self._transposed and padding_mode != "zeros"):
            allowed = ("zeros",) if self._transposed else PADDING_MODES
            raise ValueError(f"{name}: padding_mode must be one of {allowed}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _positive(ntuple(kernel_size, n, "kernel_size", name), "kernel_size", name)
        self.stride = _positive(ntuple(stride, n, "stride", name), "stride", name)
        self.dilation = _positive(ntuple(dilation, n, "dilation", name), "dilation", name)
        self.padding = padding if isinstance(padding, str) else ntuple(padding, n, "padding", name)
        conv_padding(self.padding, self.kernel_size, self.stride, self.dilation, name)  # validates
        self.output_padding = ntuple(output_padding, n, "output_padding", name)
        self.padding_mode = padding_mode
        channels = (in_channels, out_channels // groups) if self._transposed else (out_channels, in_channels // groups)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.weight = Parameter(np.empty(channels + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = weight.shape[1] * prod(K).

        (kaiming_uniform_ with a = sqrt 5.  For transposed weights (in, out/groups, *K) PyTorch
        takes the same fan_in = out/groups * prod(K); kept here.)
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _name(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self):
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Forward convolution modules: PyTorch's constructor defaults, one forward for 1-d and 2-d."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype=dtype)

    def forward(self, input):
        return _conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                     self._n, self._name(), self.padding_mode)


class Conv1d(_Conv):
    """1-d convolution over (N, C_in, L) -> (N, C_out, L_out); arguments as `Conv2d`."""

    _n = 1


class Conv2d(_Conv):
    """2-d convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out)  (inventory C1, C3, C6).

    Args:
        in_channels, out_channels: channel counts; both divisible by `groups`.
        kernel_size: int or (kH, kW).
        stride: int or pair (default 1).
        padding: int, pair, 'valid' (none) or 'same' (output size = input size; stride 1).
        dilation: int or pair; 1 = ordinary convolution, d spreads the taps d apart (atrous).
        groups: split channels into groups convolved separately (groups = in_channels: depthwise).
        bias: learn a bias per output channel.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Weight (C_out, C_in / groups, kH, kW), bias (C_out,); parameter count
    C_out (C_in / groups kH kW + 1), independent of the input's size (C2).

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> nn.Conv2d(3, 8, 3, stride=2, padding=1)(dn.zeros(2, 3, 9, 9)).shape
        (2, 8, 5, 5)
    """


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype=dtype)
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")

    def forward(self, input, output_size=None):
        """`output_size` (optional) picks among the sizes a strided transposed conv can produce."""
        return _conv_transpose(input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                               self.groups, self.dilation, self._n, self._name(), output_size)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution: (N, C_in, L) -> (N, C_out, L_out); arguments as `ConvTranspose2d`."""

    _n = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution, the adjoint of Conv2d (inventory C5).

    (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    Weight (C_in, C_out / groups, kH, kW).  With stride s it upsamples by s: each input
    pixel stamps a scaled copy of the kernel into the output, s pixels apart, and overlaps
    add (the checkerboard artifacts of Odena et al., 2016, when K is not a multiple of s).
    It multiplies by the transposed convolution matrix; it does not invert the convolution.

    Args as PyTorch: in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0 (extra rows/columns at the end, < stride or dilation), groups=1,
    bias=True, dilation=1, padding_mode='zeros'.
    """

    _n = 2
