"""Convolutional building blocks: residual block and CIFAR ResNet, Inception block, FPN.

Inventory I4 (residual connections), C3 and C7 (1x1 convolutions, Inception, FPN),
D4 (multi-scale features).  Each block is written out plainly from the paper so
that it reads as its diagram; the layers are deepnotes' own.
"""
from __future__ import annotations

from collections import OrderedDict

from .. import functional as F
from ..containers import Flatten, Identity, ModuleList, Sequential
from ..module import Module
from ...ops.api import cat
from .activation import ReLU
from .conv import Conv2d
from .linear import Linear
from ..functional.pooling import interpolate
from .pooling import AdaptiveAvgPool2d, MaxPool2d


def _default_norm():
    """BatchNorm2d when the normalization family provides it, else no normalization."""
    try:
        from .normalization import BatchNorm2d
    except ImportError:  # pragma: no cover - only while the family is missing
        return Identity
    return BatchNorm2d


class ResidualBlock(Module):
    """The basic residual block (He et al., 2016): y = relu(F(x) + S(x)).

    F(x) = bn2(conv3x3(relu(bn1(conv3x3_stride(x))))), S(x) = x, or a strided 1x1
    convolution + norm ("projection shortcut", option B) when the shape changes.
    The block only has to learn the residual F(x) = H(x) - x; with F = 0 it is the
    identity, and the gradient reaches x through S unattenuated, which is why much
    deeper stacks still train.  shortcut=False removes S (a "plain" block) for the
    degradation experiment.

    Args:
        in_channels, out_channels: channels of x and y.
        stride: stride of the first convolution (and of the projection): 2 halves H and W.
        shortcut: add S(x) (residual) or not (plain).
        norm: factory norm(channels) -> Module; default BatchNorm2d.  Convolutions
            followed by a norm have no bias (the norm's shift replaces it).

    Shapes: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels, out_channels, stride=1, shortcut=True, norm=None):
        super().__init__()
        norm = norm or _default_norm()
        bias = norm is Identity
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=bias)
        self.bn1 = norm(out_channels)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=bias)
        self.bn2 = norm(out_channels)
        if not shortcut:
            self.shortcut = None
        elif stride != 1 or in_channels != out_channels:
            self.shortcut = Sequential(Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias),
                                       norm(out_channels))
        else:
            self.shortcut = Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return F.relu(out)

    def extra_repr(self):
        return "plain" if self.shortcut is None else ""


def resnet(depth, in_channels, num_classes, width=16, plain=False, norm=None):
    """A CIFAR-style ResNet (He et al., 2016, section 4.2) with depth = 6n + 2 layers.

    conv3x3(width) - norm - relu, then three stages of n basic blocks with width,
    2 width and 4 width channels (the last two start with stride 2), global average
    pooling and a Linear classifier.  plain=True builds the same network without
    shortcuts: the "plain" net of the degradation experiment (inventory I4, claim K29).

    Args:
        depth: 8, 14, 20, 32, 44, 56, 110, ... (6n + 2).
        in_channels: image channels.  num_classes: outputs (logits).
        width: channels of the first stage.  norm: as `ResidualBlock`.

    Returns a `Sequential` with named parts: stem, stage1..stage3, pool, flatten, fc.
    Any input size works (global pooling); (N, C, H, W) -> (N, num_classes).
    """
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"resnet: depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, ...), got {depth}")
    n = (depth - 2) // 6
    norm = norm or _default_norm()
    parts = OrderedDict(stem=Sequential(
        Conv2d(in_channels, width, 3, padding=1, bias=norm is Identity), norm(width), ReLU()))
    channels = width
    for stage, stage_width in enumerate((width, 2 * width, 4 * width), start=1):
        blocks = []
        for i in range(n):
            stride = 2 if stage > 1 and i == 0 else 1
            blocks.append(ResidualBlock(channels, stage_width, stride, shortcut=not plain, norm=norm))
            channels = stage_width
        parts[f"stage{stage}"] = Sequential(*blocks)
    parts.update(pool=AdaptiveAvgPool2d(1), flatten=Flatten(), fc=Linear(channels, num_classes))
    return Sequential(parts)


class InceptionBlock(Module):
    """The Inception module of GoogLeNet (Szegedy et al., 2015), with dimension reductions.

    Four parallel branches over the same input, concatenated on channels:
        branch1: 1x1 conv (c1)
        branch2: 1x1 conv (c3_reduce) -> 3x3 conv (c3)
        branch3: 1x1 conv (c5_reduce) -> 5x5 conv (c5)
        branch4: 3x3 max pool (stride 1) -> 1x1 conv (pool_proj)
    every conv followed by ReLU, spatial size kept.  The 1x1 "reduce" convolutions
    (inventory C3) cut the channels before the expensive 3x3 and 5x5 convolutions.

    Shapes: (N, in_channels, H, W) -> (N, c1 + c3 + c5 + pool_proj, H, W).
    """

    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.branch1 = Sequential(Conv2d(in_channels, c1, 1), ReLU())
        self.branch2 = Sequential(Conv2d(in_channels, c3_reduce, 1), ReLU(),
                                  Conv2d(c3_reduce, c3, 3, padding=1), ReLU())
        self.branch3 = Sequential(Conv2d(in_channels, c5_reduce, 1), ReLU(),
                                  Conv2d(c5_reduce, c5, 5, padding=2), ReLU())
        self.branch4 = Sequential(MaxPool2d(3, stride=1, padding=1), Conv2d(in_channels, pool_proj, 1), ReLU())
        self.out_channels = c1 + c3 + c5 + pool_proj

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class FPN(Module):
    """A minimal feature pyramid network (Lin et al., 2017).

    Given backbone features C_1..C_L (finest first, each level typically half the
    previous one's size), builds P_L = lateral_L(C_L) and, top-down,
        M_i = lateral_i(C_i) + upsample_nearest(M_{i+1}, size of C_i),   P_i = output_i(M_i),
    with 1x1 lateral convolutions to `out_channels` and 3x3 output convolutions
    that smooth the aliasing of the upsampling.  Every level gets the coarse
    levels' semantics at its own resolution (inventory C7, D4).

    Args:
        in_channels_list: channels of C_1..C_L.
        out_channels: channels of every output level.

    forward(features: list of (N, C_i, H_i, W_i)) -> list of (N, out_channels, H_i, W_i).
    """

    def __init__(self, in_channels_list, out_channels):
        super().__init__()
        self.lateral_convs = ModuleList(Conv2d(c, out_channels, 1) for c in in_channels_list)
        self.output_convs = ModuleList(Conv2d(out_channels, out_channels, 3, padding=1) for _ in in_channels_list)

    def forward(self, features):
        features = list(features)
        if len(features) != len(self.lateral_convs):
            raise ValueError(f"FPN: expected {len(self.lateral_convs)} feature maps (finest first), "
                             f"got {len(features)}")
        merged = self.lateral_convs[-1](features[-1])
        outputs = [self.output_convs[-1](merged)]
        for i in range(len(features) - 2, -1, -1):
            lateral = self.lateral_convs[i](features[i])
            merged = lateral + interpolate(merged, size=lateral.shape[-2:], mode="nearest")
            outputs.insert(0, self.output_convs[i](merged))
        return outputs
