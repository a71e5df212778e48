"""Dropout family: statistical tests of the defining properties, gradients from the recovered mask,
DropConnect vs torch.nn.Linear in eval plus a finite-difference check (inventory R1, R2)."""
import doctest

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from tests.oracle import check_module, gradcheck

SIGMAS = 5.0  # statistical bounds: a correct implementation fails one check in ~1.7 million


def _kept_fraction_bound(p, n):
    return SIGMAS * np.sqrt(p * (1 - p) / n)


def _positive_input(shape, seed=0, dtype=np.float32):
    """Values in [1, 2): never zero, so a zero in the output means 'dropped'."""
    return np.random.default_rng(seed).uniform(1.0, 2.0, size=shape).astype(dtype)


# ------------------------------------------------------------------------------------------ Dropout


@pytest.mark.covers("R1")
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_kept_fraction_scale_and_mean(p):
    x = _positive_input((400, 500))
    y = nn.Dropout(p)(dn.tensor(x)).numpy()
    kept = y != 0
    n = x.size
    assert abs(kept.mean() - (1 - p)) <= _kept_fraction_bound(p, n)
    # Survivors are scaled by 1 / (1 - p) ("inverted" dropout) ...
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-6)
    # ... so the mean activation is preserved: Var(y_i) = x_i^2 p / (1 - p).
    std_of_mean = np.sqrt(np.sum(x.astype(np.float64) ** 2) * p / (1 - p)) / n
    assert abs(y.mean(dtype=np.float64) - x.mean(dtype=np.float64)) <= SIGMAS * std_of_mean


@pytest.mark.covers("R1")
@pytest.mark.parametrize("layer", [nn.Dropout(0.5), nn.Dropout1d(0.5), nn.Dropout2d(0.5), nn.AlphaDropout(0.5),
                                   nn.FeatureAlphaDropout(0.5), nn.LockedDropout(0.5)])
def test_eval_mode_is_exactly_the_identity(layer):
    x = dn.randn(4, 3, 5, 2)[..., 0]  # 3-D (N, C, L) fits every layer
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    layer.train()
    assert not np.array_equal(layer(x).numpy(), x.numpy())


@pytest.mark.covers("R1")
def test_dropout_p_zero_and_one():
    x = dn.randn(50, 40, requires_grad=True)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    y = nn.Dropout(1.0)(x)
    assert np.all(y.numpy() == 0)
    y.sum().backward()
    assert np.all(x.grad.numpy() == 0)


@pytest.mark.covers("R1")
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_p_outside_0_1(p):
    for layer in (nn.Dropout, nn.Dropout2d, nn.AlphaDropout, nn.LockedDropout):
        message = rf"{layer.__name__}: dropout probability p has to be between 0 and 1, but got {p}"
        with pytest.raises(ValueError, match=message):
            layer(p)
    with pytest.raises(ValueError, match="dropout: dropout probability p"):
        F.dropout(dn.ones(3), p)
    with pytest.raises(ValueError, match="DropConnectLinear: dropout probability p"):
        nn.DropConnectLinear(3, 2, p)


@pytest.mark.covers("R1", "R2")
@pytest.mark.parametrize("layer", [nn.Dropout(0.3), nn.Dropout2d(0.3), nn.LockedDropout(0.3), nn.AlphaDropout(0.3)])
def test_same_seed_same_mask(layer):
    x = dn.randn(6, 4, 5, 3)[..., 0]
    dn.manual_seed(42)
    first = layer(x).numpy()
    second = layer(x).numpy()
    dn.manual_seed(42)
    np.testing.assert_array_equal(layer(x).numpy(), first)
    assert not np.array_equal(first, second)  # a fresh mask on every call


@pytest.mark.covers("R1")
@pytest.mark.parametrize("fn, shape", [(F.dropout, (30, 40)), (F.dropout2d, (5, 6, 4, 3)), (F.dropout1d, (6, 5, 7)),
                                       (F.locked_dropout, (7, 5, 6))])
