"""Figures of the loss entries (L1-L4): losses and slopes from deepnotes' own functional API."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn.functional as F
from deepnotes.handbook.figures import build_figure, losses


@pytest.mark.covers("L1")
def test_loss_and_grad_reproduce_huber_and_smooth_l1():
    r = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    zero = dn.zeros(5, dtype=np.float64)
    huber, g_huber = losses._loss_and_grad(lambda x: F.huber_loss(x, zero, reduction="none", delta=2.0), r)
    smooth, g_smooth = losses._loss_and_grad(lambda x: F.smooth_l1_loss(x, zero, reduction="none", beta=2.0), r)
    np.testing.assert_allclose(huber, 2.0 * smooth)  # Huber_delta = delta * SmoothL1_(beta = delta)
    np.testing.assert_allclose(g_huber, [-2.0, -0.5, 0.0, 0.5, 2.0])  # bounded by delta
    np.testing.assert_allclose(g_smooth, [-1.0, -0.25, 0.0, 0.25, 1.0])  # bounded by 1


@pytest.mark.covers("L4")
def test_pos_weight_optimum_is_the_logit_shifted_by_log_w():
    """The curve drawn by class_weight_threshold: argmin_q of -[w p log q + (1-p) log(1-q)]."""
    p, w = 0.1, 19.0
    q = np.linspace(1e-4, 1 - 1e-4, 200001)
    loss = -(w * p * np.log(q) + (1 - p) * np.log(1 - q))
    best = q[np.argmin(loss)]
    expected = F.sigmoid(dn.tensor(np.log(p / (1 - p)) + np.log(w), dtype=np.float64)).item()
    assert best == pytest.approx(expected, abs=1e-4)


@pytest.mark.covers("L1", "L2", "L3", "L4")
@pytest.mark.parametrize("name", ["regression_losses", "ce_vs_mse_gradient", "cross_entropy_is_entropy_plus_kl",
                                  "class_weight_threshold"])
def test_builders_write_svg(tmp_path, name):
    out = build_figure(f"deepnotes.handbook.figures.losses.{name}", tmp_path / f"{name}.svg")
    text = out.read_text()
    assert "<svg" in text and text.count("<path") > 10
