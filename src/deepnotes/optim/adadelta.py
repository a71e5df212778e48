"""Adadelta, Adamax and RAdam: three adaptive step rules, as `torch.optim` (inventory O3)."""
from __future__ import annotations

import math

import numpy as np

from .adam import _check_adam_family, _decayed_gradient
from .optimizer import Optimizer, check_hyperparameter


def _signed_grad(p, grad, group):
    """The gradient, negated when maximizing, plus the L2 penalty wd * p (a new array)."""
    g = -grad if group["maximize"] else grad
    wd = float(group["weight_decay"])
    return g + wd * p._data if wd != 0 else g


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as `torch.optim.Adadelta`: steps sized by the ratio of two running RMSs.

        v_t     = rho v_{t-1} + (1 - rho) g_t^2
        delta_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t     = rho u_{t-1} + (1 - rho) delta_t^2
        p_t     = p_{t-1} - lr * delta_t

    The step has the units of the parameter (the RMS of past steps over the RMS of gradients),
    so lr = 1 is the paper's rule.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_hyperparameter("Adadelta", "lr", lr, lr >= 0, ">= 0")
        check_hyperparameter("Adadelta", "rho", rho, 0 <= rho <= 1, "in [0, 1]")
        check_hyperparameter("Adadelta", "eps", eps, eps >= 0, ">= 0")
        check_hyperparameter("Adadelta", "weight_decay", weight_decay, weight_decay >= 0, ">= 0")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(self, p, grad, state, group):
        if not state:
            state.update(step=0, square_avg=np.zeros_like(p._data), acc_delta=np.zeros_like(p._data))
        state["step"] += 1
        rho, eps = float(group["rho"]), float(group["eps"])
        g = _signed_grad(p, grad, group)
        state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g * g
        delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(state["square_avg"] + eps) * g
        state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
        p._data -= float(group["lr"]) * delta


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7.1), as `torch.optim.Adamax`: Adam with an infinity norm.

        m_t = beta1 m_{t-1} + (1 - beta1) g_t
        u_t = max(beta2 u_{t-1}, |g_t| + eps)
        p_t = p_{t-1} - lr / (1 - beta1^t) * m_t / u_t
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_adam_family("Adamax", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p._data), exp_inf=np.zeros_like(p._data))
        state["step"] += 1
        beta1, beta2 = (float(b) for b in group["betas"])
        g = _signed_grad(p, grad, group)
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_inf"] = np.maximum(beta2 * state["exp_inf"], np.abs(g) + float(group["eps"]))
        p._data -= float(group["lr"]) / (1 - beta1 ** state["step"]) * state["exp_avg"] / state["exp_inf"]


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al., 2020), as `torch.optim.RAdam`.

    Adam's adaptive step has a large variance in the first steps (few squared gradients
    averaged).  With rho_inf = 2 / (1 - beta2) - 1 and rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t),
    the step is plain momentum SGD while rho_t <= 5, and Adam's step times the rectification
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)) afterwards:

        m_hat = m_t / (1 - beta1^t)
        p_t   = p_{t-1} - lr * m_hat * r_t * sqrt(1 - beta2^t) / (sqrt(v_t) + eps)     (rho_t > 5)
        p_t   = p_{t-1} - lr * m_hat                                                  (otherwise)

    `decoupled_weight_decay=True` shrinks the weights directly (p *= 1 - lr wd), as AdamW.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_adam_family("RAdam", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=bool(decoupled_weight_decay), maximize=maximize))

    def _update(self, p, grad, state, group):
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p._data), exp_avg_sq=np.zeros_like(p._data))
        state["step"] += 1
        t, lr, wd = state["step"], float(group["lr"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        g = _decayed_gradient(p, grad, group, lr, wd)
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t
        m_hat = state["exp_avg"] / bias1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(bias2) / (np.sqrt(state["exp_avg_sq"]) + float(group["eps"]))
            p._data -= m_hat * lr * adaptive * rect
        else:
            p._data -= m_hat * lr
