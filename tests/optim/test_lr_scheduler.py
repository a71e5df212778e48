"""Learning-rate schedulers against torch.optim.lr_scheduler: 100-step lr (and momentum) sequences (O7).

Every comparison goes through `compare_trajectories`: with `train=False` the
optimizers step without gradients and only the param-group hyperparameters
(lr, initial_lr, momentum, betas, ...) are compared after every step; with
training on, the parameter trajectories are compared too.
"""
import math

import numpy as np
import pytest

import deepnotes as dn
from deepnotes.optim import SGD, Adagrad, Adam
from deepnotes.optim import lr_scheduler as S
from tests.optim.trajectory import Run, compare_trajectories, problem

GROUPS = [{"params": ["W1", "b1"], "lr": 0.2}, {"params": ["W2", "b2"]}]


def sgd(optim, params):
    return optim.SGD(params, lr=0.1, momentum=0.9)


def adam(optim, params):
    return optim.Adam(params, lr=0.01, betas=(0.9, 0.99))


def _resumed(make):
    """A scheduler made with last_epoch=9 on groups that carry initial_lr, as when resuming a run."""
    def build(sched, opt):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        return make(sched, opt, 9)
    return build


def _two_lambdas(sched, opt):
    return sched.LambdaLR(opt, [lambda e: 0.95**e, lambda e: 1.0 / (1 + 0.1 * e)])


SCHEDULES = {
    "LambdaLR": lambda sched, opt: sched.LambdaLR(opt, lambda e: 0.97**e * (1 + math.sin(e / 5))),
    "LambdaLR_per_group": _two_lambdas,
    "StepLR": lambda sched, opt: sched.StepLR(opt, step_size=7, gamma=0.5),
    "MultiStepLR": lambda sched, opt: sched.MultiStepLR(opt, milestones=[10, 30, 30, 60], gamma=0.3),
    "ExponentialLR": lambda sched, opt: sched.ExponentialLR(opt, gamma=0.97),
    "ConstantLR": lambda sched, opt: sched.ConstantLR(opt, factor=0.25, total_iters=10),
    "LinearLR_warmup": lambda sched, opt: sched.LinearLR(opt, start_factor=0.1, total_iters=20),
    "LinearLR_decay": lambda sched, opt: sched.LinearLR(opt, start_factor=1.0, end_factor=0.05, total_iters=60),
    "CosineAnnealingLR": lambda sched, opt: sched.CosineAnnealingLR(opt, T_max=100),
    "CosineAnnealingLR_past_T_max": lambda sched, opt: sched.CosineAnnealingLR(opt, T_max=30, eta_min=0.001),
    "WarmRestarts": lambda sched, opt: sched.CosineAnnealingWarmRestarts(opt, T_0=10),
    "WarmRestarts_T_mult": lambda sched, opt: sched.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.01),
    "OneCycleLR_cos": lambda sched, opt: sched.OneCycleLR(opt, max_lr=[0.5, 1.0], total_steps=100),
    "OneCycleLR_linear_three_phase": lambda sched, opt: sched.OneCycleLR(
        opt, max_lr=0.4, epochs=10, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear", three_phase=True,
        base_momentum=[0.8, 0.7], max_momentum=0.99),
    "OneCycleLR_no_momentum": lambda sched, opt: sched.OneCycleLR(
        opt, max_lr=0.3, total_steps=120, cycle_momentum=False, div_factor=10.0, final_div_factor=100.0),
    "SequentialLR_warmup_cosine": lambda sched, opt: sched.SequentialLR(
        opt, [sched.LinearLR(opt, start_factor=0.01, total_iters=10), sched.CosineAnnealingLR(opt, T_max=90)],
        milestones=[10]),
    "SequentialLR_three": lambda sched, opt: sched.SequentialLR(
        opt, [sched.ConstantLR(opt, factor=0.5, total_iters=5), sched.ExponentialLR(opt, gamma=0.9),
              sched.StepLR(opt, step_size=10, gamma=0.5)], milestones=[5, 30]),
    "resumed_StepLR": _resumed(lambda sched, opt, e: sched.StepLR(opt, step_size=4, gamma=0.7, last_epoch=e)),
    "resumed_ExponentialLR": _resumed(lambda sched, opt, e: sched.ExponentialLR(opt, gamma=0.95, last_epoch=e)),
    "resumed_CosineAnnealingLR": _resumed(lambda sched, opt, e: sched.CosineAnnealingLR(opt, T_max=40, last_epoch=e)),
    "resumed_LinearLR": _resumed(lambda sched, opt, e: sched.LinearLR(opt, start_factor=0.2, total_iters=30,
                                                                      last_epoch=e)),
}


