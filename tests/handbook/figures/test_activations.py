"""Figures of the activation entries (A1-A6): the curves come from deepnotes' own autograd."""
import numpy as np
import pytest

import deepnotes.nn.functional as F
from deepnotes.handbook.figures import activations
from deepnotes.handbook.figures import build_figure


@pytest.mark.covers("A1", "A3", "A4")
def test_value_and_derivative_are_the_library_conventions():
    z = np.array([-2.0, 0.0, 3.0])
    s, ds = activations.value_and_derivative(F.sigmoid, z)
    np.testing.assert_allclose(ds, s * (1 - s))
    assert ds[1] == 0.25
    _, relu_grad = activations.value_and_derivative(F.relu, z)
    np.testing.assert_array_equal(relu_grad, [0.0, 0.0, 1.0])  # ReLU'(0) = 0
    leaky, leaky_grad = activations.value_and_derivative(lambda t: F.leaky_relu(t, 0.1), z)
    np.testing.assert_allclose(leaky, [-0.2, 0.0, 3.0])  # negative_slope * z, not a constant
    np.testing.assert_allclose(leaky_grad, [0.1, 0.1, 1.0])


@pytest.mark.covers("A1", "A2", "A3", "A4", "A5", "A6")
@pytest.mark.parametrize("name", ["sigmoid_curve", "tanh_vs_sigmoid", "relu_family", "softmax_temperature",
                                  "sigmoid_vs_softmax"])
def test_builders_write_svg(tmp_path, name):
    out = build_figure(f"deepnotes.handbook.figures.activations.{name}", tmp_path / f"{name}.svg")
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and text.count("<path") > 10
