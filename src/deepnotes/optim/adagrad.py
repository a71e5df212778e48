"""AdaGrad: per-coordinate step sizes from the accumulated squared gradients (inventory O3)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameter


class Adagrad(Optimizer):
    r"""AdaGrad (Duchi, Hazan & Singer, 2011), as `torch.optim.Adagrad`.

    With gradient g_t (negated when `maximize`) at step t = 1, 2, ...:

        g_t  <- g_t + wd * p_{t-1}                      (L2 penalty)
        lr_t  = lr / (1 + (t - 1) * lr_decay)
        s_t   = s_{t-1} + g_t^2                         (s_0 = initial_accumulator_value)
        p_t   = p_{t-1} - lr_t * g_t / (sqrt(s_t) + eps)

    Rarely-updated coordinates (small s) take large steps, frequent ones small
    steps: good for sparse features.  Because s only grows, the effective step
    size decays towards zero, which is what RMSprop and Adam fix.

    Args:
        params: parameters or param groups.
        lr: learning rate.
        lr_decay: the learning rate decays as lr / (1 + (t - 1) lr_decay).
        weight_decay: L2 penalty coefficient added to the gradient.
        initial_accumulator_value: starting value of the sum of squares.
        eps: added to the denominator for numerical stability.
        maximize: ascend the objective.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        check_hyperparameter("Adagrad", "lr", lr, lr >= 0, ">= 0")
        check_hyperparameter("Adagrad", "lr_decay", lr_decay, lr_decay >= 0, ">= 0")
        check_hyperparameter("Adagrad", "weight_decay", weight_decay, weight_decay >= 0, ">= 0")
        check_hyperparameter("Adagrad", "initial_accumulator_value", initial_accumulator_value,
                             initial_accumulator_value >= 0, ">= 0")
        check_hyperparameter("Adagrad", "eps", eps, eps >= 0, ">= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p._data, float(group["initial_accumulator_value"]))
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if wd != 0:
            g = g + wd * p._data
        step_size = lr / (1 + (state["step"] - 1) * float(group["lr_decay"]))
        state["sum"] += g * g
        p._data -= step_size * (g / (np.sqrt(state["sum"]) + float(group["eps"])))