@pytest.mark.covers("O7")
@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("optimizer", [sgd, adam], ids=["SGD", "Adam"])
def test_lr_sequence_matches_torch(name, optimizer):
    run = compare_trajectories(optimizer, groups=GROUPS, scheduler=SCHEDULES[name], train=False)
    assert np.ptp(run["lrs"]) > 0, "the schedule never changed the lr"


# Synthetic validation metrics: improving, then a plateau with noise, then worse, then better again.
_RNG = np.random.default_rng(7)
METRICS = np.concatenate([np.linspace(1.0, 0.5, 20), 0.5 + 1e-5 * _RNG.normal(size=30), np.linspace(0.5, 0.6, 20),
                          np.linspace(0.6, 0.2, 30)]).tolist()
PLATEAU = {
    "default": dict(),
    "patience_cooldown": dict(factor=0.5, patience=3, cooldown=4),
    "abs_threshold_min_lr": dict(factor=0.3, patience=2, threshold=0.01, threshold_mode="abs", min_lr=[1e-3, 5e-3]),
    "max_mode": dict(mode="max", factor=0.5, patience=0, threshold=1e-3),
    "max_abs_eps": dict(mode="max", factor=0.9, patience=1, threshold_mode="abs", threshold=0.0, eps=5e-3),
}


