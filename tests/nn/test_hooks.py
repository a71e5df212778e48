"""Module hooks against PyTorch's semantics: order, handles, what a hook may return, backward hooks."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn


def _pair(seed=0):
    """The same Linear-Tanh-Linear MLP in deepnotes and torch (float64)."""
    rng = np.random.default_rng(seed)
    w1, b1, w2, b2 = rng.normal(size=(5, 4)), rng.normal(size=5), rng.normal(size=(3, 5)), rng.normal(size=3)
    ours = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    for model in (ours, theirs):
        model.load_state_dict({"0.weight": dn.tensor(w1) if model is ours else torch.tensor(w1),
                               "0.bias": dn.tensor(b1) if model is ours else torch.tensor(b1),
                               "2.weight": dn.tensor(w2) if model is ours else torch.tensor(w2),
                               "2.bias": dn.tensor(b2) if model is ours else torch.tensor(b2)})
    x = rng.normal(size=(6, 4))
    return ours, theirs, x


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


@pytest.mark.covers("E1")
def test_hook_order_and_prepend_match_torch():
    logs = {}
    for lib, model in (("dn", nn.Linear(2, 2)), ("torch", torch.nn.Linear(2, 2))):
        log = logs[lib] = []
        model.register_forward_pre_hook(lambda m, a: log.append("pre1"))
        model.register_forward_pre_hook(lambda m, a: log.append("pre0"), prepend=True)
        model.register_forward_hook(lambda m, a, o: log.append("fwd1"))
        model.register_forward_hook(lambda m, a, o: log.append("fwd0"), prepend=True)
        model.register_forward_pre_hook(lambda m, a, k: log.append("pre_kw"), with_kwargs=True)
        model(dn.ones(1, 2) if lib == "dn" else torch.ones(1, 2))
    assert logs["dn"] == logs["torch"] == ["pre0", "pre1", "pre_kw", "fwd0", "fwd1"]


@pytest.mark.covers("E1")
def test_pre_hook_and_forward_hook_replace_input_and_output_like_torch():
    ours, theirs, x = _pair()
    outs = []
    for model, t in ((ours, dn.tensor(x)), (theirs, torch.tensor(x))):
        h1 = model[0].register_forward_pre_hook(lambda m, args: args[0] * 2)  # non-tuple: wrapped
        h2 = model[2].register_forward_hook(lambda m, args, out: out + 1)
        outs.append(_np(model(t)))
        h1.remove()
        h2.remove()
        outs.append(_np(model(t)))
    np.testing.assert_allclose(outs[0], outs[2], rtol=1e-12)  # hooked: equal across libraries
    np.testing.assert_allclose(outs[1], outs[3], rtol=1e-12)  # removed: plain forward again
    assert not np.allclose(outs[0], outs[1])


@pytest.mark.covers("E1")
def test_handle_as_context_manager_and_double_remove():
    layer = nn.Linear(2, 2)
    seen = []
    with layer.register_forward_hook(lambda m, a, o: seen.append(1)) as handle:
        layer(dn.ones(1, 2))
    layer(dn.ones(1, 2))
    handle.remove()  # removing twice is harmless, as in torch
    assert seen == [1] and not layer.has_hooks


@pytest.mark.covers("E1")
def test_full_backward_hook_sees_torchs_grad_input_and_grad_output():
    ours, theirs, x = _pair(1)
    got = {}
    for lib, model, t in (("dn", ours, dn.tensor(x, requires_grad=True)),
                          ("torch", theirs, torch.tensor(x, requires_grad=True))):
        record = got[lib] = {}
        model[2].register_full_backward_hook(
            lambda m, gin, gout, r=record: r.update(gin=[_np(g) for g in gin], gout=[_np(g) for g in gout]))
        model[1].register_full_backward_hook(lambda m, gin, gout: tuple(g * 3 for g in gin))  # replaces
        out = model(t)
        (out * out).sum().backward()
        record["x_grad"] = _np(t.grad.numpy())
    for key in ("gin", "gout"):
        assert len(got["dn"][key]) == len(got["torch"][key]) == 1
        np.testing.assert_allclose(got["dn"][key][0], got["torch"][key][0], rtol=1e-10)
    np.testing.assert_allclose(got["dn"]["x_grad"], got["torch"]["x_grad"], rtol=1e-10)


@pytest.mark.covers("E1")
def test_backward_hook_on_first_layer_with_input_not_requiring_grad():
    ours, theirs, x = _pair(2)
    got = {}
    for lib, model, t in (("dn", ours, dn.tensor(x)), ("torch", theirs, torch.tensor(x))):
        model[0].register_full_backward_hook(
            lambda m, gin, gout, lib=lib: got.update({lib: (gin, _np(gout[0]))}))
        model(t).sum().backward()
    assert got["dn"][0] == got["torch"][0] == (None,)
    np.testing.assert_allclose(got["dn"][1], got["torch"][1], rtol=1e-10)


@pytest.mark.covers("E1")
def test_hooks_run_with_the_in_place_relu_shortcut_of_sequential():
    """A hooked Linear before a ReLU must see its own (un-rectified) output."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU()).double()
    seen = []
    model[0].register_forward_hook(lambda m, a, out: seen.append(out.numpy().copy()))
    x = dn.tensor(np.random.default_rng(0).normal(size=(5, 3)))
    y = model(x)
    assert (seen[0] < 0).any()  # the hook saw negative values, not the rectified array
    np.testing.assert_array_equal(y.numpy(), np.maximum(seen[0], 0))


@pytest.mark.covers("E1")
def test_apply_visits_children_first_like_torch():
    names = {}
    for lib, m in (("dn", nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))),
                   ("torch", torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sequential(torch.nn.ReLU())))):
        order = names[lib] = []
        m.apply(lambda mod: order.append(type(mod).__name__))
    assert names["dn"] == names["torch"]


def test_register_hook_refuses_non_callables():
    with pytest.raises(TypeError, match="expected a callable"):
        nn.Linear(1, 1).register_forward_hook(3)
