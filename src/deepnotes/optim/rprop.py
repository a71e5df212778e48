"""Rprop and ASGD, as `torch.optim` (inventory O1)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameter


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller & Braun, 1993), as `torch.optim.Rprop`: only the gradient's sign.

    Each coordinate keeps its own step size s: where the gradient keeps its sign s grows by
    eta_plus, where it flips s shrinks by eta_minus (and that coordinate skips this step, its
    remembered gradient set to 0), clamped to `step_sizes`; then p <- p - sign(g) * s.
    Meant for full-batch training (mini-batch noise flips the signs).
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        check_hyperparameter("Rprop", "lr", lr, lr >= 0, ">= 0")
        check_hyperparameter("Rprop", "etas", etas, 0 < etas[0] < 1 < etas[1], "0 < eta_minus < 1 < eta_plus")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize))

    def _update(self, p, grad, state, group):
        if not state:
            state.update(step=0, prev=np.zeros_like(p._data), step_size=np.full_like(p._data, float(group["lr"])))
        state["step"] += 1
        eta_minus, eta_plus = (float(e) for e in group["etas"])
        low, high = (float(s) for s in group["step_sizes"])
        g = -grad if group["maximize"] else np.array(grad, copy=True)
        agreement = np.sign(g * state["prev"])
        factor = np.where(agreement > 0, eta_plus, np.where(agreement < 0, eta_minus, 1.0)).astype(p._data.dtype)
        state["step_size"] = np.clip(state["step_size"] * factor, low, high)
        g = np.where(agreement < 0, 0.0, g).astype(p._data.dtype)
        p._data -= np.sign(g) * state["step_size"]
        state["prev"] = g


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992), as `torch.optim.ASGD`.

        p   <- p (1 - lambd eta) - eta g
        ax  <- ax + mu (p - ax)                 (the running average; ax = p while mu = 1)
        eta <- lr / (1 + lambd lr t)^alpha,  mu <- 1 / max(1, t - t0)

    The averaged weights are `optimizer.state[p]["ax"]`; the parameters themselves follow SGD.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_hyperparameter("ASGD", "lr", lr, lr >= 0, ">= 0")
        check_hyperparameter("ASGD", "weight_decay", weight_decay, weight_decay >= 0, ">= 0")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        lr, lambd = float(group["lr"]), float(group["lambd"])
        if not state:
            state.update(step=0, eta=lr, mu=1.0, ax=np.zeros_like(p._data))
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if float(group["weight_decay"]) != 0:
            g = g + float(group["weight_decay"]) * p._data
        eta = state["eta"]
        p._data *= 1 - lambd * eta
        p._data -= eta * g
        if state["mu"] != 1:
            state["ax"] += (p._data - state["ax"]) * state["mu"]
        else:
            state["ax"] = p._data.copy()
        state["eta"] = lr / ((1 + lambd * lr * state["step"]) ** float(group["alpha"]))
        state["mu"] = 1 / max(1, state["step"] - float(group["t0"]))