def test_gradient_is_mask_over_keep_probability_times_upstream(fn, shape):
    p = 0.4
    x = dn.tensor(_positive_input(shape, dtype=np.float64), requires_grad=True)
    y = fn(x, p)
    upstream = np.random.default_rng(1).standard_normal(shape)
    y.backward(upstream)
    mask = (y.numpy() != 0).astype(np.float64)  # recovered from the output: x has no zeros
    np.testing.assert_allclose(x.grad.numpy(), mask / (1 - p) * upstream, rtol=1e-12)


@pytest.mark.covers("R1")
def test_dropout_second_derivative():
    """create_graph=True through the mask: for L = sum(dropout(x)^2), g = 2 m^2 x and d||g||^2/dx = 8 m^4 x."""
    p = 0.25
    x = dn.tensor(_positive_input((20, 30), dtype=np.float64), requires_grad=True)
    y = F.dropout(x, p)
    (g,) = dn.autograd.grad((y * y).sum(), x, create_graph=True)
    (g * g).sum().backward()
    m = (y.numpy() != 0) / (1 - p)
    np.testing.assert_allclose(g.numpy(), 2 * m**2 * x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 8 * m**4 * x.numpy(), rtol=1e-12)


@pytest.mark.covers("R1")
def test_dropout_keeps_float32_and_works_in_a_graph():
    x = dn.randn(8, 5, requires_grad=True)
    y = F.dropout(x * 2.0, 0.5)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.numpy().dtype == np.float32
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


# ---------------------------------------------------------------------------- channel-wise dropout


