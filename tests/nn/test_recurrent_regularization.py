"""Zoneout, recurrent dropout and WeightDrop: gradient checks, statistics of the masks, eval behaviour (R2).

PyTorch has none of these, so the checks are finite differences (with the
random masks fixed by reseeding inside the function), statistical tests of the
defining property, and in evaluation mode an oracle written with torch ops.
"""
import doctest

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.layers.recurrent_regularization import substituted_parameters
from tests.nn.test_recurrent import reference_step
from tests.oracle import check_module, gradcheck, random_inputs

pytestmark = pytest.mark.covers("R2")


def _within(fraction, p, n, sigmas=5):
    """The observed fraction of n Bernoulli(p) draws is within `sigmas` standard deviations of p."""
    return abs(fraction - p) <= sigmas * np.sqrt(p * (1 - p) / n)


def _seeded(module, seed=123, with_c=False):
    """fn(x, h0[, c0]) running `module` in training mode with the same random masks on every call."""

    def fn(x, h0, *c0):
        dn.manual_seed(seed)
        out, final = module(x, (h0, c0[0]) if with_c else h0)
        h_n = final[0] if with_c else final
        return dn.cat([out.reshape(-1), h_n.reshape(-1)] + ([final[1].reshape(-1)] if with_c else []))

    return fn


# ------------------------------------------------------------------------- Zoneout


@pytest.mark.parametrize(
    "make, shapes",
    [
        (lambda: nn.Zoneout(nn.LSTM(3, 4, num_layers=2, bidirectional=True), p_h=0.3, p_c=0.5),
         [(5, 2, 3), (4, 2, 4), (4, 2, 4)]),
        (lambda: nn.Zoneout(nn.GRU(3, 4, batch_first=True), p_h=0.4), [(2, 5, 3), (1, 2, 4)]),
        (lambda: nn.Zoneout(nn.RNN(3, 4, nonlinearity="relu"), p_h=0.4), [(5, 2, 3), (1, 2, 4)]),
    ],
    ids=["lstm", "gru", "rnn"],
)
def test_zoneout_layer_gradcheck(make, shapes):
    model = make().double()
    gradcheck(_seeded(model, with_c=len(shapes) == 3), random_inputs(shapes, seed=1))


def test_zoneout_cell_gradcheck():
    cell = nn.Zoneout(nn.LSTMCell(3, 4), p_h=0.5, p_c=0.5).double()

    def fn(x, h, c):
        dn.manual_seed(5)
        h1, c1 = cell(x, (h, c))
        h2, c2 = cell(x * 0.5, (h1, c1))
        return dn.cat([h2, c2], dim=1)

    gradcheck(fn, random_inputs([(2, 3), (2, 4), (2, 4)], seed=2))


def test_zoneout_keeps_each_unit_with_probability_p():
    p_h, p_c = 0.3, 0.6
    model = nn.Zoneout(nn.LSTM(2, 50), p_h=p_h)
    x = dn.randn(40, 8, 2)
    out, _ = model(x)
    kept = out.numpy()[1:] == out.numpy()[:-1]
    assert _within(kept.mean(), p_h, kept.size), kept.mean()

    cell = nn.Zoneout(nn.LSTMCell(2, 50), p_h=0.0, p_c=p_c)
    state, kept_c = None, []
    for t in range(40):
        new = cell(x[t], state)
        if state is not None:
            kept_c.append(new[1].numpy() == state[1].numpy())
        state = new
    kept_c = np.stack(kept_c)
    assert _within(kept_c.mean(), p_c, kept_c.size), kept_c.mean()


def test_zoneout_extremes_p_one_freezes_and_p_zero_is_the_plain_layer():
    gru = nn.GRU(3, 4)
    x, h0 = dn.randn(6, 2, 3), dn.randn(1, 2, 4)
    out, h_n = nn.Zoneout(gru, p_h=1.0)(x, h0)
    assert np.array_equal(out.numpy(), np.broadcast_to(h0.numpy(), out.shape))
    np.testing.assert_array_equal(nn.Zoneout(gru, p_h=0.0)(x, h0)[0].numpy(), gru(x, h0)[0].numpy())


