"""Binary (BinaryConnect, BWN) and ternary (TWN) weights: values, scales and straight-through gradients."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.compress import lowbit
from tests.oracle import assert_close


@pytest.mark.covers("P2")
def test_sign_bwn_scale_and_twn_threshold():
    w = np.array([[0.0, -0.2, 0.5, -1.5], [0.1, 0.1, -0.1, 0.3]])
    assert lowbit.sign_binarize(w).tolist() == [[1, -1, 1, -1], [1, 1, -1, 1]]  # sign(0) = +1
    assert lowbit.bwn_scale(w).ravel().tolist() == pytest.approx([0.55, 0.15])
    t, delta = lowbit.ternarize(w)
    assert delta == pytest.approx(0.7 * np.abs(w).mean())
    kept = np.abs(w) > delta
    assert np.array_equal(t != 0, kept) and np.allclose(np.abs(t[kept]), np.abs(w[kept]).mean())


@pytest.mark.covers("P2")
@pytest.mark.parametrize("mode", ["binary", "bwn", "ternary"])
def test_binarized_layer_forward_and_straight_through_gradient(mode):
    dn.manual_seed(0)
    layer = nn.Linear(5, 3).double()
    latent = layer.weight.numpy().copy()
    latent[0, 0] = 1.7  # outside [-1, 1]: the clipped STE blocks its gradient (binary modes)
    layer.weight.data[...] = latent
    lowbit.binarize_(layer, mode)
    x = np.random.default_rng(1).standard_normal((4, 5))
    out = layer(dn.tensor(x))
    expected = {"binary": lowbit.sign_binarize(latent), "bwn": lowbit.sign_binarize(latent) * lowbit.bwn_scale(latent),
                "ternary": lowbit.ternarize(latent)[0]}[mode]
    assert_close(out.numpy(), x @ expected.T + layer.bias.numpy(), "forward")
    out.sum().backward()
    grad = np.ones((4, 3)).T @ x  # d(sum)/d(effective weight)
    if mode != "ternary":
        grad = grad * (np.abs(latent) <= 1)
    assert_close(layer.weight_orig.grad.numpy(), grad, "straight-through gradient")
    lowbit.clip_latent_(layer)
    assert np.abs(layer.weight_orig.numpy()).max() <= 1.0
    with pytest.raises(ValueError, match="binarize_: mode must be one of"):
        lowbit.binarize_(nn.Linear(2, 2), "quaternary")
