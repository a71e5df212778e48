"""Adam, AdamW and NAdam against torch.optim over whole trajectories; L2 vs decoupled decay (O3, O4)."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.optim import SGD, Adam, AdamW, NAdam
from tests.optim.trajectory import Run, compare_trajectories, problem

SETTINGS = {
    "Adam": {
        "plain": dict(lr=0.01),
        "betas_eps": dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3),
        "weight_decay": dict(lr=0.01, weight_decay=0.1),
        "amsgrad": dict(lr=0.01, amsgrad=True),
        "amsgrad_weight_decay_maximize": dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True),
    },
    "AdamW": {
        "default_decay": dict(lr=0.01),
        "strong_decay": dict(lr=0.02, weight_decay=0.5, betas=(0.85, 0.95)),
        "amsgrad_maximize": dict(lr=0.01, amsgrad=True, maximize=True),
    },
    # NAdam at lr=0.01 on this problem enters a regime (late, at ~80 steps) where its sign-like
    # g / sqrt(v) term doubles any rounding difference each step; at lr=5e-3 it stays at ~1e-14.
    "NAdam": {
        "plain": dict(lr=0.005),
        "weight_decay": dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01),
        "decoupled": dict(lr=0.005, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    },
}
CASES = [(cls, name) for cls, settings in SETTINGS.items() for name in settings]


@pytest.mark.covers("O3", "O4")
@pytest.mark.parametrize("cls, name", CASES)
def test_adam_family_trajectory_matches_torch(cls, name):
    kwargs = SETTINGS[cls][name]
    compare_trajectories(lambda optim, params: getattr(optim, cls)(params, **kwargs),
                         negate_loss=kwargs.get("maximize", False))


@pytest.mark.covers("O3")
@pytest.mark.parametrize("cls", ["Adam", "AdamW", "NAdam"])
def test_adam_family_param_groups_with_their_own_options(cls):
    groups = [{"params": ["W1", "b1"], "lr": 0.03, "betas": (0.5, 0.9)},
              {"params": ["W2", "b2"], "weight_decay": 0.2}]
    compare_trajectories(lambda optim, params: getattr(optim, cls)(params, lr=0.01), groups=groups, steps=50)


@pytest.mark.covers("O3")
def test_adam_first_step_moves_every_coordinate_by_lr():
    """Bias correction makes the first step lr * g / (|g| + eps'): about lr per coordinate, whatever |g|."""
    p = dn.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = Adam([p], lr=0.1)
    (p * dn.tensor(np.array([1e-3, 1.0, 1e3]))).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.data, [0.9, -2.1, 2.9], rtol=1e-4)


def _final_weights(optimizer, penalty=0.0, steps=60):
    init, x, t = problem()
    run = Run("dn", init, x, t, optimizer, penalty=penalty)
    for _ in range(steps):
        run.step()
    return np.concatenate([v.ravel() for v in run.snapshot().values()])


@pytest.mark.covers("O4")
def test_sgd_weight_decay_is_exactly_an_l2_penalty_and_exactly_decoupled_decay():
    """For SGD the three are one update: weight_decay=wd, loss + wd/2 ||w||^2, and p <- (1 - lr wd) p - lr g."""
    lr, wd = 0.1, 0.05
    builtin = _final_weights(lambda optim, params: optim.SGD(params, lr=lr, weight_decay=wd))
    penalised = _final_weights(lambda optim, params: optim.SGD(params, lr=lr), penalty=wd)
    np.testing.assert_allclose(builtin, penalised, rtol=1e-12, atol=1e-14)

    class DecoupledSGD(SGD):
        def _update(self, p, grad, state, group):
            p.data *= 1 - group["lr"] * wd
            super()._update(p, grad, state, group)

    decoupled = _final_weights(lambda optim, params: DecoupledSGD(params, lr=lr))
    np.testing.assert_allclose(builtin, decoupled, rtol=1e-12, atol=1e-14)


@pytest.mark.covers("O4")
def test_adam_l2_differs_from_adamw_decoupled_decay():
    """For Adam, L2 in the gradient (weight_decay) equals an explicit penalty but not AdamW's decoupled decay."""
    lr, wd = 0.01, 0.5
    l2 = _final_weights(lambda optim, params: optim.Adam(params, lr=lr, weight_decay=wd))
    penalised = _final_weights(lambda optim, params: optim.Adam(params, lr=lr), penalty=wd)
    decoupled = _final_weights(lambda optim, params: optim.AdamW(params, lr=lr, weight_decay=wd))
    no_decay = _final_weights(lambda optim, params: optim.Adam(params, lr=lr))
    np.testing.assert_allclose(l2, penalised, rtol=1e-9, atol=1e-12)
    gap = np.linalg.norm(l2 - decoupled)
    assert gap > 0.1 * np.linalg.norm(l2 - no_decay), gap  # not a rounding difference: a different method


@pytest.mark.covers("O4")
def test_adamw_decays_weights_at_the_same_rate_whatever_their_gradient_scale():
    """With a zero gradient history AdamW still shrinks p by (1 - lr wd) per step; Adam's L2 step is lr-sized."""
    lr, wd = 0.01, 0.1
    for cls, expected in [(AdamW, 5.0 * (1 - lr * wd) ** 3), (Adam, 5.0 - 3 * lr)]:
        p = dn.tensor(np.array([5.0]), requires_grad=True)
        opt = cls([p], lr=lr, weight_decay=wd)
        for _ in range(3):
            p.grad = np.zeros(1)
            opt.step()
        # Adam normalises the decay gradient wd * p by its own RMS: each step moves ~lr, not lr * wd * p.
        np.testing.assert_allclose(p.data, [expected], rtol=1e-6)


@pytest.mark.covers("O3", "O4")
@pytest.mark.parametrize("cls", [Adam, AdamW, NAdam])
@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1e-3), "lr=-0.001"),
    (dict(betas=(1.0, 0.999)), "betas[0]=1.0"),
    (dict(betas=(0.9, -0.1)), "betas[1]=-0.1"),
    (dict(eps=-1e-8), "eps=-1e-08"),
    (dict(weight_decay=-0.1), "weight_decay=-0.1"),
])
def test_adam_family_rejects_bad_hyperparameters(cls, kwargs, message):
    with pytest.raises(ValueError, match=cls.__name__) as info:
        cls([dn.zeros(2, requires_grad=True)], **kwargs)
    assert message in str(info.value)
