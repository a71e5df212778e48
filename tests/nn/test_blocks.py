"""Residual block and CIFAR ResNet, Inception block, FPN: against the same blocks built in PyTorch."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from tests.oracle import assert_close, check_module, gradcheck, random_inputs

T = torch.nn


# ------------------------------------------------- the same blocks written with torch.nn (oracles)
class TorchResidualBlock(T.Module):
    def __init__(self, cin, cout, stride=1, shortcut=True):
        super().__init__()
        self.conv1, self.bn1 = T.Conv2d(cin, cout, 3, stride, 1, bias=False), T.BatchNorm2d(cout)
        self.conv2, self.bn2 = T.Conv2d(cout, cout, 3, 1, 1, bias=False), T.BatchNorm2d(cout)
        if not shortcut:
            self.shortcut = None
        elif stride != 1 or cin != cout:
            self.shortcut = T.Sequential(T.Conv2d(cin, cout, 1, stride, bias=False), T.BatchNorm2d(cout))
        else:
            self.shortcut = T.Identity()

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out if self.shortcut is None else out + self.shortcut(x))


def torch_resnet8(cin, classes, width, plain):
    stem = T.Sequential(T.Conv2d(cin, width, 3, padding=1, bias=False), T.BatchNorm2d(width), T.ReLU())
    parts = OrderedDict(stem=stem)
    channels = width
    for stage, w in enumerate((width, 2 * width, 4 * width), start=1):
        parts[f"stage{stage}"] = T.Sequential(TorchResidualBlock(channels, w, 1 if stage == 1 else 2, not plain))
        channels = w
    parts.update(pool=T.AdaptiveAvgPool2d(1), flatten=T.Flatten(), fc=T.Linear(channels, classes))
    return T.Sequential(parts)


class TorchInception(T.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.branch1 = T.Sequential(T.Conv2d(cin, c1, 1), T.ReLU())
        self.branch2 = T.Sequential(T.Conv2d(cin, c3r, 1), T.ReLU(), T.Conv2d(c3r, c3, 3, padding=1), T.ReLU())
        self.branch3 = T.Sequential(T.Conv2d(cin, c5r, 1), T.ReLU(), T.Conv2d(c5r, c5, 5, padding=2), T.ReLU())
        self.branch4 = T.Sequential(T.MaxPool2d(3, 1, 1), T.Conv2d(cin, pp, 1), T.ReLU())

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TorchFPN(T.Module):
    def __init__(self, channels, out):
        super().__init__()
        self.lateral_convs = T.ModuleList(T.Conv2d(c, out, 1) for c in channels)
        self.output_convs = T.ModuleList(T.Conv2d(out, out, 3, padding=1) for _ in channels)

    def forward(self, features):
        merged = self.lateral_convs[-1](features[-1])
        outputs = [self.output_convs[-1](merged)]
        for i in range(len(features) - 2, -1, -1):
            lateral = self.lateral_convs[i](features[i])
            merged = lateral + T.functional.interpolate(merged, size=lateral.shape[-2:], mode="nearest")
            outputs.insert(0, self.output_convs[i](merged))
        return outputs


# ------------------------------------------------------------------------------ residual block
@pytest.mark.covers("I4")
@pytest.mark.parametrize("cin, cout, stride, shortcut",
                         [(4, 4, 1, True), (4, 6, 2, True), (3, 5, 1, True), (4, 6, 2, False)])
def test_residual_block_matches_torch(cin, cout, stride, shortcut):
    block, reference = nn.ResidualBlock(cin, cout, stride, shortcut), TorchResidualBlock(cin, cout, stride, shortcut)
    out = check_module(block, reference, random_inputs([(2, cin, 7, 6)], seed=cin + cout))
    assert out[0].shape == (2, cout, -(-7 // stride), -(-6 // stride))


@pytest.mark.covers("I4")
def test_residual_block_eval_mode_matches_torch():
    block, reference = nn.ResidualBlock(3, 6, 2), TorchResidualBlock(3, 6, 2)
    for name, buffer in block.named_buffers():
        if "running" in name:
            buffer.data[...] = np.random.default_rng(0).uniform(0.5, 1.5, buffer.shape)
    check_module(block.eval(), reference.eval(), random_inputs([(1, 3, 5, 5)]))


@pytest.mark.covers("I4")
def test_residual_block_finite_difference_gradient():
    block = nn.ResidualBlock(2, 3, stride=2).double()
    gradcheck(lambda x: block(x), random_inputs([(2, 2, 5, 5)], seed=1))
    block(dn.tensor(random_inputs([(2, 2, 5, 5)])[0])).sum().backward()
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in block.parameters())


@pytest.mark.covers("I4")
def test_residual_block_with_zero_residual_is_the_identity():
    """F(x) = 0 (last norm's scale zeroed) leaves y = relu(x + 0): an identity on x >= 0."""
    block = nn.ResidualBlock(3, 3).double()
    block.bn2.weight.data[...] = 0.0
    x = np.abs(random_inputs([(2, 3, 6, 6)])[0])
    assert_close(block(dn.tensor(x)), x, "identity block")


# ---------------------------------------------------------------------------------- ResNet
@pytest.mark.covers("I4")
@pytest.mark.parametrize("plain", [False, True], ids=["residual", "plain"])
def test_resnet8_matches_torch(plain):
    check_module(nn.resnet(8, 3, 5, width=4, plain=plain), torch_resnet8(3, 5, 4, plain),
                 random_inputs([(2, 3, 9, 8)]))


@pytest.mark.covers("I4")
def test_resnet_depth_and_shapes():
    for depth in (8, 14, 20):
        model = nn.resnet(depth, 1, 7, width=4)
        convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d) and "shortcut" not in n]
        assert len(convs) + 1 == depth  # + the Linear classifier
        assert model(dn.randn(2, 1, 12, 12)).shape == (2, 7)
    assert model(dn.randn(1, 1, 7, 9)).shape == (1, 7)  # global pooling: any input size
    with pytest.raises(ValueError, match="6n \\+ 2"):
        nn.resnet(10, 3, 10)


