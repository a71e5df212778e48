"""Pooling and upsampling layers and their functional forms (inventory C4, C5, C7, D4).

Max pooling keeps the largest value of each window and sends the gradient only
there (the first maximum on ties, as PyTorch); average pooling divides the
window's sum by its element count; adaptive pooling picks the windows so that
the output has a given size (global pooling: output size 1); `interpolate` /
`Upsample` resize with nearest or (bi)linear interpolation.  Kernels are in
`deepnotes.ops.pool`; arguments and defaults are PyTorch's.
"""
from __future__ import annotations

from ..functional.conv import ntuple
from ..functional.pooling import _adaptive_avg, _adaptive_max, _avg_pool, _max_pool, interpolate
from ..module import Module


class _MaxPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return _max_pool(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                         self.return_indices, self._n, f"{type(self).__name__}({self.extra_repr()})")

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max pooling over (N, C, L); see `max_pool1d`."""

    _n = 1


class MaxPool2d(_MaxPoolNd):
    """Max pooling over (N, C, H, W) (inventory C4); see `max_pool2d`.

    Args: kernel_size, stride (default kernel_size), padding (-inf, at most half the
    kernel), dilation, return_indices, ceil_mode.  No parameters.

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> nn.MaxPool2d(2)(dn.arange(16.0).reshape(1, 1, 4, 4)).numpy()[0, 0]
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """

    _n = 2


class _AvgPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return _avg_pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, self.divisor_override, self._n,
                         f"{type(self).__name__}({self.extra_repr()})")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Average pooling over (N, C, L); see `avg_pool1d`."""

    _n = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        # PyTorch stores 1-tuples here (and shows them in the repr).
        stride = kernel_size if stride is None else stride
        super().__init__(*(ntuple(v, 1, "", "AvgPool1d") for v in (kernel_size, stride, padding)), ceil_mode,
                         count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Average pooling over (N, C, H, W) (inventory C4); see `avg_pool2d`."""

    _n = 2


class _AdaptivePoolNd(Module):
    _n = 2
    _max = False

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        if self._max:
            self.return_indices = return_indices

    def forward(self, input):
        name = f"{type(self).__name__}({self.extra_repr()})"
        if self._max:
            return _adaptive_max(input, self.output_size, self.return_indices, self._n, name)
        return _adaptive_avg(input, self.output_size, self._n, name)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Adaptive average pooling of (N, C, L) to output_size; see `adaptive_avg_pool1d`."""

    _n = 1

    def __init__(self, output_size):
        super().__init__(output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Adaptive average pooling to (H_out, W_out); AdaptiveAvgPool2d(1) is global average pooling (C4).

    An entry None keeps that input size.  No parameters, so a network that ends with
    it accepts any input size (the classifier sees C numbers whatever H and W).
    """

    def __init__(self, output_size):
        super().__init__(output_size)


class AdaptiveMaxPool1d(_AdaptivePoolNd):
    """Adaptive max pooling of (N, C, L); see `adaptive_max_pool1d`."""

    _n, _max = 1, True


class AdaptiveMaxPool2d(_AdaptivePoolNd):
    """Adaptive max pooling to (H_out, W_out); see `adaptive_max_pool2d`."""

    _max = True


class Upsample(Module):
    """Resize by `scale_factor` or to `size` with `interpolate` (inventory C5, C7, D4).

    Args: size, scale_factor, mode ('nearest', 'nearest-exact', 'linear', 'bilinear',
    'area'), align_corners, recompute_scale_factor; as PyTorch.  Nearest upsampling
    followed by a convolution is the usual alternative to a strided transposed
    convolution (no checkerboard artifacts; Odena et al., 2016).
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.mode = size, mode
        self.scale_factor = (tuple(float(f) for f in scale_factor) if isinstance(scale_factor, (tuple, list))
                             else float(scale_factor) if scale_factor is not None else None)
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"

