"""The Sequential fast path (ReLUs in place, a ReLU fused into the Linear after it) against
PyTorch through the shared oracle, on the awkward cases: a ReLU first (the caller's input must
not be overwritten), 3-d inputs, no bias, frozen layers, empty batches, hooks that must see
the unfused modules, double backward, NaN inputs."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.autograd import grad as dn_grad
from deepnotes.errors import NonFiniteError
from deepnotes.fast.sequential import LinearChain
from tests.oracle import assert_close, assert_grad_close, check_module, copy_parameters

pytestmark = pytest.mark.covers("E4", "A3")


def _pair(*spec):
    """The same stack in deepnotes and torch: "L a b" (Linear, bias), "l a b" (no bias), "R" (ReLU)."""
    dn_layers, th_layers = [], []
    for item in spec:
        if item in ("R", "Tanh"):
            dn_layers.append(nn.ReLU() if item == "R" else nn.Tanh())
            th_layers.append(torch.nn.ReLU() if item == "R" else torch.nn.Tanh())
        else:
            kind, a, b = item.split()
            dn_layers.append(nn.Linear(int(a), int(b), bias=kind == "L"))
            th_layers.append(torch.nn.Linear(int(a), int(b), bias=kind == "L"))
    return nn.Sequential(*dn_layers), torch.nn.Sequential(*th_layers)


def _fused_nodes(model, x):
    """How many LinearChain nodes one forward of `model` records."""
    seen, out = 0, model(dn.tensor(x, requires_grad=True))
    stack, visited = [out], set()
    while stack:
        t = stack.pop()
        if t.grad_fn is None or id(t) in visited:
            continue
        visited.add(id(t))
        seen += isinstance(t.grad_fn, LinearChain)
        stack.extend(t.grad_fn.inputs)
    return seen


CASES = {
    "mlp": (("L 7 9", "R", "L 9 8", "R", "L 8 3"), (5, 7), 1),
    "relu first": (("R", "L 7 4", "R", "L 4 2"), (6, 7), 1),
    "two runs": (("L 7 9", "R", "L 9 8", "Tanh", "L 8 6", "R", "L 6 3"), (5, 7), 2),
    "no relu": (("L 7 9", "Tanh", "L 9 3"), (5, 7), 0),
    "3-d input": (("L 7 9", "R", "L 9 5"), (2, 3, 7), 1),
    "no bias": (("l 7 9", "R", "l 9 5", "R"), (4, 7), 1),
    "relu last": (("L 7 9", "R", "L 9 4", "R"), (4, 7), 1),
    "empty batch": (("L 7 9", "R", "L 9 4"), (0, 7), 1),
    "single row": (("L 3 9", "R", "L 9 1"), (1, 3), 1),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_torch_values_and_every_gradient(case):
    spec, shape, fused = CASES[case]
    model, reference = _pair(*spec)
    x = np.random.default_rng(len(case)).uniform(-2, 2, size=shape)
    check_module(model, reference, [x])
    assert _fused_nodes(model, x) == fused


def test_the_callers_input_is_not_overwritten_by_a_leading_relu():
    model, _ = _pair("R", "L 5 3")
    model.double()
    x = dn.tensor(np.random.default_rng(0).standard_normal((4, 5)))
    before = x.numpy().copy()
    model(x)
    np.testing.assert_array_equal(x.numpy(), before)


@pytest.mark.parametrize("frozen", [0, 2])
def test_frozen_layers_get_no_gradient_and_the_rest_match_torch(frozen):
    model, reference = _pair("L 6 8", "R", "L 8 8", "R", "L 8 2")
    for m in (model, reference):
        for p in m[frozen].parameters():
            p.requires_grad_(False)
    x = np.random.default_rng(1).standard_normal((5, 6))
    check_module(model, reference, [x])
    assert all(p.grad is None for p in model[frozen].parameters())


def test_a_gradient_penalty_double_backward_matches_torch():
    """|d out / d x|^2 differentiated w.r.t. the weights: the fused node's own double backward."""
    model, reference = _pair("L 4 6", "R", "L 6 6", "R", "L 6 1")
    model.double()
    reference.double()
    copy_parameters(model, reference)
    x = np.random.default_rng(2).standard_normal((3, 4))
    xd, xt = dn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gd,) = dn_grad(model(xd).sum(), [xd], create_graph=True)
    (gt,) = torch.autograd.grad(reference(xt).sum(), [xt], create_graph=True)
    assert_close(gd, gt, "input gradient")
    (gd ** 2).sum().backward()
    (gt ** 2).sum().backward()
    torch_params = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        if name.endswith("bias"):  # the penalty does not depend on them (ReLU's mask is piecewise
            # constant): torch gives zeros, deepnotes no gradient, with or without the fast path
            assert all(g is None or not np.asarray(g).any() for g in (p.grad, torch_params[name].grad))
        else:
            assert_grad_close(p.grad, torch_params[name].grad, f"penalty gradient of {name}")
    assert _fused_nodes(model, x) == 1


def test_hooks_see_the_modules_they_were_put_on():
    """A hook on the ReLU or on the Linear after it turns the fusion off for that pair: the
    hook sees the ReLU's output as the Linear's input, as without the shortcut."""
    model, reference = _pair("L 5 6", "R", "L 6 3")
    seen = []
    model[2].register_forward_pre_hook(lambda m, args: seen.append(args[0].numpy().copy()))
    x = np.random.default_rng(3).standard_normal((4, 5))
    check_module(model, reference, [x])
    assert len(seen) == 1 and (seen[0] >= 0).all()
    assert _fused_nodes(model, x) == 0