@pytest.mark.covers("O7")
@pytest.mark.parametrize("name", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(name):
    kwargs = PLATEAU[name]
    run = compare_trajectories(sgd, groups=GROUPS, scheduler=lambda sched, opt: sched.ReduceLROnPlateau(opt, **kwargs),
                               step_args=METRICS, train=False)
    assert run["lrs"][-1][0] < run["lrs"][0][0], "the lr was never reduced"


@pytest.mark.covers("O7")
@pytest.mark.parametrize("name, optimizer", [("OneCycleLR_cos", sgd), ("WarmRestarts_T_mult", adam),
                                             ("SequentialLR_warmup_cosine", adam)])
def test_parameter_trajectory_under_a_schedule_matches_torch(name, optimizer):
    """The optimizers read the scheduled lr and momentum/beta1 at every step: the parameters agree too."""
    compare_trajectories(optimizer, groups=GROUPS, scheduler=SCHEDULES[name])


@pytest.mark.covers("O7")
def test_plateau_parameter_trajectory_matches_torch():
    compare_trajectories(adam, scheduler=lambda sched, opt: sched.ReduceLROnPlateau(opt, factor=0.5, patience=2),
                         step_args=METRICS)


EPOCHS = [3, 7, 7, 20, 1, 0, 45, 12]
CLOSED_FORMS = {
    "StepLR": SCHEDULES["StepLR"],
    "MultiStepLR": SCHEDULES["MultiStepLR"],
    "ExponentialLR": SCHEDULES["ExponentialLR"],
    "ConstantLR": SCHEDULES["ConstantLR"],
    "LinearLR": SCHEDULES["LinearLR_warmup"],
    "CosineAnnealingLR": SCHEDULES["CosineAnnealingLR_past_T_max"],
    "WarmRestarts": SCHEDULES["WarmRestarts"],
}


@pytest.mark.covers("O7")
@pytest.mark.filterwarnings("ignore:.*epoch:UserWarning")
@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_step_with_an_epoch_uses_the_closed_form_like_torch(name):
    compare_trajectories(sgd, groups=GROUPS, scheduler=CLOSED_FORMS[name], step_args=EPOCHS, steps=len(EPOCHS),
                         train=False)


@pytest.mark.covers("O7")
@pytest.mark.filterwarnings("ignore:.*epoch:UserWarning")
def test_warm_restarts_with_fractional_epochs_match_torch():
    epochs = [0.5, 1.2, 3.7, 5.0, 12.3, 31.0, 14.9, 2.0, 75.5]
    compare_trajectories(sgd, scheduler=SCHEDULES["WarmRestarts_T_mult"], step_args=epochs, steps=len(epochs),
                         train=False)


@pytest.mark.covers("O7")
def test_closed_forms_of_the_recursive_schedules():
    """The recursive updates reproduce the textbook closed forms."""
    run = compare_trajectories(sgd, scheduler=SCHEDULES["CosineAnnealingLR"], train=False)
    t = np.arange(101)
    np.testing.assert_allclose(run["lrs"][:, 0], 0.1 * (1 + np.cos(np.pi * t / 100)) / 2, rtol=1e-9, atol=1e-15)
    run = compare_trajectories(sgd, scheduler=SCHEDULES["StepLR"], train=False, steps=30)
    np.testing.assert_allclose(run["lrs"][:, 0], 0.1 * 0.5 ** (np.arange(31) // 7), rtol=1e-12)


@pytest.mark.covers("O7")
@pytest.mark.parametrize("name", ["ExponentialLR", "SequentialLR_three", "OneCycleLR_cos", "WarmRestarts_T_mult",
                                  "LambdaLR", "LinearLR_warmup", "plateau"])
def test_scheduler_state_dict_round_trip(name):
    """30 steps, save optimizer and scheduler, rebuild both, load, 30 more == 60 uninterrupted."""
    init, x, t = problem()
    plateau = name == "plateau"
    make = (lambda sched, opt: sched.ReduceLROnPlateau(opt, patience=1)) if plateau else SCHEDULES[name]
    arg = (lambda k: METRICS[k]) if plateau else (lambda k: None)
    straight = Run("dn", init, x, t, sgd, GROUPS, make)
    first = Run("dn", init, x, t, sgd, GROUPS, make)
    for k in range(30):
        straight.step(train=False, step_arg=arg(k))
        first.step(train=False, step_arg=arg(k))
    opt_state, sched_state = first.optimizer.state_dict(), first.scheduler.state_dict()
    second = Run("dn", init, x, t, sgd, GROUPS, make)  # scheduler made before loading, as PyTorch advises
    second.optimizer.load_state_dict(opt_state)
    second.scheduler.load_state_dict(sched_state)
    for k in range(30, 60):
        straight.step(train=False, step_arg=arg(k))
        second.step(train=False, step_arg=arg(k))
        assert second.scheduler.get_last_lr() == straight.scheduler.get_last_lr(), f"step {k + 1}"


def _optimizer():
    return SGD([dn.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)


@pytest.mark.covers("O7")
def test_bad_scheduler_arguments_are_refused():
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), step_size=3)
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_optimizer(), step_size=3, last_epoch=4)
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(_optimizer(), T_0=0)
    with pytest.raises(ValueError, match="start_factor"):
        S.LinearLR(_optimizer(), start_factor=0.0)
    with pytest.raises(ValueError, match="factor must be < 1"):
        S.ReduceLROnPlateau(_optimizer(), factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(_optimizer(), mode="lowest")
    with pytest.raises(ValueError, match="momentum or betas"):
        S.OneCycleLR(Adagrad([dn.zeros(2, requires_grad=True)]), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(_optimizer(), max_lr=0.1)
    with pytest.raises(ValueError, match="one value per param group"):
        S.OneCycleLR(_optimizer(), max_lr=[0.1, 0.2], total_steps=10)
    opt = _optimizer()
    one_cycle = S.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        one_cycle.step()
    with pytest.raises(ValueError, match="total_steps is 3"):
        one_cycle.step()
    opt = _optimizer()
    with pytest.raises(ValueError, match="milestone"):
        S.SequentialLR(opt, [S.ExponentialLR(opt, 0.9), S.ExponentialLR(opt, 0.8)], milestones=[])
    with pytest.raises(ValueError, match="another optimizer"):
        S.SequentialLR(opt, [S.ExponentialLR(_optimizer(), 0.9)], milestones=[])


@pytest.mark.covers("O7")
def test_one_cycle_sets_beta1_of_adam_and_momentum_of_sgd():
    p = dn.zeros(2, requires_grad=True)
    adam_opt = Adam([p], betas=(0.9, 0.999))
    S.OneCycleLR(adam_opt, max_lr=0.01, total_steps=10, max_momentum=0.95)
    assert adam_opt.param_groups[0]["betas"] == (0.95, 0.999)
    sgd_opt = _optimizer()
    S.OneCycleLR(sgd_opt, max_lr=0.01, total_steps=10, max_momentum=0.97)
    assert sgd_opt.param_groups[0]["momentum"] == 0.97 and sgd_opt.param_groups[0]["initial_lr"] == 0.01 / 25