class _TorchZoneoutLSTM(torch.nn.Module):
    """Evaluation-mode zoneout written with torch ops: h_t = p h_{t-1} + (1 - p) h~_t (and c likewise)."""

    def __init__(self, p_h, p_c):
        super().__init__()
        self.module = torch.nn.LSTM(3, 4)
        self.p_h, self.p_c = p_h, p_c

    def forward(self, x, hx):
        m = self.module
        state, outs = [hx[0][0], hx[1][0]], []
        xp = x @ m.weight_ih_l0.T + m.bias_ih_l0
        for t in range(x.shape[0]):
            state = reference_step("lstm", xp[t], state[0] @ m.weight_hh_l0.T + m.bias_hh_l0, state,
                                   keep_h=self.p_h, keep_c=self.p_c)
            outs.append(state[0])
        return torch.stack(outs), (state[0][None], state[1][None])


def test_zoneout_eval_is_the_expectation_and_deterministic():
    ours = nn.Zoneout(nn.LSTM(3, 4), p_h=0.2, p_c=0.7).eval()

    def call(m, x, h0, c0):
        out, (h, c) = m(x, (h0, c0))
        return out, h, c

    outs = check_module(ours, _TorchZoneoutLSTM(0.2, 0.7), random_inputs([(6, 2, 3), (1, 2, 4), (1, 2, 4)], seed=3),
                        call=call)
    again = call(ours, *[dn.tensor(a) for a in random_inputs([(6, 2, 3), (1, 2, 4), (1, 2, 4)], seed=3)])
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(outs, again))


