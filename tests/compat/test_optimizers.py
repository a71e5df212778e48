"""Adadelta, Adamax, RAdam, ASGD and Rprop against torch.optim over whole trajectories (O1, O3)."""
import pytest

from tests.optim.trajectory import compare_trajectories

SETTINGS = {
    "Adadelta": [dict(), dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.05), dict(maximize=True)],
    "Adamax": [dict(), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1), dict(lr=0.02, maximize=True)],
    "RAdam": [dict(lr=0.01), dict(lr=0.02, betas=(0.8, 0.95), weight_decay=0.05),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), dict(lr=0.01, maximize=True)],
    "ASGD": [dict(lr=0.05), dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=20, weight_decay=0.01), dict(maximize=True)],
    "Rprop": [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-4, 0.2)), dict(maximize=True)],
}
CASES = [(name, i) for name, settings in SETTINGS.items() for i in range(len(settings))]


@pytest.mark.covers("O3")
@pytest.mark.parametrize("name,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_trajectory_matches_torch(name, index):
    kwargs = SETTINGS[name][index]
    compare_trajectories(lambda optim, params: getattr(optim, name)(params, **kwargs),
                         negate_loss=kwargs.get("maximize", False), steps=60)


@pytest.mark.covers("O7")
@pytest.mark.parametrize("name", ["Adamax", "RAdam", "Adadelta"])
def test_with_a_scheduler_and_param_groups(name):
    groups = [{"params": ["W1", "b1"], "lr": 0.03}, {"params": ["W2", "b2"]}]
    compare_trajectories(lambda optim, params: getattr(optim, name)(params, lr=0.01), groups=groups, steps=40,
                         scheduler=lambda sched, opt: sched.StepLR(opt, step_size=10, gamma=0.5))
