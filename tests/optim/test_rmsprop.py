"""RMSprop against torch.optim.RMSprop over whole trajectories (O3)."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.optim import RMSprop
from tests.optim.trajectory import compare_trajectories

SETTINGS = {
    "default": dict(),
    "alpha_eps": dict(lr=0.005, alpha=0.95, eps=1e-3),
    "momentum": dict(lr=0.005, momentum=0.9),
    "centered": dict(lr=0.005, centered=True, weight_decay=0.05),
    "centered_momentum_maximize": dict(lr=0.003, centered=True, momentum=0.5, maximize=True),
}


@pytest.mark.covers("O3")
@pytest.mark.parametrize("name", SETTINGS)
def test_rmsprop_trajectory_matches_torch(name):
    kwargs = SETTINGS[name]
    compare_trajectories(lambda optim, params: optim.RMSprop(params, **kwargs),
                         negate_loss=kwargs.get("maximize", False))


@pytest.mark.covers("O3")
def test_rmsprop_param_groups_with_their_own_options():
    groups = [{"params": ["W1", "b1"], "lr": 0.002, "centered": True}, {"params": ["W2", "b2"], "momentum": 0.5}]
    compare_trajectories(lambda optim, params: optim.RMSprop(params, lr=0.005), groups=groups, steps=50)


@pytest.mark.covers("O3")
def test_rmsprop_step_does_not_decay_for_a_constant_gradient():
    """Unlike AdaGrad's sum, the moving average settles: steps tend to lr (here alpha=0.5 so it is quick)."""
    p = dn.tensor(np.array([0.0]), requires_grad=True)
    opt = RMSprop([p], lr=0.1, alpha=0.5, eps=0.0)
    positions = [0.0]
    for _ in range(30):
        p.grad = np.array([3.0])
        opt.step()
        positions.append(p.data[0])
    steps = -np.diff(positions)
    np.testing.assert_allclose(steps, 0.1 / np.sqrt(1 - 0.5 ** np.arange(1, 31)), rtol=1e-12)


@pytest.mark.covers("O3")
@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.01), "lr=-0.01"),
    (dict(alpha=-0.9), "alpha=-0.9"),
    (dict(eps=-1.0), "eps=-1.0"),
    (dict(momentum=-0.1), "momentum=-0.1"),
    (dict(weight_decay=-0.1), "weight_decay=-0.1"),
])
def test_rmsprop_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match="RMSprop") as info:
        RMSprop([dn.zeros(2, requires_grad=True)], **kwargs)
    assert message in str(info.value)