def test_zoneout_rejects_what_it_cannot_do():
    with pytest.raises(ValueError, match="cell state"):
        nn.Zoneout(nn.GRU(3, 4), p_h=0.1, p_c=0.1)(dn.randn(2, 1, 3))
    with pytest.raises(TypeError, match="expected an RNN/LSTM/GRU"):
        nn.Zoneout(nn.Identity(), p_h=0.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Zoneout(nn.LSTM(3, 4), p_h=1.5)


# ---------------------------------------------------------------- recurrent dropout


@pytest.mark.parametrize("variant", ["semeniuta", "gal"])
@pytest.mark.parametrize("layer", ["lstm", "gru", "rnn"])
def test_recurrent_dropout_gradcheck_and_eval_is_the_plain_layer(variant, layer):
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[layer]
    inner = cls(3, 4, bidirectional=True)
    model = nn.RecurrentDropout(inner, p=0.4, variant=variant).double()
    with_c = layer == "lstm"
    inputs = random_inputs([(5, 2, 3)] + [(2, 2, 4)] * (2 if with_c else 1), seed=6)
    gradcheck(_seeded(model, with_c=with_c), inputs)
    x = dn.tensor(inputs[0])
    assert not np.allclose(model(x)[0].numpy(), inner(x)[0].numpy())
    model.eval()
    np.testing.assert_array_equal(model(x)[0].numpy(), inner(x)[0].numpy())


def test_semeniuta_dropout_zeroes_the_update_with_probability_p():
    """For an RNN the update is the whole new state, so a fraction p of h_t is exactly zero."""
    p = 0.35
    out, _ = nn.RecurrentDropout(nn.RNN(3, 64), p=p)(dn.randn(30, 8, 3))
    zero = out.numpy() == 0
    assert _within(zero.mean(), p, zero.size), zero.mean()
    # The LSTM keeps its memory: c is never reset to zero by the mask.
    _, (h, c) = nn.RecurrentDropout(nn.LSTM(3, 64), p=0.9)(dn.randn(30, 8, 3))
    assert np.mean(c.numpy() == 0) < 0.05


def test_gal_dropout_uses_one_mask_per_sequence():
    """With a batch of one, a unit dropped from h_{t-1} is dropped at every step, so the gradient
    of its column of W_hh is exactly zero; a fraction p of the columns."""
    p, zero_columns, total = 0.3, 0, 0
    for seed in range(4):
        dn.manual_seed(seed)
        lstm = nn.LSTM(2, 64)
        out, _ = nn.RecurrentDropout(lstm, p=p, variant="gal")(dn.randn(12, 1, 2))
        out.sum().backward()
        zero_columns += int(np.sum(np.all(lstm.weight_hh_l0.grad.numpy() == 0, axis=0)))
        total += 64
    assert _within(zero_columns / total, p, total), zero_columns / total
    with pytest.raises(ValueError, match="wrap the RNN/LSTM/GRU layer"):
        nn.RecurrentDropout(nn.LSTMCell(2, 3), p=0.2, variant="gal")(dn.randn(1, 2))


def test_semeniuta_dropout_on_a_cell_gradcheck():
    cell = nn.RecurrentDropout(nn.GRUCell(3, 4), p=0.5).double()

    def fn(x, h):
        dn.manual_seed(8)
        return cell(x, cell(x, h))

    gradcheck(fn, random_inputs([(2, 3), (2, 4)], seed=4))


# ---------------------------------------------------------------------- WeightDrop


def test_weight_drop_gradcheck_including_the_raw_weight():
    lstm = nn.LSTM(3, 4).double()
    model = nn.WeightDrop(lstm, dropout=0.5)

    def fn(x, w_hh):
        dn.manual_seed(9)
        with substituted_parameters(lstm, {"weight_hh_l0": w_hh}):
            return model(x)[0]

    gradcheck(fn, random_inputs([(5, 2, 3), (16, 4)], seed=7))


def test_weight_drop_drops_a_fraction_p_of_the_recurrent_weights_once_per_call():
    p = 0.4
    lstm = nn.LSTM(3, 40, num_layers=2)
    model = nn.WeightDrop(lstm, dropout=p)
    assert model.weights == ["weight_hh_l0", "weight_hh_l1"]
    out, _ = model(dn.randn(7, 5, 3))
    out.sum().backward()
    for name in ("weight_hh_l0", "weight_hh_l1"):
        zero = getattr(lstm, name).grad.numpy() == 0
        assert _within(zero.mean(), p, zero.size), (name, zero.mean())
    assert not np.any(lstm.weight_ih_l0.grad.numpy() == 0)  # only the chosen weights are dropped
    assert isinstance(lstm.weight_hh_l0, nn.Parameter)  # the parameters are back after the call
    assert list(model.state_dict())[:2] == ["module.weight_ih_l0", "module.weight_hh_l0"]


def test_weight_drop_eval_is_the_plain_module_and_composes_with_zoneout():
    lstm = nn.LSTM(3, 4)
    x = dn.randn(5, 2, 3)
    model = nn.Zoneout(nn.WeightDrop(lstm, dropout=0.5), p_h=0.1)
    train1, train2 = model(x)[0], model(x)[0]
    assert not np.allclose(train1.numpy(), train2.numpy())
    model.eval()
    np.testing.assert_array_equal(nn.WeightDrop(lstm, dropout=0.5).eval()(x)[0].numpy(), lstm(x)[0].numpy())
    np.testing.assert_array_equal(model(x)[0].numpy(), model(x)[0].numpy())


def test_weight_drop_on_a_cell_and_errors():
    cell = nn.WeightDrop(nn.GRUCell(3, 4), ["weight_hh"], dropout=0.3)
    assert cell(dn.randn(2, 3)).shape == (2, 4)
    with pytest.raises(ValueError, match="no parameters"):
        nn.WeightDrop(nn.LSTM(3, 4), ["weight_hh_l7"])
    with pytest.raises(ValueError, match="no weight_hh"):
        nn.WeightDrop(nn.Identity())
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError):
        nn.WeightDrop(lstm, dropout=0.5)(dn.randn(5, 2, 9))
    assert isinstance(lstm.weight_hh_l0, nn.Parameter)  # restored after the exception


def test_docstring_examples_run():
    import deepnotes.nn.layers.recurrent_regularization as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
