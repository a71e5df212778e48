"""Sanity tests of the recurrent-network claim (K27): the gradient probe is checked against the
closed form at the last step and on a broken variant (recurrent weights zeroed: nothing reaches
back), and the effects vanish when the same cell sits on both sides;
tests/claims/test_smoke.py runs the claim at the tiny budget. No test asserts a claim's verdict."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.claims.experiments import sequences as S
from deepnotes.data.sequences import adding_problem



@pytest.mark.covers("K27", "S1", "I2")
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_k27_gradient_probe(kind):
    x, y = adding_problem(8, 12, seed=0)
    dn.manual_seed(0)
    model = S.Recurrent(kind, 6)
    grads = S.hidden_state_gradients(model, x, y)
    assert grads.shape == (12,) and np.all(grads > 0)
    # last step: dL/dh_T = 2 / N (pred - y) w_head, in closed form
    with dn.no_grad():
        pred = model(dn.tensor(x)).numpy()
    direct = 2.0 / len(y) * (pred - y)[:, None] * model.head.weight.numpy()[0][None, :]
    assert grads[-1] == pytest.approx(np.linalg.norm(direct), rel=1e-4)
    # broken variant: without recurrent weights h_t depends on h_{t-1} only through the GRU's gated
    # path z * h_{t-1} (the LSTM's memory runs through c_t, which the probe does not perturb)
    with dn.no_grad():
        model.rnn.weight_hh_l0.data[...] = 0.0
    cut = S.hidden_state_gradients(model, x, y)
    if kind == "gru":
        assert np.all(cut[:-1] > 0)
    else:
        assert np.all(cut[:-1] == 0.0) and S.reach(cut) < -20


@pytest.mark.covers("K27", "S2")
def test_k27_same_cell_on_both_sides_gives_no_effect():
    a, _ = S.train_recurrent("rnn", "adding", 6, 3, 0, hidden=4)
    b, _ = S.train_recurrent("rnn", "adding", 6, 3, 0, hidden=4)  # the "gated" arm built as an RNN
    x, y = adding_problem(16, 6, seed=1)
    assert S.reach(S.hidden_state_gradients(a, x, y)) - S.reach(S.hidden_state_gradients(b, x, y)) == 0.0
    model, _ = S.train_recurrent("lstm", "copy", 3, 2, 0, hidden=4)
    assert 0.5 < S.recall_error(model, 3, 0, n=32) < 2.0  # an untrained net is near a uniform guess (1)
