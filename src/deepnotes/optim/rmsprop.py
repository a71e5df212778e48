"""RMSprop: divide the gradient by a running root-mean-square of recent gradients (inventory O3)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameter


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, Coursera "Neural Networks for Machine Learning", lecture 6e, 2012), as `torch.optim.RMSprop`.

    With gradient g_t (negated when `maximize`):

        g_t <- g_t + wd * p_{t-1}                       (L2 penalty)
        s_t  = alpha * s_{t-1} + (1 - alpha) * g_t^2
        a_t  = alpha * a_{t-1} + (1 - alpha) * g_t       (centered only)
        r_t  = sqrt(s_t - a_t^2) + eps   if centered,   else   sqrt(s_t) + eps
        b_t  = momentum * b_{t-1} + g_t / r_t,   p_t = p_{t-1} - lr * b_t    (momentum > 0)
        p_t  = p_{t-1} - lr * g_t / r_t                                       (momentum = 0)

    Unlike AdaGrad's ever-growing sum, the moving average forgets old
    gradients, so the step size does not decay to zero.  The centered variant
    (Graves, 2013) normalises by an estimate of the gradient's variance.
    eps is added outside the square root, as in PyTorch (TensorFlow adds it
    inside).

    Args:
        params: parameters or param groups.
        lr: learning rate.
        alpha: smoothing constant of the moving averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient added to the gradient.
        momentum: momentum factor applied to the normalised gradient.
        centered: normalise by the estimated variance instead of the second moment.
        maximize: ascend the objective.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        check_hyperparameter("RMSprop", "lr", lr, lr >= 0, ">= 0")
        check_hyperparameter("RMSprop", "eps", eps, eps >= 0, ">= 0")
        check_hyperparameter("RMSprop", "alpha", alpha, alpha >= 0, ">= 0")
        check_hyperparameter("RMSprop", "momentum", momentum, momentum >= 0, ">= 0")
        check_hyperparameter("RMSprop", "weight_decay", weight_decay, weight_decay >= 0, ">= 0")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, alpha, wd = float(group["lr"]), float(group["alpha"]), float(group["weight_decay"])
        momentum = float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p._data)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if wd != 0:
            g = g + wd * p._data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * g * g
        if group["centered"]:
            if "grad_avg" not in state:
                state["grad_avg"] = np.zeros_like(p._data)
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1.0 - alpha) * g
            rms = np.sqrt(square_avg - grad_avg * grad_avg) + float(group["eps"])
        else:
            rms = np.sqrt(square_avg) + float(group["eps"])
        if momentum > 0:
            if "momentum_buffer" not in state:  # momentum may be switched on later (OneCycleLR)
                state["momentum_buffer"] = np.zeros_like(p._data)
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / rms
            p._data -= lr * buf
        else:
            p._data -= lr * (g / rms)