@pytest.mark.covers("R1")
@pytest.mark.parametrize("layer, shape, channel_axes", [
    (nn.Dropout2d(0.3), (100, 200, 3, 4), 2),
    (nn.Dropout2d(0.3), (100, 200, 5), 2),  # 3D: read as (N, C, L)
    (nn.Dropout1d(0.3), (100, 200, 6), 2),
    (nn.Dropout1d(0.3), (400, 7), 1),  # unbatched (C, L)
])
def test_channel_dropout_drops_entire_channels(layer, shape, channel_axes):
    p = layer.p
    x = _positive_input(shape)
    y = layer(dn.tensor(x)).numpy()
    ratio = (y / x).reshape(shape[:channel_axes] + (-1,))
    # Within a channel every element shares the decision: all 0 or all 1 / (1 - p).
    np.testing.assert_allclose(ratio, ratio[..., :1] * np.ones_like(ratio), rtol=1e-6)
    kept = ratio[..., 0] != 0
    np.testing.assert_allclose(ratio[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(kept.mean() - (1 - p)) <= _kept_fraction_bound(p, kept.size)


@pytest.mark.covers("R1")
def test_channel_dropout_rejects_other_ranks():
    with pytest.raises(ValueError, match=r"dropout2d: expected a 3D \(N, C, L\) or 4D"):
        nn.Dropout2d()(dn.ones(3, 4))
    with pytest.raises(ValueError, match="dropout1d: expected a 2D"):
        nn.Dropout1d()(dn.ones(2, 3, 4, 5))


# ---------------------------------------------------------------------------------- AlphaDropout

ALPHA_PRIME = 1.0507009873554805 * 1.6732632423543772  # SELU's scale * alpha (Klambauer et al., 2017)


def _alpha_scale(p):
    return 1.0 / np.sqrt((1 - p) * (1 + p * ALPHA_PRIME**2))


@pytest.mark.covers("R1")
def test_alpha_dropout_keeps_zero_mean_unit_variance():
    p, n = 0.2, 400_000
    x = dn.randn(n, dtype=np.float64)
    y = nn.AlphaDropout(p)(x).numpy()
    # Sample mean and variance of n iid draws of a unit-variance variable (kurtosis < 5 here).
    assert abs(y.mean()) <= SIGMAS / np.sqrt(n)
    assert abs(y.var() - 1.0) <= SIGMAS * np.sqrt(4.0 / n)


@pytest.mark.covers("R1")
def test_alpha_dropout_matches_torch_on_the_positions_both_keep_or_drop():
    p = 0.3
    x = np.random.default_rng(0).standard_normal(20000)
    ours = F.alpha_dropout(dn.tensor(x), p, training=True).numpy()
    theirs = torch.nn.functional.alpha_dropout(torch.tensor(x), p, training=True).numpy()
    # Masks differ (different generators); the formula must not.  Dropped units take the value
    # -a alpha' (1 - p) in both, kept ones a x + a alpha' p.
    dropped_value = -_alpha_scale(p) * ALPHA_PRIME * (1 - p)
    ours_dropped = np.isclose(ours, dropped_value, rtol=1e-12)
    theirs_dropped = np.isclose(theirs, dropped_value, rtol=1e-12)
    for dropped in (ours_dropped, theirs_dropped):
        assert abs(dropped.mean() - p) <= _kept_fraction_bound(p, x.size)
    both_kept = ~ours_dropped & ~theirs_dropped
    np.testing.assert_allclose(ours[both_kept], theirs[both_kept], rtol=1e-12)
    # The functional form defaults to training=False, as PyTorch's.
    np.testing.assert_array_equal(F.alpha_dropout(dn.tensor(x), p).numpy(), x)


@pytest.mark.covers("R1")
def test_alpha_dropout_gradient_is_scaled_mask():
    p = 0.4
    x = dn.tensor(np.random.default_rng(2).standard_normal((50, 30)), requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    upstream = np.random.default_rng(3).standard_normal(x.shape)
    y.backward(upstream)
    kept = ~np.isclose(y.numpy(), -_alpha_scale(p) * ALPHA_PRIME * (1 - p), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), _alpha_scale(p) * kept * upstream, rtol=1e-12)


# --------------------------------------------------------------------------------- LockedDropout


@pytest.mark.covers("R2")
@pytest.mark.parametrize("batch_first", [False, True])
def test_locked_dropout_shares_the_mask_across_time(batch_first):
    p, time, batch, hidden = 0.4, 12, 50, 80
    shape = (batch, time, hidden) if batch_first else (time, batch, hidden)
    time_axis = 1 if batch_first else 0
    x = _positive_input(shape)
    y = nn.LockedDropout(p, batch_first=batch_first)(dn.tensor(x)).numpy()
    ratio = np.moveaxis(y / x, time_axis, 0)  # (T, B, H)
    np.testing.assert_array_equal(ratio == 0, np.broadcast_to(ratio[:1] == 0, ratio.shape))  # same at every step
    kept = ratio[0] != 0
    assert abs(kept.mean() - (1 - p)) <= _kept_fraction_bound(p, kept.size)
    np.testing.assert_allclose(ratio[:, kept], 1 / (1 - p), rtol=1e-6)
    # Different sequences and features get different masks (not one mask for the whole batch).
    assert 0 < kept.sum(axis=0).min() and kept.sum(axis=0).max() < batch


@pytest.mark.covers("R2")
def test_locked_dropout_needs_a_sequence():
    with pytest.raises(ValueError, match=r"locked_dropout: expected a 3D input \(T, B, H\)"):
        nn.LockedDropout()(dn.ones(3, 4))
    assert repr(nn.LockedDropout(0.25, batch_first=True)) == "LockedDropout(p=0.25, batch_first=True)"


# ----------------------------------------------------------------------------- DropConnectLinear


@pytest.mark.covers("R2")
@pytest.mark.parametrize("bias", [True, False])
def test_dropconnect_eval_is_torch_linear(bias):
    layer = nn.DropConnectLinear(6, 4, p=0.5, bias=bias).eval()
    check_module(layer, torch.nn.Linear(6, 4, bias=bias), [np.random.default_rng(0).standard_normal((5, 6))])
    x3 = np.random.default_rng(1).standard_normal((2, 3, 6))  # leading axes, as Linear
    layer.zero_grad()
    check_module(layer, torch.nn.Linear(6, 4, bias=bias), [x3])


@pytest.mark.covers("R2")
def test_dropconnect_drops_single_weights_with_inverted_scaling():
    p, n_in, n_out = 0.3, 300, 200
    layer = nn.DropConnectLinear(n_in, n_out, p=p).double()
    x = np.random.default_rng(0).standard_normal((4, n_in))
    # One forward on [I; x]: the identity rows read out the effective weight this call used.
    y = layer(dn.tensor(np.concatenate([np.eye(n_in), x]))).numpy()
    w_eff = (y[:n_in] - layer.bias.numpy()).T  # (out, in)
    kept = ~np.isclose(w_eff, 0.0, atol=1e-12)
    np.testing.assert_allclose(w_eff[kept], layer.weight.numpy()[kept] / (1 - p), rtol=1e-9)
    assert abs(kept.mean() - (1 - p)) <= _kept_fraction_bound(p, kept.size)
    # The whole batch used that same weight; the bias is never dropped.
    np.testing.assert_allclose(y[n_in:], x @ w_eff.T + layer.bias.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.covers("R2")
def test_dropconnect_gradient_uses_the_same_mask():
    p = 0.5
    layer = nn.DropConnectLinear(5, 3, p=p).double()
    x = dn.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    dn.manual_seed(9)
    y = layer(x)
    upstream = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(upstream)
    dn.manual_seed(9)  # the same seed replays the same mask
    with dn.no_grad():
        w_eff = (layer(dn.tensor(np.eye(5))).numpy() - layer.bias.numpy()).T
    np.testing.assert_allclose(x.grad.numpy(), upstream @ w_eff, rtol=1e-10)
    mask = w_eff / layer.weight.numpy()
    np.testing.assert_allclose(layer.weight.grad.numpy(), mask * (upstream.T @ x.numpy()), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(layer.bias.grad.numpy(), upstream.sum(axis=0), rtol=1e-12)


@pytest.mark.covers("R2")
def test_dropconnect_finite_difference_gradcheck():
    def fn(x, w, b):
        dn.manual_seed(123)  # reseed so every evaluation draws the same mask
        return F.drop_connect_linear(x, w, b, p=0.4, training=True)

    rng = np.random.default_rng(0)
    gradcheck(fn, [rng.standard_normal((3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)])


@pytest.mark.covers("R2")
def test_dropconnect_preserves_the_mean_output():
    layer = nn.DropConnectLinear(20, 3, p=0.5).double()
    x = dn.tensor(np.random.default_rng(0).standard_normal((1, 20)))
    draws = np.stack([layer(x).numpy()[0] for _ in range(400)])
    expected = layer.eval()(x).numpy()[0]
    # Var of one draw of y_j: sum_i x_i^2 W_ji^2 p / (1 - p).
    std_of_mean = np.sqrt((x.numpy()**2 @ (layer.weight.numpy()**2).T)[0] * 1.0 / len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - expected) <= SIGMAS * std_of_mean)


@pytest.mark.covers("R2")
def test_dropconnect_init_state_dict_and_errors():
    layer = nn.DropConnectLinear(16, 8, p=0.25)
    assert list(layer.state_dict()) == list(torch.nn.Linear(16, 8).state_dict())
    bound = 1 / np.sqrt(16)  # PyTorch's Linear init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.weight.numpy()).max() > 0.8 * bound
    assert np.abs(layer.bias.numpy()).max() <= bound and layer.weight.dtype == np.float32
    dn.manual_seed(3)
    a = nn.DropConnectLinear(16, 8).weight.numpy()
    dn.manual_seed(3)
    np.testing.assert_array_equal(nn.DropConnectLinear(16, 8).weight.numpy(), a)
    with pytest.raises(ValueError, match=r"DropConnectLinear\(16, 8\): expected input with last dimension 16"):
        layer(dn.ones(2, 15))
    assert repr(layer) == "DropConnectLinear(in_features=16, out_features=8, p=0.25, bias=True)"


@pytest.mark.covers("R1")
def test_docstring_examples_run():
    import deepnotes.nn.layers.dropout as layers

    assert doctest.testmod(layers).failed == 0
