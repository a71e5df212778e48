"""Stochastic gradient descent with momentum and Nesterov momentum (inventory O1, O2).

Full-batch gradient descent, SGD and mini-batch SGD are one rule; they differ
only in how many examples the loss (and so the gradient) averages over: all of
them, one, or a batch.  "Stochastic" means the gradient is an unbiased but
noisy estimate of the full-batch one.
"""
from __future__ import annotations

import numpy as np

from .. import fast
from .optimizer import Optimizer, check_hyperparameter


class SGD(Optimizer):
    r"""Gradient descent, optionally with (heavy-ball or Nesterov) momentum, as `torch.optim.SGD`.

    With gradient g_t (negated when `maximize`) and weight decay lambda:

        g_t <- g_t + lambda * p_{t-1}                       (L2 penalty lambda/2 ||p||^2)
        b_t  = g_t                                         at the first step
        b_t  = mu * b_{t-1} + (1 - dampening) * g_t        afterwards
        d_t  = g_t + mu * b_t   if nesterov,   else   b_t   (d_t = g_t when mu = 0)
        p_t  = p_{t-1} - lr * d_t

    Momentum is Polyak's heavy ball (1964); the Nesterov form is the
    reformulation of Sutskever et al. (2013), as in PyTorch.  Note the
    convention: PyTorch (and this) accumulate the *gradient* in the buffer and
    multiply by lr afterwards; Sutskever et al. write v = mu v - lr g.  The two
    agree for a constant lr and differ when a scheduler changes it.

    Args:
        params: parameters or param groups.
        lr: learning rate.
        momentum: momentum factor mu (0 disables momentum).
        dampening: scales the new gradient in the buffer by (1 - dampening).
        weight_decay: L2 penalty lambda, added to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend the objective instead of descending it.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        check_hyperparameter("SGD", "lr", lr, lr >= 0, ">= 0")
        check_hyperparameter("SGD", "momentum", momentum, momentum >= 0, ">= 0")
        check_hyperparameter("SGD", "weight_decay", weight_decay, weight_decay >= 0, ">= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, "
                f"got momentum={momentum!r}, dampening={dampening!r}"
            )
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, mu, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        shortcut = fast.get("sgd_axpby")  # the same rule in one BLAS pass per line, no temporaries
        if shortcut is not None and shortcut(p._data, grad, state.get("momentum_buffer"), lr, mu,
                                             float(group["dampening"]), wd, group["nesterov"], group["maximize"]):
            return
        g = -grad if group["maximize"] else grad
        if wd != 0:
            g = g + wd * p._data
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p._data.dtype)
            else:
                buf *= mu
                dampening = float(group["dampening"])
                buf += g if dampening == 0 else (1.0 - dampening) * g  # in place: no new array per step
            g = g + mu * buf if group["nesterov"] else buf
        p._data -= lr * g
