"""SGD against torch.optim.SGD over whole trajectories; mini-batch SGD and momentum as mechanisms (O1, O2)."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.optim import SGD
from tests.optim.trajectory import compare_trajectories, mlp_loss, problem

SETTINGS = {
    "plain": dict(lr=0.1),
    "weight_decay": dict(lr=0.1, weight_decay=0.05),
    "momentum": dict(lr=0.05, momentum=0.9),
    "momentum_dampening": dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "nesterov_weight_decay": dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02),
    "maximize": dict(lr=0.05, momentum=0.5, weight_decay=0.01, maximize=True),
}


@pytest.mark.covers("O1", "O2")
@pytest.mark.parametrize("name", SETTINGS)
def test_sgd_trajectory_matches_torch(name):
    kwargs = SETTINGS[name]
    compare_trajectories(lambda optim, params: optim.SGD(params, **kwargs), negate_loss=kwargs.get("maximize", False))


@pytest.mark.covers("O1", "O2")
def test_sgd_param_groups_with_their_own_options():
    groups = [{"params": ["W1", "b1"], "lr": 0.2, "momentum": 0.5},
              {"params": ["W2", "b2"], "nesterov": True, "momentum": 0.9}]
    compare_trajectories(lambda optim, params: optim.SGD(params, lr=0.03), groups=groups)


@pytest.mark.covers("O1")
@pytest.mark.parametrize("batch_size", [1, 8])
def test_minibatch_sgd_trajectory_matches_torch(batch_size):
    init, x, t = problem()
    start = mlp_loss(dn, {k: dn.tensor(v) for k, v in init.items()}, dn.tensor(x), dn.tensor(t)).item()
    run = compare_trajectories(lambda optim, params: optim.SGD(params, lr=0.02, momentum=0.5),
                               batch_size=batch_size)
    assert run["dn"].loss().item() < 0.5 * start  # the full-data loss went down, though each step saw a batch


@pytest.mark.covers("O1")
def test_full_batch_gradient_is_the_mean_of_equal_minibatch_gradients():
    """'Stochastic': a mini-batch gradient is an unbiased estimate of the full-batch gradient.

    Averaged over a partition of the data into equal batches, mini-batch
    gradients give back the full-batch gradient exactly; one batch alone does not.
    """
    init, x, t = problem()

    def gradient(rows):
        params = {k: dn.tensor(v, requires_grad=True) for k, v in init.items()}
        mlp_loss(dn, params, dn.tensor(x[rows]), dn.tensor(t[rows])).backward()
        return np.concatenate([params[k].grad.numpy().ravel() for k in sorted(params)])

    order = np.random.default_rng(0).permutation(len(x))
    batches = [gradient(rows) for rows in np.split(order, 4)]
    full = gradient(np.arange(len(x)))
    np.testing.assert_allclose(np.mean(batches, axis=0), full, rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(batches[0] - full) > 1e-3 * np.linalg.norm(full)


def _quadratic_run(optimizer_kwargs, steps=30):
    """Minimise f(p) = 1/2 p^T A p with dn SGD; returns the iterates and A."""
    rng = np.random.default_rng(3)
    q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    a = q @ np.diag([0.1, 0.5, 2.0, 5.0]) @ q.T
    p = dn.tensor(rng.normal(size=4), requires_grad=True)
    opt = SGD([p], **optimizer_kwargs)
    path = [p.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (p * (dn.tensor(a) @ p)).sum()).backward()
        opt.step()
        path.append(p.numpy().copy())
    return np.array(path), a


@pytest.mark.covers("O2")
def test_momentum_is_polyaks_heavy_ball():
    """v_t = mu v_{t-1} - lr grad(p_{t-1}),  p_t = p_{t-1} + v_t  (Polyak 1964) for a constant lr."""
    lr, mu = 0.1, 0.9
    path, a = _quadratic_run(dict(lr=lr, momentum=mu))
    theta, v = path[0].copy(), np.zeros(4)
    for k in range(1, len(path)):
        v = mu * v - lr * (a @ theta)
        theta = theta + v
        np.testing.assert_allclose(path[k], theta, rtol=1e-10, atol=1e-12)


@pytest.mark.covers("O2")
def test_nesterov_is_sutskevers_lookahead_momentum_reparametrised():
    """Sutskever et al. (2013): v_t = mu v_{t-1} - lr grad(theta_{t-1} + mu v_{t-1}), theta_t = theta_{t-1} + v_t.

    PyTorch's (and deepnotes') Nesterov SGD stores the look-ahead point:
    its parameters are p_t = theta_t + mu v_t.
    """
    lr, mu = 0.1, 0.9
    path, a = _quadratic_run(dict(lr=lr, momentum=mu, nesterov=True))
    theta, v = path[0].copy(), np.zeros(4)
    for k in range(1, len(path)):
        v = mu * v - lr * (a @ (theta + mu * v))
        theta = theta + v
        np.testing.assert_allclose(path[k], theta + mu * v, rtol=1e-10, atol=1e-12)


@pytest.mark.covers("O2")
@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.1), "lr=-0.1"),
    (dict(lr=0.1, momentum=-0.5), "momentum=-0.5"),
    (dict(lr=0.1, weight_decay=-1e-4), "weight_decay=-0.0001"),
    (dict(lr=0.1, nesterov=True), "Nesterov"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
])
def test_sgd_rejects_bad_hyperparameters(kwargs, message):
    p = dn.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="SGD") as info:
        SGD([p], **kwargs)
    assert message in str(info.value)


@pytest.mark.covers("O7")
def test_learning_rate_too_high_diverges_too_low_crawls():
    """On f = 1/2 p^T A p, gradient descent converges iff lr < 2 / lambda_max (here lambda_max = 5)."""
    def final_distance(lr):
        path, _ = _quadratic_run(dict(lr=lr), steps=40)
        return np.linalg.norm(path[-1]) / np.linalg.norm(path[0])

    assert final_distance(0.45) > 10  # lr > 2/5: the stiffest direction oscillates with growing amplitude
    assert final_distance(0.39) < 1  # just below the threshold: converges
    assert final_distance(1e-3) > 0.9  # far too small: barely moved after 40 steps
