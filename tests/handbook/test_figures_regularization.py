"""The R and I figure builders: the data they draw show what the entries say (masks shared over time, soft
thresholding, bias falling and variance rising, He keeping the scale, clipping by norm keeping the
direction, the residual path carrying the gradient), and every builder writes an image."""
import numpy as np
import pytest

from deepnotes.handbook.figures import build_figure
from deepnotes.handbook.figures import initialization as init_figures
from deepnotes.handbook.figures import regularization as reg_figures


@pytest.mark.covers("R1", "R2")
def test_locked_masks_repeat_over_time_and_plain_masks_do_not():
    plain, locked = reg_figures.sequence_masks(p=0.5, steps=12, hidden=16)
    assert (locked == locked[0]).all() and not (plain == plain[0]).all()
    assert 0.3 < plain.mean() < 0.7 and 0.2 < locked.mean() < 0.8


@pytest.mark.covers("R3")
def test_soft_thresholding_zeroes_an_interval_and_ridge_only_shrinks():
    z = np.linspace(-3, 3, 61)
    l1, l2 = reg_figures.proximal_maps(z, 1.0)
    assert np.all(l1[np.abs(z) <= 1.0] == 0) and np.all(l1[np.abs(z) > 1.0] != 0)
    assert np.allclose(l2, z / 2) and np.count_nonzero(l2) == np.count_nonzero(z)


@pytest.mark.covers("R6")
def test_bias_falls_and_variance_rises_with_the_degree():
    degrees, bias2, variance = reg_figures.bias_variance_by_degree(degrees=(1, 3, 9), trials=60)
    assert bias2[0] > 10 * bias2[1] and variance[2] > 10 * variance[1]


@pytest.mark.covers("I1")
def test_he_keeps_the_relu_activation_scale_and_the_others_do_not():
    he, xavier = init_figures.activation_rms("he"), init_figures.activation_rms("xavier")
    assert 0.1 < he[-1] / he[0] < 10 and xavier[-1] / xavier[0] < 1e-3
    assert init_figures.activation_rms("he", 0.7)[-1] < 1e-3 and init_figures.activation_rms("he", 1.5)[-1] > 1e3


@pytest.mark.covers("I2", "I4")
def test_gradient_flow_data():
    relu = init_figures.layer_gradient_norms("relu", "he", 1.0)
    sigmoid = init_figures.layer_gradient_norms("sigmoid", "xavier", 1.0)
    assert 0.1 < relu[0] / relu[-1] < 10 and sigmoid[0] / sigmoid[-1] < 1e-10
    flows = init_figures.residual_input_gradients()
    assert flows["plain"][0] < 1e-10 and flows["residual"][0] > 1.0


@pytest.mark.covers("I3")
def test_clipping_by_norm_keeps_the_direction_and_by_value_turns_it():
    by_value, by_norm = init_figures.clip([10.0, 1.0], 1.0)
    assert np.allclose(by_value, [1.0, 1.0])
    assert np.isclose(np.linalg.norm(by_norm), 1.0, atol=1e-5) and np.isclose(by_norm[0] / by_norm[1], 10.0)


@pytest.mark.covers("R1", "R2", "R3", "R6", "I1", "I2", "I3", "I4")
@pytest.mark.parametrize("builder", ["regularization.dropout_masks", "regularization.l1_l2_shrinkage",
                                     "regularization.bias_variance", "initialization.activation_scale",
                                     "initialization.gradient_flow", "initialization.clipping_directions"])
def test_builders_write_an_image(tmp_path, builder):
    path = build_figure(f"deepnotes.handbook.figures.{builder}", tmp_path / "figure.svg")
    text = path.read_text(encoding="utf-8")
    assert "<svg" in text and len(text) > 5000
