"""The trajectory oracle: train the same small model with deepnotes and with torch.optim, compare every step.

A one-step comparison misses errors that only show later (a bias correction
with the wrong step count, a momentum buffer initialised to zero instead of
the first gradient, a scheduler off by one), so `compare_trajectories` runs
many steps and, after each one, compares the loss, every parameter, and every
hyperparameter of every param group (lr, momentum, betas, initial_lr, ...)
with PyTorch's.

The model is a two-layer MLP written with raw tensors,
`y = tanh(x W1^T + b1) W2^T + b2`, loss = mean((y - t)^2), in float64 with the
same initial weights and data on both sides.  An optimizer or scheduler is
described once by a factory that takes the library's module, so one lambda
serves both sides:

    compare_trajectories(lambda optim, params: optim.SGD(params, lr=0.1, momentum=0.9),
                         scheduler=lambda sched, opt: sched.StepLR(opt, step_size=10))
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

import deepnotes as dn
import deepnotes.optim
import deepnotes.optim.lr_scheduler

PARAM_NAMES = ("W1", "b1", "W2", "b2")
LIBRARIES = {
    "dn": (dn, deepnotes.optim, deepnotes.optim.lr_scheduler),
    "torch": (torch, torch.optim, torch.optim.lr_scheduler),
}


def problem(seed=0, n=32, d_in=5, hidden=8, d_out=3):
    """Initial weights (float64 arrays by name) and a regression data set (x, t)."""
    rng = np.random.default_rng(seed)
    init = {
        "W1": rng.normal(0.0, 0.7, (hidden, d_in)),
        "b1": rng.normal(0.0, 0.2, hidden),
        "W2": rng.normal(0.0, 0.7, (d_out, hidden)),
        "b2": rng.normal(0.0, 0.2, d_out),
    }
    x = rng.normal(size=(n, d_in))
    t = np.sin(x @ rng.normal(size=(d_in, d_out))) + 0.1 * rng.normal(size=(n, d_out))
    return init, x, t


def mlp_loss(lib, params, x, t):
    """Mean squared error of the MLP; `lib` is deepnotes or torch."""
    h = lib.tanh(x @ params["W1"].T + params["b1"])
    y = h @ params["W2"].T + params["b2"]
    return ((y - t) ** 2).mean()


@contextlib.contextmanager
def torch_float64():
    """torch keeps some optimizer scalars (NAdam's mu_product) in the default dtype: make it float64."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


class Run:
    """One library's side: parameters, data, optimizer and optional scheduler.

    Args:
        lib: "dn" or "torch".
        init: initial parameter arrays by name.
        optimizer: factory (optim_module, params) -> optimizer.
        groups: None (all parameters in one group) or a list of dicts whose
            "params" are parameter names, e.g. [{"params": ["W1", "b1"], "lr": 0.1}, {"params": ["W2", "b2"]}].
        scheduler: factory (lr_scheduler_module, optimizer) -> scheduler.
        penalty: add penalty * sum of squared parameters / 2 to the loss (explicit L2).
        negate_loss: train on -loss, for optimizers with maximize=True (ascending -loss descends the loss,
            so the run stays as tame as a minimisation).
    """

    def __init__(self, lib, init, x, t, optimizer, groups=None, scheduler=None, dtype=np.float64, penalty=0.0,
                 negate_loss=False):
        self.lib_name = lib
        self.lib, optim, sched = LIBRARIES[lib]
        self.params = {k: self.lib.tensor(np.array(v, dtype=dtype), requires_grad=True) for k, v in init.items()}
        self.x, self.t = self.lib.tensor(np.array(x, dtype=dtype)), self.lib.tensor(np.array(t, dtype=dtype))
        self.penalty = penalty
        self.negate_loss = negate_loss
        if groups is None:
            spec = [self.params[k] for k in PARAM_NAMES]
        else:
            spec = [{**g, "params": [self.params[k] for k in g["params"]]} for g in groups]
        self.optimizer = optimizer(optim, spec)
        self.scheduler = scheduler(sched, self.optimizer) if scheduler else None

    def loss(self, rows=None):
        x, t = (self.x, self.t) if rows is None else (self.x[rows], self.t[rows])
        loss = mlp_loss(self.lib, self.params, x, t)
        if self.penalty:
            loss = loss + self.penalty / 2 * sum((p * p).sum() for p in self.params.values())
        return -loss if self.negate_loss else loss

    def step(self, rows=None, train=True, closure=False, step_arg=None):
        """One optimizer step, then `scheduler.step()` (or `scheduler.step(step_arg)`); returns the loss or None."""
        loss = None
        if train and closure:
            def closure_fn():
                self.optimizer.zero_grad()
                value = self.loss(rows)
                value.backward()
                return value

            loss = self.optimizer.step(closure_fn)
        elif train:
            self.optimizer.zero_grad()
            loss = self.loss(rows)
            loss.backward()
            self.optimizer.step()
        else:
            self.optimizer.step()  # no gradients: nothing moves, but the scheduler sees a step was taken
        if self.scheduler is not None and step_arg is not None:
            self.scheduler.step(step_arg)
        elif self.scheduler is not None:
            self.scheduler.step()
        return None if loss is None else float(loss.item())

    def snapshot(self):
        """Copies of the current parameter arrays by name."""
        return {k: np.array(p.detach().numpy() if self.lib_name == "torch" else p.numpy()) for k, p in self.params.items()}


def _assert_allclose(actual, expected, what, rtol, atol):
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):  # the fast check; the slow one explains
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _hyperparameters(group):
    """Numeric hyperparameters of a group, flattened: {"lr": 0.1, "betas[0]": 0.9, ...}."""
    flat = {}
    for key, value in group.items():
        if isinstance(value, tuple):
            flat.update({f"{key}[{i}]": v for i, v in enumerate(value)})
        elif isinstance(value, (int, float)) and key != "params":
            flat[key] = value
    return flat


