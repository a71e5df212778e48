"""The Optimizer base: param groups, zero_grad, step(closure), state_dict / load_state_dict, dtypes (E3, O1, O3)."""
import copy
import pickle

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.optim.optimizer
from deepnotes.optim import SGD, Adagrad, Adam, AdamW, NAdam, Optimizer, RMSprop
from tests.optim.trajectory import Run, assert_runs_close, compare_trajectories, problem, torch_float64
from tests.doctests import assert_examples_run

# One factory per optimizer family, with its awkward options switched on.
FACTORIES = {
    "SGD": lambda optim, params: optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adam": lambda optim, params: optim.Adam(params, lr=0.01, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda optim, params: optim.AdamW(params, lr=0.01, weight_decay=0.1),
    "NAdam": lambda optim, params: optim.NAdam(params, lr=0.005, weight_decay=0.01),
    "Adagrad": lambda optim, params: optim.Adagrad(params, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1),
    "RMSprop": lambda optim, params: optim.RMSprop(params, lr=0.005, momentum=0.5, centered=True),
}
GROUPS = [{"params": ["W1", "b1"], "lr": 0.02}, {"params": ["W2", "b2"]}]


def _tensors(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [dn.tensor(rng.normal(size=(2, 3)), requires_grad=True) for _ in range(n)]


# ----------------------------------------------------------------- param groups
@pytest.mark.covers("O1")
def test_param_groups_take_defaults_unless_overridden():
    a, b, c = _tensors()
    opt = SGD([{"params": [a, b], "lr": 0.5}, {"params": c, "momentum": 0.9}], lr=0.1)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 1]
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[0]["params"][0] is a and opt.param_groups[1]["params"][0] is c
    th = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}], lr=0.1)
    assert set(opt.param_groups[0]) <= set(th.param_groups[0])  # PyTorch's keys (it has a few more)


@pytest.mark.covers("O1")
def test_named_parameters_keep_their_names_like_torch():
    init, _, _ = problem()
    ours = SGD([(k, dn.tensor(v, requires_grad=True)) for k, v in init.items()], lr=0.1)
    theirs = torch.optim.SGD([(k, torch.tensor(v, requires_grad=True)) for k, v in init.items()], lr=0.1)
    saved, saved_ref = ours.state_dict(), theirs.state_dict()
    assert saved["param_groups"][0]["param_names"] == saved_ref["param_groups"][0]["param_names"] == list(init)
    assert saved["param_groups"][0]["params"] == saved_ref["param_groups"][0]["params"]
    a, b, _ = _tensors()
    with pytest.raises(ValueError, match="all parameters with names or none"):
        SGD([("a", a), b], lr=0.1)
    with pytest.raises(ValueError, match="with names, or all without"):
        ours.add_param_group({"params": [a]})


@pytest.mark.covers("O1")
def test_add_param_group_mid_training_matches_torch():
    init, x, t = problem()
    make = FACTORIES["Adam"]
    with torch_float64():
        runs = [Run(lib, init, x, t, make, groups=[{"params": ["W1", "b1"]}]) for lib in ("dn", "torch")]
        for k in range(20):
            if k == 10:
                for run in runs:
                    run.optimizer.add_param_group({"params": [run.params["W2"], run.params["b2"]], "lr": 0.03})
            for run in runs:
                run.step()
            assert_runs_close(*runs, f"step {k + 1}")
    assert len(runs[0].optimizer.param_groups) == 2


@pytest.mark.covers("O1")
@pytest.mark.parametrize("params, error, message", [
    (lambda a, b: a, TypeError, "single Tensor"),
    (lambda a, b: [], ValueError, "empty parameter list"),
    (lambda a, b: {a, b}, TypeError, "not a set"),
    (lambda a, b: [{"params": {a, b}}], TypeError, "not a set"),
    (lambda a, b: [a, np.zeros(3)], TypeError, "ndarray"),
    (lambda a, b: [a * 2], ValueError, "non-leaf"),
    (lambda a, b: [{"params": [a]}, {"params": [a, b]}], ValueError, "more than one parameter group"),
])
def test_bad_parameter_lists_are_refused(params, error, message):
    a, b, _ = _tensors()
    with pytest.raises(error, match=message):
        SGD(params(a, b), lr=0.1)