@pytest.mark.covers("I4")
def test_plain_and_residual_resnets_differ_only_by_the_shortcuts():
    residual, plain = nn.resnet(14, 3, 4, width=4).double(), nn.resnet(14, 3, 4, width=4, plain=True).double()
    residual_state, plain_state = residual.state_dict(), plain.state_dict()
    assert set(plain_state) == {k for k in residual_state if ".shortcut." not in k}
    assert all(plain_state[k].shape == residual_state[k].shape for k in plain_state)
    plain.load_state_dict({k: v for k, v in residual_state.items() if k in plain_state})
    x = dn.tensor(random_inputs([(2, 3, 8, 8)])[0])
    assert np.abs(residual(x).numpy() - plain(x).numpy()).max() > 1e-3
    for module in residual.modules():
        if isinstance(module, nn.ResidualBlock):
            module.shortcut = None
    assert_close(residual(x), plain(x).numpy(), "residual net without shortcuts")


# ------------------------------------------------------------------------- Inception, FPN
@pytest.mark.covers("C7", "C3")
def test_inception_block_matches_torch_and_concatenates_channels():
    args = (5, 4, 3, 6, 2, 3, 2)
    block = nn.InceptionBlock(*args)
    out = check_module(block, TorchInception(*args), random_inputs([(2, 5, 7, 6)]))
    assert block.out_channels == 4 + 6 + 3 + 2 and out[0].shape == (2, 15, 7, 6)


@pytest.mark.covers("C7", "D4")
def test_fpn_matches_torch_with_one_output_per_level():
    channels, shapes = [3, 5, 6], [(15, 13), (8, 7), (4, 4)]
    inputs = random_inputs([(2, c, *s) for c, s in zip(channels, shapes)])
    fpn = nn.FPN(channels, 4)
    outs = check_module(fpn, TorchFPN(channels, 4), inputs, call=lambda m, *x: m(list(x)))
    assert [o.shape for o in outs] == [(2, 4, *s) for s in shapes]
    with pytest.raises(ValueError, match="expected 3 feature maps"):
        fpn([dn.tensor(a) for a in inputs[:2]])