def assert_groups_close(dn_opt, torch_opt, what, rtol=1e-12):
    """Every numeric hyperparameter that both optimizers' groups have (lr, momentum, betas, ...) agrees."""
    assert len(dn_opt.param_groups) == len(torch_opt.param_groups), f"{what}: number of param groups"
    for i, (a, b) in enumerate(zip(dn_opt.param_groups, torch_opt.param_groups)):
        ours, theirs = _hyperparameters(a), _hyperparameters(b)
        assert "lr" in ours and "lr" in theirs, f"{what}: group {i} has no lr"
        for key in ours.keys() & theirs.keys():  # plain floats: math.isclose is much cheaper than NumPy here
            assert math.isclose(ours[key], theirs[key], rel_tol=rtol, abs_tol=0.0), (
                f"{what}: group {i} {key!r}: {ours[key]!r} != torch's {theirs[key]!r}"
            )


def assert_runs_close(ours, theirs, what, rtol=1e-7, atol=1e-10):
    """Both runs have the same parameters (values and dtypes) and the same group hyperparameters."""
    now, ref = ours.snapshot(), theirs.snapshot()
    for name in now:
        assert now[name].dtype == ref[name].dtype, f"{what}: {name} dtype {now[name].dtype} != {ref[name].dtype}"
    flat_now, flat_ref = (np.concatenate([d[k].ravel() for k in PARAM_NAMES]) for d in (now, ref))
    if not np.allclose(flat_now, flat_ref, rtol=rtol, atol=atol):  # one fast check; the slow ones explain
        for name in PARAM_NAMES:
            _assert_allclose(now[name], ref[name], f"{what}: parameter {name}", rtol, atol)
    assert_groups_close(ours.optimizer, theirs.optimizer, what)


def compare_trajectories(optimizer, *, steps=100, groups=None, scheduler=None, step_args=None, batch_size=None,
                         closure=False, train=True, negate_loss=False, dtype=np.float64, rtol=1e-7, atol=1e-10,
                         seed=0):
    """Run deepnotes and torch side by side for `steps` steps; assert they agree after every step.

    Args:
        optimizer, groups, scheduler, negate_loss: see `Run`.
        step_args: one value per step passed to `scheduler.step(value)`: ReduceLROnPlateau's metric, or an
            epoch (the closed forms).
        batch_size: train on mini-batches drawn (the same on both sides) from a shuffled order.
        closure: pass the loss computation to `optimizer.step(closure)`.
        train: False steps without gradients, comparing only the hyperparameter sequences.

    Returns:
        dict with the deepnotes losses, learning rates (per step, per group) and the two `Run`s.
    """
    init, x, t = problem(seed)
    rng = np.random.default_rng(seed + 1)
    with torch_float64():
        ours = Run("dn", init, x, t, optimizer, groups, scheduler, dtype, negate_loss=negate_loss)
        theirs = Run("torch", init, x, t, optimizer, groups, scheduler, dtype, negate_loss=negate_loss)
        assert_groups_close(ours.optimizer, theirs.optimizer, "after construction")
        losses, lrs = [], [[g["lr"] for g in ours.optimizer.param_groups]]
        for k in range(steps):
            rows = None if batch_size is None else rng.permutation(len(x))[:batch_size]
            arg = None if step_args is None else step_args[k]
            loss_dn = ours.step(rows, train, closure, arg)
            loss_th = theirs.step(rows, train, closure, arg)
            what = f"step {k + 1}"
            if train:
                assert abs(loss_dn - loss_th) <= atol + rtol * abs(loss_th), f"{what}: loss {loss_dn} != {loss_th}"
                losses.append(loss_dn)
            assert_runs_close(ours, theirs, what, rtol, atol)
            if ours.scheduler is not None:
                last, last_ref = ours.scheduler.get_last_lr(), theirs.scheduler.get_last_lr()
                assert len(last) == len(last_ref) and all(
                    math.isclose(a, b, rel_tol=1e-12) for a, b in zip(last, last_ref)
                ), f"{what}: get_last_lr() {last} != torch's {last_ref}"
            lrs.append([g["lr"] for g in ours.optimizer.param_groups])
    return {"losses": losses, "lrs": np.array(lrs), "dn": ours, "torch": theirs}