def test_a_nan_weight_names_the_linear_whose_input_first_holds_a_nan():
    model, _ = _pair("L 4 5", "R", "L 5 2")
    x = np.ones((3, 4), dtype=np.float32)
    model[0].weight.data[0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match=r"Linear\(5, 2\).*NaN"):
        model(dn.tensor(x))


def test_with_fast_paths_off_the_relus_are_their_own_nodes():
    model, _ = _pair("L 7 9", "R", "L 9 3")
    x = np.random.default_rng(4).standard_normal((2, 7)).astype(np.float32)
    with dn.fast.disabled():
        assert _fused_nodes(model, x) == 0
    assert _fused_nodes(model, x) == 1


POOLS = {  # MaxPool arguments: kernel, stride, padding, dilation, ceil_mode
    "2x2 tiles": (2, 2, 0, 1, False),
    "overlapping, padded": (3, 2, 1, 1, False),
    "ceil mode, odd size": (2, 2, 0, 1, True),
    "dilated": (2, 1, 0, 2, False),
}


@pytest.mark.parametrize("pool", POOLS)
def test_relu_before_max_pooling_matches_torch(pool):
    """Conv -> ReLU -> MaxPool2d runs as Conv -> MaxPool2d -> ReLU: same values and gradients."""
    k, s, p, d, ceil = POOLS[pool]
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.MaxPool2d(k, s, p, d, ceil_mode=ceil))
    reference = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(),
                                    torch.nn.MaxPool2d(k, s, p, d, ceil_mode=ceil))
    x = np.random.default_rng(5).uniform(-1, 1, size=(2, 2, 9, 8))
    check_module(model, reference, [x])
    assert type(model(dn.tensor(x)).grad_fn).__name__ == "ReLU"  # the ReLU ran last


def test_relu_before_max_pooling_on_1d_with_ties_and_all_negative_windows():
    """Windows whose maximum is <= 0 (and ties at 0) pass no gradient either way."""
    model = nn.Sequential(nn.ReLU(), nn.MaxPool1d(2))
    reference = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.MaxPool1d(2))
    x = np.array([[[-1.0, -2.0, 0.0, -3.0, 0.0, 0.0, 2.0, 2.0, -1.0, 3.0]]])
    check_module(model, reference, [x])


def test_a_bad_input_gets_the_first_linear_s_error():
    from deepnotes.errors import DTypeError, ShapeError

    model, _ = _pair("L 4 5", "R", "L 5 2")
    with pytest.raises(DTypeError, match=r"Linear\(4, 5\): input dtype float64 differs"):
        model(dn.tensor(np.ones((3, 4))))
    with pytest.raises(ShapeError, match=r"Linear\(4, 5\): expected input of shape \(\.\.\., 4\)"):
        model(dn.ones(3, 6))
    x = np.ones((3, 4), dtype=np.float32)
    x[1, 2] = np.nan
    with pytest.raises(NonFiniteError, match=r"Linear\(4, 5\).*1 NaN"):
        model(dn.tensor(x))


# ------------------------------------------------- a Transformer's feed-forward sublayer
def _encoder_layer(dropout, activation="relu"):
    dn.manual_seed(0)
    return nn.TransformerEncoderLayer(8, 2, 16, dropout=dropout, activation=activation, batch_first=True)


@pytest.mark.parametrize("norm_first", [False, True])
def test_feed_forward_is_one_node_and_matches_torch(norm_first):
    kw = dict(dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=norm_first)
    ours, theirs = nn.TransformerEncoderLayer(8, 2, **kw), torch.nn.TransformerEncoderLayer(8, 2, **kw)
    x = np.random.default_rng(5).standard_normal((3, 4, 8))
    check_module(ours, theirs, [x])
    assert _fused_nodes(ours.double(), x) == 1


@pytest.mark.parametrize("dropout, activation", [(0.1, "relu"), (0.0, "gelu")])
def test_feed_forward_with_dropout_or_another_activation_is_not_fused(dropout, activation):
    x = np.random.default_rng(6).standard_normal((2, 3, 8)).astype(np.float32)
    assert _fused_nodes(_encoder_layer(dropout, activation), x) == 0
    # evaluation switches dropout off: a ReLU layer fuses (gradients wanted: not the inference path)
    assert _fused_nodes(_encoder_layer(dropout, activation).eval(), x) == (activation == "relu")


@pytest.mark.parametrize("which", ["linear1", "linear2"])
def test_feed_forward_nan_weight_raises_what_the_reference_path_raises(which):
    layer = _encoder_layer(0.0)
    getattr(layer, which).weight.data[0, 0] = float("nan")
    with dn.fast.disabled(), pytest.raises(NonFiniteError) as reference:
        layer(dn.ones(2, 3, 8))
    with pytest.raises(NonFiniteError) as fused:
        layer(dn.ones(2, 3, 8))
    assert str(fused.value) == str(reference.value)
    assert ("Linear(16, 8)" if which == "linear1" else "LayerNorm") in str(fused.value)


def test_feed_forward_with_its_dropout_replaced_runs_the_replacement():
    layer = _encoder_layer(0.0)
    seen = []
    layer.dropout = nn.Identity()
    layer.dropout.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    layer(dn.ones(2, 3, 8))
    assert seen == [(2, 3, 16)]
