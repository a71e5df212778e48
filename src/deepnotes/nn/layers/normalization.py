"""Normalization layers: BatchNorm1d/2d, InstanceNorm1d/2d, LayerNorm, GroupNorm (inventory N1, N2, N4).

Names, arguments, defaults, parameter and buffer names follow torch.nn, so
state_dicts are interchangeable.  Every layer calls the functional form in
`deepnotes.ops.normalization`, which runs the one fused `Normalize` kernel;
the layers differ only in the axes they normalize over:

    layer            input                statistics over          parameters per
    BatchNorm1d      (N, C) or (N, C, L)  N (and L)                channel
    BatchNorm2d      (N, C, H, W)         N, H, W                  channel
    InstanceNorm2d   (N, C, H, W)         H, W (each n, c)         channel
    LayerNorm(D)     (*, D)               D (each example)         element of D
    GroupNorm(G, C)  (N, C, H, W)         C/G, H, W (each n, g)    channel

Conventions (PyTorch's): the biased variance normalizes, the unbiased one
feeds the running estimate; epsilon goes inside the square root; `momentum`
is the weight of the *new* statistic (running = (1 - m) running + m batch),
the opposite of the "decay" of Keras/TensorFlow.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..._checks import check_nan
from ...autograd.tensor import Tensor
from ...errors import ShapeError
from .. import functional as F
from ..module import Module, Parameter


class _NormBase(Module):
    """Parameters and running buffers shared by BatchNorm and InstanceNorm.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance inside the square root.
        momentum: weight of the batch statistic in the running estimate;
            None means a cumulative moving average (the plain mean of all the
            batch statistics seen so far: momentum = 1 / num_batches_tracked).
        affine: learn a per-channel scale `weight` (ones) and shift `bias` (zeros).
        track_running_stats: keep `running_mean`, `running_var` and
            `num_batches_tracked` buffers and use them in eval mode.
        bias: with affine=True, whether to learn the shift.
    """

    _default_affine = True
    _default_track = True

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=None, track_running_stats=None, *, bias=True):
        super().__init__()
        affine = self._default_affine if affine is None else affine
        track_running_stats = self._default_track if track_running_stats is None else track_running_stats
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=np.float32)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=np.float32)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight._data[...] = 1
            if self.bias is not None:
                self.bias._data[...] = 0

    def _check_channels(self, x, channel_dim):
        if x.shape[channel_dim] != self.num_features:
            raise ShapeError(
                f"{self._name()}: expected input with {self.num_features} channels at dim {channel_dim}, "
                f"got shape {tuple(x.shape)}"
            )

    def _check_ndim(self, x, allowed):
        if x.ndim not in allowed:
            want = " or ".join(f"{d}D" for d in allowed)
            raise ShapeError(f"{self._name()}: expected {want} input, got {x.ndim}D input of shape {tuple(x.shape)}")

    def _name(self):
        return f"{type(self).__name__}({self.num_features})"

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Batch normalization (Ioffe & Szegedy, 2015): y = (x - mean) / sqrt(var + eps) * weight + bias.

    Training: mean and (biased) variance of the batch, per channel, over the
    batch and spatial axes; the running estimates move toward them (unbiased
    variance) and `num_batches_tracked` counts the batches.  Evaluation: the
    running estimates normalize, so one example's output does not depend on
    the others in its batch.  With track_running_stats=False the batch
    statistics are used in both modes.
    """

    _allowed_ndim = ()

    def forward(self, input):
        self._check_ndim(input, self._allowed_ndim)
        self._check_channels(input, 1)
        check_nan(self._name, input._data)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked._data)
        # Batch statistics in training, and in eval when there are no running estimates.
        use_batch_stats = self.training or self.running_mean is None
        # Running estimates are passed to be updated (training) or used (eval), only when tracked.
        update_or_use = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if update_or_use else None,
            self.running_var if update_or_use else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """BatchNorm over x: (N, C) or (N, C, L); statistics per channel over N (and L).

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> bn = nn.BatchNorm1d(3)
        >>> y = bn(dn.randn(8, 3) * 5 + 2)
        >>> bool(abs(y.numpy().mean(axis=0)).max() < 1e-5), bool(abs(y.numpy().std(axis=0) - 1).max() < 1e-3)
        (True, True)
        >>> bn.num_batches_tracked.item()
        1
    """

    _allowed_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over x: (N, C, H, W); statistics per channel over N, H, W (the 'spatial' BN of CNNs)."""

    _allowed_ndim = (4,)


class _InstanceNorm(_NormBase):
    """Instance normalization (Ulyanov et al., 2016): each (example, channel) slice normalized over its
    spatial axes.  Defaults as PyTorch: affine=False, track_running_stats=False (batch statistics in
    eval too).  With track_running_stats=True the running estimates average the per-instance statistics
    and normalize in eval; momentum=None then means 0 (PyTorch's behaviour: the estimates stay put)."""

    _default_affine = False
    _default_track = False
    _batched_ndim = 0

    def forward(self, input):
        self._check_ndim(input, (self._batched_ndim - 1, self._batched_ndim))
        channel_dim = input.ndim - self._batched_ndim + 1
        if input.shape[channel_dim] != self.num_features:
            if self.affine or self.track_running_stats:
                self._check_channels(input, channel_dim)
            warnings.warn(
                f"{self._name()}: input has {input.shape[channel_dim]} channels at dim {channel_dim}; "
                "num_features is not used because affine=False and track_running_stats=False",
                stacklevel=2,
            )
        check_nan(self._name, input._data)
        unbatched = input.ndim == self._batched_ndim - 1
        x = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """InstanceNorm over x: (N, C, L) or unbatched (C, L); statistics over L per (n, c)."""

    _batched_ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """InstanceNorm over x: (N, C, H, W) or unbatched (C, H, W); statistics over H, W per (n, c)
    (style transfer's normalization: it removes each image's per-channel contrast)."""

    _batched_ndim = 4


class LayerNorm(Module):
    """Layer normalization (Ba et al., 2016) over the trailing `normalized_shape` axes.

    y = (x - mean) / sqrt(var + eps) * weight + bias, the statistics of each
    example over the last len(normalized_shape) axes; the same computation in
    training and evaluation, independent of the batch.  In a Transformer,
    LayerNorm(d_model) on (N, T, d_model) normalizes each token's vector
    (Vaswani et al., 2017 place it after each residual sum, "post-LN"; most
    later models before each sublayer, "pre-LN", Xiong et al., 2020).

    Args:
        normalized_shape: int or tuple, the trailing shape to normalize over.
        eps: added to the variance inside the square root.
        elementwise_affine: learn `weight` (ones) and `bias` (zeros) of shape normalized_shape.
        bias: with elementwise_affine, whether to learn the shift.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        k = len(self.normalized_shape)
        if tuple(input.shape[input.ndim - k:]) != self.normalized_shape or input.ndim < k:
            raise ShapeError(
                f"LayerNorm({self.normalized_shape}): expected input with trailing shape "
                f"{self.normalized_shape}, got shape {tuple(input.shape)}"
            )
        check_nan(lambda: f"LayerNorm({self.normalized_shape})", input._data)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalization (Wu & He, 2018): channels split into `num_groups` groups, each example
    normalized over each group's channels and all spatial positions.

    x: (N, C, *); statistics over axes (2, 3, ...) of the (N, G, C/G, *) view.
    num_groups=1 gives LayerNorm over (C, *); num_groups=C gives InstanceNorm.
    Independent of the batch size, which is why detection models with small
    per-GPU batches use it instead of BatchNorm.

    Args:
        num_groups: G; must divide num_channels.
        num_channels: C.
        eps: added to the variance inside the square root.
        affine: learn a per-channel `weight` (ones) and `bias` (zeros).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels must be divisible by num_groups, got num_channels={num_channels} "
                f"and num_groups={num_groups}"
            )
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps = eps
        self.affine = bool(affine)
        if self.affine:
            self.weight = Parameter(np.ones(num_channels, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_channels, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(
                f"GroupNorm({self.num_groups}, {self.num_channels}): expected input (N, {self.num_channels}, *), "
                f"got shape {tuple(input.shape)}"
            )
        check_nan(lambda: f"GroupNorm({self.num_groups}, {self.num_channels})", input._data)
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