@pytest.mark.covers("O1")
def test_required_hyperparameter_and_duplicate_warning():
    a, b, _ = _tensors()

    class Plain(Optimizer):
        def __init__(self, params, lr=deepnotes.optim.required):
            super().__init__(params, {"lr": lr})

    with pytest.raises(ValueError, match="required hyperparameter 'lr'"):
        Plain([a])
    assert Plain([{"params": [a], "lr": 0.1}]).param_groups[0]["lr"] == 0.1
    with pytest.warns(UserWarning, match="more than once"):
        SGD([a, b, a], lr=0.1)
    with pytest.raises(NotImplementedError, match="_update"):
        a.grad = np.ones((2, 3))
        Plain([{"params": [a], "lr": 0.1}]).step()


# ------------------------------------------------------- zero_grad, step, E3
@pytest.mark.covers("E3")
def test_zero_grad_sets_to_none_or_to_zeros():
    a, b, _ = _tensors()
    opt = SGD([a, b], lr=0.1)
    (a * b).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(a.grad.numpy(), np.zeros((2, 3))) and a.grad.numpy().dtype == a.dtype
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.covers("E3")
@pytest.mark.parametrize("name", FACTORIES)
def test_backward_only_computes_gradients_and_step_only_moves_parameters(name):
    """E3: backprop and gradient descent are separate steps of separate objects."""
    init, x, t = problem()
    run = Run("dn", init, x, t, FACTORIES[name])
    frozen = dn.tensor(np.ones(3), requires_grad=True)  # in the optimizer, not in the loss: grad stays None
    run.optimizer.add_param_group({"params": [frozen]})
    before, x_before = run.snapshot(), run.x.numpy().copy()

    run.loss().backward()
    assert all(p.grad is not None for p in run.params.values())
    for k, v in run.snapshot().items():
        assert np.array_equal(v, before[k]), f"backward() changed parameter {k}"
    assert not any(run.optimizer.state.values()), "backward() touched the optimizer"
    grads = {k: p.grad.numpy().copy() for k, p in run.params.items()}

    run.optimizer.step()
    for k, v in run.snapshot().items():
        assert not np.allclose(v, before[k]), f"step() left parameter {k} unchanged"
        assert np.array_equal(run.params[k].grad.numpy(), grads[k]), f"step() changed the gradient of {k}"
    assert np.array_equal(run.x.numpy(), x_before)
    assert np.array_equal(frozen.numpy(), np.ones(3)) and frozen.grad is None
    assert not run.optimizer.state.get(frozen), "a parameter without gradient got optimizer state"


@pytest.mark.covers("O1", "O3")
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_step_with_closure_matches_torch_and_returns_the_loss(name):
    run = compare_trajectories(FACTORIES[name], closure=True, steps=30)
    assert len(run["losses"]) == 30 and all(np.isfinite(run["losses"]))


# --------------------------------------------------------------- state dicts
def _run(name, init, x, t, steps, groups=GROUPS):
    run = Run("dn", init, x, t, FACTORIES[name], groups=groups)
    for _ in range(steps):
        run.step()
    return run


@pytest.mark.covers("O1", "O3")
@pytest.mark.parametrize("name", FACTORIES)
def test_state_dict_round_trip_continues_exactly(name):
    """20 steps, save, new optimizer, load, 20 more steps == 40 uninterrupted steps, bit for bit."""
    init, x, t = problem()
    straight = _run(name, init, x, t, 40)
    first = _run(name, init, x, t, 20)
    saved = first.optimizer.state_dict()
    frozen = copy.deepcopy(saved)
    pickle.loads(pickle.dumps(saved))  # plain Python and NumPy: picklable
    second = _run(name, first.snapshot(), x, t, 0)
    second.optimizer.param_groups[0]["lr"] = 123.0  # load_state_dict restores the hyperparameters too
    second.optimizer.load_state_dict(saved)
    for _ in range(20):
        second.step()
        first.step()
    for k, v in straight.snapshot().items():
        assert np.array_equal(second.snapshot()[k], v), f"{name}: {k} differs after resuming"
    for i, entry in frozen["state"].items():  # the snapshot did not move with the optimizer it came from
        for key, value in entry.items():
            assert np.array_equal(saved["state"][i][key], value), f"state_dict() aliases live state {key}"


def _torch_state_to_numpy(state_dict):
    def convert(v):
        if isinstance(v, torch.Tensor):
            return v.item() if v.ndim == 0 else v.detach().numpy().copy()
        return v

    return {"state": {i: {k: convert(v) for k, v in s.items()} for i, s in state_dict["state"].items()},
            "param_groups": copy.deepcopy(state_dict["param_groups"])}


