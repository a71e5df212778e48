"""Recurrent layers and cells against PyTorch, and the fused kernels against their primitive form (S1-S3)."""
import doctest

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.ops.recurrent import RecurrentSequence
from deepnotes.ops.recurrent_kernels import GRUKernel, LSTMKernel, RNNKernel, StepNoise
from tests.oracle import assert_close, check_fn, check_module, random_inputs

MODES = {  # name -> (deepnotes class, torch class, extra kwargs, inventory ID)
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {}, "S1"),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}, "S1"),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}, "S2"),
    "gru": (nn.GRU, torch.nn.GRU, {}, "S3"),
}
# Each mode's tests carry its inventory ID (RNN: S1, LSTM: S2, GRU: S3).
MODE_PARAMS = [pytest.param(m, marks=pytest.mark.covers(MODES[m][3])) for m in MODES]
CELLS = {
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {}),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}),
}


def _call_layer(lstm, with_state):
    """call(m, x[, h0[, c0]]) -> flat list of outputs, the same for both frameworks."""

    def call(m, x, *state):
        hx = None if not with_state else (tuple(state) if lstm else state[0])
        out, final = m(x, hx)
        return [out, *final] if lstm else [out, final]

    return call


# (T, N, num_layers, bidirectional, batch_first, initial state given, bias); N=None: unbatched input
LAYER_CASES = [
    (5, 3, 1, False, False, True, True),
    (4, 2, 2, True, True, True, True),
    (6, 3, 2, False, False, False, True),
    (1, 4, 1, True, False, True, True),  # a length-1 sequence
    (5, 1, 2, True, False, True, True),  # batch size 1
    (4, None, 2, True, False, True, True),  # unbatched input with a state
    (3, None, 1, False, False, False, True),  # unbatched, zero state
    (4, 3, 2, False, True, False, False),  # no bias, batch first, zero state
]


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: "T{}-N{}-L{}-bi{}-bf{}-h0{}-bias{}".format(*c))
@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_layer_matches_torch(mode, case):
    cls, tcls, kw, _ = MODES[mode]
    T, N, layers, bi, bf, with_state, bias = case
    kw = dict(kw, num_layers=layers, bidirectional=bi, batch_first=bf, bias=bias)
    h_in, hidden = 3, 4
    if N is None:
        x_shape, h_shape = (T, h_in), (layers * (2 if bi else 1), hidden)
    else:
        x_shape = (N, T, h_in) if bf else (T, N, h_in)
        h_shape = (layers * (2 if bi else 1), N, hidden)
    lstm = mode == "lstm"
    shapes = [x_shape] + ([h_shape] * (2 if lstm else 1) if with_state else [])
    module = cls(h_in, hidden, **kw)
    outs = check_module(module, tcls(h_in, hidden, **kw), random_inputs(shapes, seed=T * 7 + layers),
                        call=_call_layer(lstm, with_state))
    assert outs[0].shape[-1] == hidden * (2 if bi else 1)


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_layer_state_dict_and_repr_match_torch(mode):
    cls, tcls, kw, _ = MODES[mode]
    for config in ({}, {"num_layers": 3, "bidirectional": True, "batch_first": True, "bias": False}):
        ours, theirs = cls(5, 6, **kw, **config), tcls(5, 6, **kw, **config)
        a, b = ours.state_dict(), theirs.state_dict()
        assert list(a) == list(b)
        assert [v.shape for v in a.values()] == [tuple(v.shape) for v in b.values()]
        if mode != "rnn_relu":  # torch's RNN repr omits the nonlinearity; ours shows it
            assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_torch_weights_load_and_give_the_same_float32_outputs(mode):
    cls, tcls, kw, _ = MODES[mode]
    theirs = tcls(3, 5, num_layers=2, bidirectional=True, **kw)
    ours = cls(3, 5, num_layers=2, bidirectional=True, **kw)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((7, 2, 3)).astype(np.float32)
    out, final = ours(dn.tensor(x))
    t_out, t_final = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), atol=1e-5)
    assert out.dtype == np.float32
    if mode == "lstm":
        for a, b in zip(final, t_final):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-5)
    else:
        np.testing.assert_allclose(final.numpy(), t_final.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("mode", MODE_PARAMS)
@pytest.mark.parametrize("case", ["batched", "no_state", "unbatched", "no_bias", "batch1"])
def test_cell_matches_torch(mode, case):
    cls, tcls, kw = CELLS[mode]
    kw = dict(kw, bias=case != "no_bias")
    n = {"unbatched": None, "batch1": 1}.get(case, 3)
    x_shape, h_shape = ((4,), (5,)) if n is None else ((n, 4), (n, 5))
    lstm = mode == "lstm"
    with_state = case != "no_state"
    shapes = [x_shape] + ([h_shape] * (2 if lstm else 1) if with_state else [])

    def call(m, x, *state):
        if not with_state:
            out = m(x)
        else:
            out = m(x, tuple(state) if lstm else state[0])
        return list(out) if lstm else out

    check_module(cls(4, 5, **kw), tcls(4, 5, **kw), random_inputs(shapes, seed=11), call=call)


# ----------------------------------------------------- fused kernels vs composed ops


def _zone(keep, old, new):
    return new if keep is None else keep * old + (1 - keep) * new


def reference_step(kind, xp, hp, state, keep_h=None, keep_c=None, update=None, nonlinearity="tanh"):
    """One step composed from primitive tensor ops; works on deepnotes and torch tensors alike."""
    H = state[0].shape[-1]
    if kind == "rnn":
        a = xp + hp
        new = a.tanh() if nonlinearity == "tanh" else a.relu()
        new = new if update is None else new * update
        return [_zone(keep_h, state[0], new)]
    if kind == "lstm":
        a = xp + hp
        i, f = a[:, :H].sigmoid(), a[:, H : 2 * H].sigmoid()
        g, o = a[:, 2 * H : 3 * H].tanh(), a[:, 3 * H :].sigmoid()
        c_new = f * state[1] + (i * g if update is None else i * g * update)
        h_new = o * c_new.tanh()
        return [_zone(keep_h, state[0], h_new), _zone(keep_c, state[1], c_new)]
    r = (xp[:, :H] + hp[:, :H]).sigmoid()
    z = (xp[:, H : 2 * H] + hp[:, H : 2 * H]).sigmoid()
    n = (xp[:, 2 * H :] + r * hp[:, 2 * H :]).tanh()
    n = n if update is None else n * update
    return [_zone(keep_h, state[0], (1 - z) * n + z * state[0])]


KERNELS = {"rnn": RNNKernel("tanh"), "rnn_relu": RNNKernel("relu"), "lstm": LSTMKernel(), "gru": GRUKernel()}


def _noise_arrays(shape, kind, with_noise, rng):
    """Random zoneout keep masks and an update mask (numpy), or all None."""
    if not with_noise:
        return None, None, None
    keep_h = (rng.random(shape) < 0.4).astype(np.float64)
    keep_c = (rng.random(shape) < 0.5).astype(np.float64) if kind == "lstm" else None
    update = (rng.random(shape) >= 0.3) / 0.7
    return keep_h, keep_c, update


def _lift(arrays, tensor_fn):
    return [None if a is None else tensor_fn(a) for a in arrays]


@pytest.mark.covers("S1", "S2", "S3", "R2")
@pytest.mark.parametrize("kind", list(KERNELS))
@pytest.mark.parametrize("with_noise", [False, True], ids=["plain", "noise"])
def test_fused_step_matches_composed_ops_and_torch(kind, with_noise):
    """One step (a sequence of length 1, as the cells run it) against the step composed from primitives."""
    kernel = KERNELS[kind]
    base, nonlinearity = ("rnn", "relu") if kind == "rnn_relu" else (kind, "tanh")
    N, H, H_in = 3, 4, 2
    G = kernel.n_gates * H
    rng = np.random.default_rng(5)
    noise = _noise_arrays((1, N, H), base, with_noise, rng)
    inputs = random_inputs([(1, N, H_in), (G, H_in), (G, H), (G,), (G,)] + [(N, H)] * kernel.n_states, seed=2)

    def fused(x, w_ih, w_hh, b_ih, b_hh, *state):
        return RecurrentSequence.apply(x, w_ih, w_hh, b_ih, b_hh, *state, kernel=kernel,
                                       noise=StepNoise(*noise) if with_noise else None)

    def composed(stack, tensor_fn):
        def fn(x, w_ih, w_hh, b_ih, b_hh, *state):
            xp, hp = x[0] @ w_ih.T + b_ih, state[0] @ w_hh.T + b_hh
            step_noise = [None if a is None else tensor_fn(a[0]) for a in noise]
            return stack(reference_step(base, xp, hp, state, *step_noise, nonlinearity=nonlinearity))
        return fn

    # Against torch, composed from torch ops.
    check_fn(fused, composed(torch.stack, torch.tensor), inputs)
    # Against the same step composed from primitive deepnotes ops: outputs and every gradient.
    results = []
    for fn in (fused, composed(dn.stack, dn.tensor)):
        tensors = [dn.tensor(a, requires_grad=True) for a in inputs]
        out = fn(*tensors)
        (out * dn.tensor(np.linspace(0.5, 1.5, out.numpy().size).reshape(out.shape))).sum().backward()
        results.append([out.numpy()] + [t.grad.numpy() for t in tensors])
    for i, (a, b) in enumerate(zip(*results)):
        if b is None:  # no path from that input (LSTM's h without zoneout)
            assert a is None or not np.any(a)
        else:
            assert_close(a, b, f"{kind} fused step, item {i}")


@pytest.mark.covers("S1", "S2", "S3", "R2")
@pytest.mark.parametrize("kind", list(KERNELS))
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("with_noise", [False, True], ids=["plain", "noise"])
def test_sequence_kernel_matches_a_torch_loop(kind, reverse, with_noise):
    """BPTT of the fused sequence node, with zoneout/update/hidden masks, against autograd of a loop."""
    kernel = KERNELS[kind]
    base, nonlinearity = ("rnn", "relu") if kind == "rnn_relu" else (kind, "tanh")
    T, N, H, H_in = 5, 2, 3, 4
    G = kernel.n_gates * H
    rng = np.random.default_rng(9)
    noise = _noise_arrays((T, N, H), base, with_noise, rng)
    hidden_mask = (rng.random((N, H)) >= 0.3) / 0.7 if with_noise else None
    inputs = random_inputs([(T, N, H_in), (G, H_in), (G, H), (G,), (G,)] + [(N, H)] * kernel.n_states, seed=4)

    def fused(x, w_ih, w_hh, b_ih, b_hh, *state):
        return RecurrentSequence.apply(x, w_ih, w_hh, b_ih, b_hh, *state, kernel=kernel, reverse=reverse,
                                       noise=StepNoise(*noise) if with_noise else None, hidden_mask=hidden_mask)

    def torch_loop(x, w_ih, w_hh, b_ih, b_hh, *state):
        state, outs = list(state), [None] * T
        for t in (reversed(range(T)) if reverse else range(T)):
            h_in = state[0] if hidden_mask is None else state[0] * torch.tensor(hidden_mask)
            step_noise = [None if a is None else torch.tensor(a[t]) for a in noise]
            xp = x[t] @ w_ih.T + b_ih
            state = reference_step(base, xp, h_in @ w_hh.T + b_hh, state, *step_noise, nonlinearity=nonlinearity)
            outs[t] = state[0]
        return torch.stack(outs + state[1:])

    check_fn(fused, torch_loop, inputs)


@pytest.mark.parametrize("mode", MODE_PARAMS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_inference_step_equals_the_tracked_step_bit_for_bit_and_torch(mode, bidirectional):
    """Under no_grad the inference fast path runs (`deepnotes.fast.recurrent`: no cache, no noise): the same
    arithmetic as `forward`, so the outputs are identical, and torch's in evaluation mode."""
    cls, tcls, kw, _ = MODES[mode]
    ours = cls(3, 5, num_layers=2, bidirectional=bidirectional, **kw)
    theirs = tcls(3, 5, num_layers=2, bidirectional=bidirectional, **kw).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy().astype(np.float64)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((6, 2, 3)).astype(np.float32)
    tracked = ours(dn.tensor(x))
    with dn.no_grad():
        lean = ours(dn.tensor(x))
    for a, b in zip(_flat(lean), _flat(tracked)):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    with torch.no_grad():
        reference = _flat(theirs(torch.tensor(x, dtype=torch.float64)))
    for a, b in zip(_flat(lean), reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_cell_inference_equals_the_tracked_step_bit_for_bit(mode):
    """A cell is the sequence node over one step: the lean path handles T = 1 too."""
    cls = CELLS[mode][0]
    cell = cls(3, 4, **CELLS[mode][2])
    x = dn.tensor(np.random.default_rng(5).standard_normal((2, 3)).astype(np.float32))
    tracked = cell(x)
    with dn.no_grad():
        lean = cell(x)
    for a, b in zip(*(r if isinstance(r, tuple) else (r,) for r in (lean, tracked))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _flat(result):
    """(output, h_n) or (output, (h_n, c_n)) -> list of arrays."""
    out, final = result
    finals = final if isinstance(final, tuple) else (final,)
    return [t.numpy() if isinstance(t, dn.Tensor) else t.numpy() for t in (out, *finals)]


# ------------------------------------------------------------------ other behaviour


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_default_init_is_uniform_in_plus_minus_one_over_sqrt_hidden(mode):
    cls, _, kw, _ = MODES[mode]
    m = cls(10, 64, num_layers=2, **kw)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert all(p.dtype == np.float32 for p in m.parameters())
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.02 * bound
    dn.manual_seed(3)
    a = cls(10, 64, **kw).weight_hh_l0.numpy()
    dn.manual_seed(3)
    assert np.array_equal(a, cls(10, 64, **kw).weight_hh_l0.numpy())


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_float32_in_float32_out_including_gradients(mode):
    cls, _, kw, _ = MODES[mode]
    m = cls(3, 4, num_layers=2, bidirectional=True, **kw)
    x = dn.randn(5, 2, 3, requires_grad=True)
    out, final = m(x)
    h_n = final[0] if mode == "lstm" else final
    assert out.dtype == h_n.dtype == np.float32
    (out.sum() + h_n.sum()).backward()
    assert x.grad.numpy().dtype == np.float32
    assert all(p.grad.numpy().dtype == np.float32 for p in m.parameters())


@pytest.mark.covers("S2", "S3")
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_dropout_between_layers_shapes_train_noise_and_deterministic_eval(mode):
    cls, tcls, kw, _ = MODES[mode]
    m = cls(3, 6, num_layers=3, dropout=0.5, batch_first=True, **kw)
    x = dn.randn(2, 7, 3)
    out1, _ = m(x)
    out2, _ = m(x)
    assert out1.shape == (2, 7, 6)
    assert not np.allclose(out1.numpy(), out2.numpy())  # a fresh dropout mask each call in training
    m.eval()
    e1, e2 = m(x)[0], m(x)[0]
    assert np.array_equal(e1.numpy(), e2.numpy())
    # In evaluation mode dropout is off, so torch (also in eval) computes the same thing.
    theirs = tcls(3, 6, num_layers=3, dropout=0.5, batch_first=True, **kw).eval()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in m.state_dict().items()})
    np.testing.assert_allclose(e1.numpy(), theirs(torch.from_numpy(x.numpy()))[0].detach().numpy(), atol=1e-5)


@pytest.mark.covers("S1", "S2", "S3")
def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="dropout"):
        nn.LSTM(3, 4, dropout=0.2)


@pytest.mark.covers("S1", "S2", "S3")
@pytest.mark.parametrize(
    "build, args, match",
    [
        (lambda: nn.LSTM(3, 4), (dn.randn(5, 2, 7),), "last dimension 3"),
        (lambda: nn.LSTM(3, 4), (dn.randn(1, 5, 2, 3),), "2D .* or 3D"),
        (lambda: nn.GRU(3, 4, num_layers=2), (dn.randn(5, 2, 3), dn.randn(1, 2, 4)), r"\(2, 2, 4\)"),
        (lambda: nn.LSTM(3, 4), (dn.randn(5, 2, 3), dn.randn(1, 2, 4)), "tuple"),
        (lambda: nn.RNN(3, 4), (dn.randn(5, 2, 3).double(),), "dtype"),
        (lambda: nn.GRUCell(3, 4), (dn.randn(2, 3), dn.randn(3, 4)), r"\(2, 4\)"),
        (lambda: nn.LSTMCell(3, 4), (dn.randn(2, 2, 3),), "1D or 2D"),
    ],
)
def test_bad_input_raises_a_clear_error(build, args, match):
    with pytest.raises(ValueError, match=match):
        build()(*args)


@pytest.mark.covers("S1", "S2", "S3")
def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.GRU(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)


@pytest.mark.covers("S2")
def test_layer_equals_its_cell_unrolled():
    """nn.LSTM (fused sequence node) and nn.LSTMCell (one fused step per call) agree."""
    layer, cell = nn.LSTM(3, 5), nn.LSTMCell(3, 5)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = dn.randn(6, 2, 3)
    out, (h, c) = layer(x)
    state = None
    for t in range(6):
        state = cell(x[t], state)
        np.testing.assert_allclose(out.numpy()[t], state[0].numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c.numpy()[0], state[1].numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.covers("S1", "S2", "S3")
def test_docstring_examples_run():
    import deepnotes.nn.layers.recurrent as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
