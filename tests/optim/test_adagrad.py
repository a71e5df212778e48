"""Adagrad against torch.optim.Adagrad over whole trajectories (O3)."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.optim import Adagrad
from tests.optim.trajectory import compare_trajectories

SETTINGS = {
    "default": dict(),
    "lr_decay": dict(lr=0.1, lr_decay=0.05),
    "weight_decay_accumulator": dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.5),
    "eps_maximize": dict(lr=0.05, eps=1e-3, maximize=True),
}


@pytest.mark.covers("O3")
@pytest.mark.parametrize("name", SETTINGS)
def test_adagrad_trajectory_matches_torch(name):
    kwargs = SETTINGS[name]
    compare_trajectories(lambda optim, params: optim.Adagrad(params, **kwargs),
                         negate_loss=kwargs.get("maximize", False))


@pytest.mark.covers("O3")
def test_adagrad_param_groups_with_their_own_options():
    groups = [{"params": ["W1", "b1"], "lr": 0.2, "lr_decay": 0.1}, {"params": ["W2", "b2"]}]
    compare_trajectories(lambda optim, params: optim.Adagrad(params, lr=0.05), groups=groups, steps=50)


@pytest.mark.covers("O3")
def test_adagrad_step_shrinks_like_one_over_sqrt_t_for_a_constant_gradient():
    """With a constant gradient g, s_t = t g^2, so the t-th step is lr / sqrt(t): the decay Adam removes."""
    p = dn.tensor(np.array([0.0]), requires_grad=True)
    opt = Adagrad([p], lr=1.0, eps=0.0)
    positions = [0.0]
    for _ in range(5):
        p.grad = np.array([3.0])
        opt.step()
        positions.append(p.data[0])
    np.testing.assert_allclose(-np.diff(positions), 1 / np.sqrt(np.arange(1, 6)), rtol=1e-12)


@pytest.mark.covers("O3")
@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.01), "lr=-0.01"),
    (dict(lr_decay=-1.0), "lr_decay=-1.0"),
    (dict(weight_decay=-0.1), "weight_decay=-0.1"),
    (dict(initial_accumulator_value=-0.5), "initial_accumulator_value=-0.5"),
    (dict(eps=-1e-10), "eps=-1e-10"),
])
def test_adagrad_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match="Adagrad") as info:
        Adagrad([dn.zeros(2, requires_grad=True)], **kwargs)
    assert message in str(info.value)
