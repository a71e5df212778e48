"""Convolution arithmetic: output sizes, receptive fields and parameter counts."""
import itertools

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.utils import conv_output_size, count_parameters, receptive_field


# ------------------------------------------------------------------------------ output size
@pytest.mark.covers("C1")
def test_conv_output_size_textbook_examples():
    assert conv_output_size(32, 5) == 28                        # (32 - 5 + 0) / 1 + 1
    assert conv_output_size(227, 11, stride=4) == 55            # AlexNet conv1
    assert conv_output_size((224, 224), 7, stride=2, padding=3) == (112, 112)
    assert conv_output_size(7, 3, stride=2, padding=1) == 4     # floor((7 - 3 + 2) / 2) + 1
    assert conv_output_size(9, 3, dilation=2) == 5              # k_eff = 5
    assert conv_output_size((9, 8), (4, 3), padding="same") == (9, 8)
    assert conv_output_size(4, 3, stride=2, padding=1, transposed=True, output_padding=1) == 8
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(4, 7)


@pytest.mark.covers("C1")
def test_conv_output_size_agrees_with_torch_layers():
    x = torch.zeros(1, 1, 11, 10)
    for k, s, p, d in itertools.product((1, 2, 3), (1, 2, 3), (0, 1), (1, 2)):
        conv = torch.nn.Conv2d(1, 1, k, s, p, d)
        assert conv_output_size((11, 10), k, s, p, d) == tuple(conv(x).shape[2:])
        for op in range(max(s, d)):
            transposed = torch.nn.ConvTranspose2d(1, 1, k, s, p, output_padding=op, dilation=d)
            expected = tuple(transposed(x).shape[2:])
            assert conv_output_size((11, 10), k, s, p, d, transposed=True, output_padding=op) == expected


# --------------------------------------------------------------------------- receptive field
def _measured_receptive_field(model, size):
    """Receptive field of the centre output unit, measured by backpropagation from it (all-ones weights)."""
    for p in model.parameters():
        p.data[...] = 1.0
    x = dn.zeros(1, 1, size, size, requires_grad=True)
    y = model(x)
    centre = (0, 0, y.shape[2] // 2, y.shape[3] // 2)
    y[centre].backward()
    rows, cols = np.nonzero(x.grad.numpy()[0, 0])
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.covers("C6")
@pytest.mark.parametrize("layers, expected", [
    ([nn.Conv2d(1, 1, 3) for _ in range(3)], 7),                                      # 3 x 3x3 -> 7
    ([nn.Conv2d(1, 1, 3, dilation=d, padding=d) for d in (1, 2, 4)], 15),               # atrous 1, 2, 4 -> 15
    ([nn.Conv2d(1, 1, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3)], 8),        # 3 + 1, then + 2 * 2
    ([nn.Conv2d(1, 1, 5, stride=2, padding=2), nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3)], 17),
    ([nn.Conv2d(1, 1, 7)], 7),
])
def test_receptive_field_matches_hand_computation_and_backprop(layers, expected):
    model = nn.Sequential(*layers)
    rows = receptive_field(model, 33)
    assert rows[0].receptive_field == (1, 1) and rows[-1].receptive_field == (expected, expected)
    assert _measured_receptive_field(model, 33) == (expected, expected)
    assert rows[-1].output_size == model(dn.zeros(1, 1, 33, 33)).shape[2:]


@pytest.mark.covers("C6")
def test_receptive_field_table_jump_and_start():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Sequential(nn.Conv2d(4, 4, 3), nn.MaxPool2d(3, stride=2, ceil_mode=True)))
    rows = receptive_field(model, (16, 15))
    assert [r.name for r in rows] == ["input", "0", "1", "2", "3", "4.0", "4.1"]
    assert [r.kind for r in rows][1:4] == ["Conv2d", "BatchNorm2d", "ReLU"]
    final = rows[-1]
    assert final.jump == (4, 4)
    assert final.receptive_field == (1 + 2 + 1 + 2 * 2 + 2 * 2,) * 2  # 12
    assert rows[1].start == (0.0, 0.0) and rows[4].start == (0.5, 0.5) and final.start == (4.5, 4.5)
    assert final.output_size == model(dn.zeros(1, 1, 16, 15)).shape[2:]


@pytest.mark.covers("C6")
def test_dilation_grows_the_receptive_field_exponentially_at_constant_parameter_count():
    """Claim K32's mechanism: dilations 1, 2, 4, 8 see 2^(L+1) - 1 pixels; plain 3x3 convs 2L + 1."""
    plain = nn.Sequential(*[nn.Conv2d(2, 2, 3, padding=1) for _ in range(4)])
    dilated = nn.Sequential(*[nn.Conv2d(2, 2, 3, padding=d, dilation=d) for d in (1, 2, 4, 8)])
    assert count_parameters(plain) == count_parameters(dilated)
    assert [r.receptive_field[0] for r in receptive_field(plain, 64)[1:]] == [3, 5, 7, 9]
    assert [r.receptive_field[0] for r in receptive_field(dilated, 64)[1:]] == [3, 7, 15, 31]


@pytest.mark.covers("C6")
def test_receptive_field_rejects_layers_it_cannot_trace():
    with pytest.raises(ValueError, match="cannot trace layer 2 \\(Flatten\\)"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Flatten()), 8)
    assert receptive_field(nn.Conv1d(1, 1, 5, dilation=2), 20)[-1].receptive_field == (9,)


# ----------------------------------------------------------------------------- parameter count
@pytest.mark.covers("C2")
def test_count_parameters_matches_torch_and_the_formula():
    layer = nn.Conv2d(6, 8, (3, 5), groups=2)
    assert count_parameters(layer) == 8 * (6 // 2 * 3 * 5 + 1)
    assert count_parameters(layer) == sum(p.numel() for p in torch.nn.Conv2d(6, 8, (3, 5), groups=2).parameters())
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1, bias=False))
    assert count_parameters(model) == 3 * 4 * 9 + 4 + 2 * 4 + 4 * 2
    model[0].requires_grad_(False)
    assert count_parameters(model) == 2 * 4 + 4 * 2
    assert count_parameters(model, trainable_only=False) == 3 * 4 * 9 + 4 + 2 * 4 + 4 * 2


@pytest.mark.covers("C2")
def test_fully_convolutional_count_is_independent_of_input_size_but_a_dense_head_is_not():
    """Claim K30: doubling the image size keeps a fully convolutional net's parameter count."""
    def fully_convolutional():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 10, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def dense_head(size):
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(8 * (size // 2) ** 2, 10))

    fcn = fully_convolutional()
    for size in (16, 32):
        assert fcn(dn.zeros(1, 3, size, size)).shape == (1, 10)  # one network serves both sizes
        assert dense_head(size)(dn.zeros(1, 3, size, size)).shape == (1, 10)
    assert count_parameters(fcn) == count_parameters(fully_convolutional())
    small, large = count_parameters(dense_head(16)), count_parameters(dense_head(32))
    assert large - small == 8 * (16 * 16 - 8 * 8) * 10  # the Linear's weight grows with H * W


@pytest.mark.covers("C1", "C4", "C6")
@pytest.mark.parametrize("module_name", ["deepnotes.nn.layers.conv", "deepnotes.nn.layers.pooling",
                                         "deepnotes.nn.utils.conv_arith"])
def test_docstring_examples_run(module_name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