@pytest.mark.covers("O3")
@pytest.mark.parametrize("name", FACTORIES)
def test_state_dict_has_torchs_layout_and_values(name):
    run = compare_trajectories(FACTORIES[name], groups=GROUPS, steps=5)
    ours = run["dn"].optimizer.state_dict()
    theirs = _torch_state_to_numpy(run["torch"].optimizer.state_dict())
    assert ours["state"].keys() == theirs["state"].keys()
    for i in ours["state"]:
        assert ours["state"][i].keys() == theirs["state"][i].keys(), f"state keys of parameter {i}"
        for key, value in ours["state"][i].items():
            np.testing.assert_allclose(value, theirs["state"][i][key], rtol=1e-9, atol=1e-12, err_msg=key)
            assert not isinstance(value, np.ndarray) or value.ndim > 0, f"{key}: numbers are stored as numbers"
    for g_ours, g_theirs in zip(ours["param_groups"], theirs["param_groups"]):
        assert g_ours["params"] == g_theirs["params"]
        assert set(g_ours) <= set(g_theirs), set(g_ours) - set(g_theirs)


@pytest.mark.covers("O3")
@pytest.mark.parametrize("name", FACTORIES)
def test_torch_state_dict_loads_and_continues_like_torch(name):
    """A torch.optim state dict (tensors turned into arrays) resumes in deepnotes exactly as in torch."""
    init, x, t = problem()
    with torch_float64():
        theirs = Run("torch", init, x, t, FACTORIES[name], groups=GROUPS)
        for _ in range(10):
            theirs.step()
        ours = Run("dn", theirs.snapshot(), x, t, FACTORIES[name], groups=GROUPS)
        ours.optimizer.load_state_dict(_torch_state_to_numpy(theirs.optimizer.state_dict()))
        for k in range(10):
            ours.step()
            theirs.step()
            assert_runs_close(ours, theirs, f"step {k + 11}")


@pytest.mark.covers("O3")
def test_load_state_dict_validates_and_casts():
    a, b, c = _tensors()
    for p in (a, b, c):
        p.grad = np.ones((2, 3))
    opt = Adam([{"params": [a, b]}, {"params": [c]}])
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        Adam([a, b, c]).load_state_dict(saved)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the state dict, 1 in this"):
        Adam([{"params": [a]}, {"params": [b, c]}]).load_state_dict(saved)
    bad = copy.deepcopy(saved)
    bad["state"][1]["exp_avg"] = np.zeros(6)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 1 has shape \(6,\).*\(2, 3\)"):
        Adam([{"params": [a, b]}, {"params": [c]}]).load_state_dict(bad)
    with pytest.raises(KeyError, match="param_groups"):
        Adam([a]).load_state_dict({"state": {}})
    # Float64 state loads into float32 parameters as float32.
    a32 = dn.tensor(a.numpy().astype(np.float32), requires_grad=True)
    b32, c32 = (dn.tensor(p.numpy().astype(np.float32), requires_grad=True) for p in (b, c))
    opt32 = Adam([{"params": [a32, b32]}, {"params": [c32]}])
    opt32.load_state_dict(saved)
    assert opt32.state[a32]["exp_avg"].dtype == np.float32 and opt32.state[a32]["step"] == 1


# --------------------------------------------------------------------- dtypes
@pytest.mark.covers("O3")
@pytest.mark.parametrize("name", FACTORIES)
def test_float32_stays_float32_and_matches_torch(name):
    run = compare_trajectories(FACTORIES[name], dtype=np.float32, steps=20, rtol=2e-4, atol=1e-6)
    for state in run["dn"].optimizer.state.values():
        for key, value in state.items():
            assert not isinstance(value, np.ndarray) or value.dtype == np.float32, f"{key} is {value.dtype}"


# ---------------------------------------------------------------- repr, docs
def test_repr_lists_the_groups():
    a, b, _ = _tensors()
    text = repr(SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 1" in text and "lr: 0.5" in text and "momentum: 0.9" in text


@pytest.mark.parametrize("module", [deepnotes.optim.optimizer])
def test_docstring_examples_run(module):
    assert_examples_run(module)


@pytest.mark.covers("O3")
@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, NAdam, Adagrad, RMSprop])
def test_every_optimizer_skips_parameters_without_gradient(cls):
    a, b, _ = _tensors()
    before = b.numpy().copy()
    a.grad = np.ones((2, 3))
    opt = cls([a, b], lr=0.1)
    opt.step()
    assert np.array_equal(b.numpy(), before) and not opt.state.get(b)
    assert not np.array_equal(a.numpy(), _tensors()[0].numpy())
