"""Adam, AdamW and NAdam: adaptive moment estimation (inventory O3, O4).

Adam keeps exponential moving averages of the gradient (first moment m) and
of its elementwise square (second moment v), corrects both for their zero
initialisation, and steps by m / sqrt(v): each coordinate gets its own step
size, roughly lr, whatever the scale of its gradient.

Weight decay, two ways (O4):

* L2 in the gradient (`Adam(weight_decay=wd)`): g <- g + wd * p.  The decay
  term then goes through the adaptive scaling: coordinates with large
  gradient history (large v) are decayed *less*.
* Decoupled (`AdamW`, Loshchilov & Hutter 2019): p <- p - lr * wd * p, apart
  from the adaptive step, so every weight decays at the same rate.

For plain SGD the two are the same update; for Adam they are not.
"""
from __future__ import annotations

import math

import numpy as np

from .. import fast
from .optimizer import Optimizer, check_hyperparameter


def _check_adam_family(name, lr, betas, eps, weight_decay):
    check_hyperparameter(name, "lr", lr, lr >= 0, ">= 0")
    check_hyperparameter(name, "eps", eps, eps >= 0, ">= 0")
    check_hyperparameter(name, "betas[0]", betas[0], 0 <= betas[0] < 1, "in [0, 1)")
    check_hyperparameter(name, "betas[1]", betas[1], 0 <= betas[1] < 1, "in [0, 1)")
    check_hyperparameter(name, "weight_decay", weight_decay, weight_decay >= 0, ">= 0")


def _decayed_gradient(p, grad, group, lr, wd):
    """The gradient the Adam family uses, with weight decay applied one of two ways.

    L2 (Adam): g + wd * p enters the moment estimates.  Decoupled (AdamW,
    Loshchilov & Hutter 2019): p *= 1 - lr * wd, and the moments see the raw gradient.
    """
    g = -grad if group["maximize"] else grad
    if wd != 0:
        if group["decoupled_weight_decay"]:
            p._data *= 1.0 - lr * wd
        else:
            g = g + wd * p._data
    return g


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with AMSGrad (Reddi et al., 2018), as `torch.optim.Adam`.

    With gradient g_t (negated when `maximize`) at step t = 1, 2, ...:

        g_t <- g_t + wd * p_{t-1}                 (L2; or p_{t-1} <- (1 - lr wd) p_{t-1} if decoupled)
        m_t  = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t  = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        vmax_t = max(vmax_{t-1}, v_t)              (amsgrad; then v_t := vmax_t below)
        p_t  = p_{t-1} - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    eps is added *after* the bias correction of sqrt(v), as in PyTorch (the
    paper writes m_hat / (sqrt(v_hat) + eps), the same thing).

    Args:
        params: parameters or param groups.
        lr: step size.
        betas: decay rates (beta1, beta2) of the two moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient added to the gradient (or
            decoupled decay when `decoupled_weight_decay`).
        amsgrad: normalise by the running maximum of v (AMSGrad).
        maximize: ascend the objective.
        decoupled_weight_decay: decay the weights directly (AdamW).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        _check_adam_family(type(self).__name__, lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        shortcut = fast.get("adam_axpby")  # the same step in fewer passes over memory, one temporary
        if shortcut is not None and shortcut(p._data, grad, state, lr, beta1, beta2, eps, wd, group["amsgrad"],
                                             group["maximize"], group["decoupled_weight_decay"]):
            return
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p._data)
            state["exp_avg_sq"] = np.zeros_like(p._data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p._data)
        state["step"] += 1
        t = state["step"]
        g = _decayed_gradient(p, grad, group, lr, wd)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * g * g
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = np.sqrt(v) / math.sqrt(1.0 - beta2**t) + eps
        p._data -= lr / (1.0 - beta1**t) * (m / denom)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as `torch.optim.AdamW`.

        p_{t-1} <- p_{t-1} - lr * wd * p_{t-1}      (before the Adam step, with no L2 in g_t)
        then the Adam update above.

    Same arguments as `Adam`; `weight_decay` defaults to 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


class NAdam(Optimizer):
    r"""Adam with Nesterov momentum (Dozat, 2016), as `torch.optim.NAdam`.

    The momentum coefficient warms up: mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),
    with running product Mu_t = mu_1 ... mu_t.  With m_t, v_t as in Adam:

        p_t = p_{t-1} - lr * (1 - mu_t) / (1 - Mu_t) * g_t / d_t
                      - lr * mu_{t+1} / (1 - Mu_t mu_{t+1}) * m_t / d_t,
        d_t = sqrt(v_t / (1 - beta2^t)) + eps.

    The first term is the current gradient, the second the momentum looked
    one step ahead (the Nesterov idea applied to Adam's first moment).

    Args:
        params, lr, betas, eps, weight_decay, maximize: as in `Adam` (lr defaults to 2e-3).
        momentum_decay: psi in the warm-up of mu_t.
        decoupled_weight_decay: decay weights directly as AdamW does (NAdamW).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        _check_adam_family("NAdam", lr, betas, eps, weight_decay)
        check_hyperparameter("NAdam", "momentum_decay", momentum_decay, momentum_decay >= 0, ">= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        psi = float(group["momentum_decay"])
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros_like(p._data)
            state["exp_avg_sq"] = np.zeros_like(p._data)
        state["step"] += 1
        t = state["step"]
        g = _decayed_gradient(p, grad, group, lr, wd)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * g * g
        denom = np.sqrt(v / (1.0 - beta2**t)) + eps
        p._data -= lr * (1.0 - mu) / (1.0 - mu_product) * (g / denom)
        p._data -= lr * mu_next / (1.0 - mu_product * mu_next) * (m / denom)
