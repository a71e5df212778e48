"""Hypergradients: the gradient of the validation loss with respect to a hyperparameter.

Training is a function of its hyperparameters: K steps of gradient descent on

    L_train(w; lam) = mean((X w - y)^2) + exp(log_lam) * |w|^2,     w_{k+1} = w_k - eta * dL_train/dw (w_k)

give weights w_K(log_lam, eta), and the validation loss L_val(w_K) is a function of log_lam
and of the learning rate eta. Unrolling the K steps with ``create_graph=True`` (so each step's
gradient is itself part of the graph) and backpropagating L_val through all of them gives
dL_val/dlog_lam and dL_val/dlog_eta exactly (Maclaurin, Duvenaud & Adams 2015, "Gradient-based
hyperparameter optimization through reversible learning", who also reverse the trajectory to
save memory; here it is simply kept). Memory grows with K; the check is a finite difference.

`tune_hyperparameters` takes a few gradient steps on (log_lam, log_eta) with these hypergradients.
"""
from __future__ import annotations

import numpy as np

import deepnotes as dn
from deepnotes.autograd import grad


def _mse(pred, y):
    diff = pred - y
    return (diff * diff).mean()


def unrolled_validation_loss(log_lam, log_lr, data, steps=20, create_graph=True):
    """L_val(w_K) after ``steps`` unrolled gradient-descent steps from w_0 = data["w0"].

    log_lam, log_lr: scalar Tensors (requires_grad for hypergradients). data: dict of float64 arrays
    x_train (n, p), y_train (n,), x_val (m, p), y_val (m,), w0 (p,).
    """
    x, y = dn.tensor(data["x_train"]), dn.tensor(data["y_train"])
    w = dn.tensor(data["w0"], requires_grad=True)
    lam, lr = log_lam.exp(), log_lr.exp()
    for _ in range(int(steps)):
        loss = _mse(x @ w, y) + lam * (w * w).sum()
        (g,) = grad(loss, w, create_graph=create_graph)
        w = w - lr * g
    return _mse(dn.tensor(data["x_val"]) @ w, dn.tensor(data["y_val"]))


def hypergradient(log_lam, log_lr, data, steps=20):
    """(L_val, dL_val/dlog_lam, dL_val/dlog_lr) by reverse mode through the unrolled training."""
    a = dn.tensor(np.float64(log_lam), requires_grad=True)
    b = dn.tensor(np.float64(log_lr), requires_grad=True)
    val = unrolled_validation_loss(a, b, data, steps)
    ga, gb = grad(val, [a, b])
    return float(val.item()), float(ga.item()), float(gb.item())


def finite_difference(log_lam, log_lr, data, steps=20, eps=1e-5):
    """The same two derivatives by central differences (no graph)."""

    def f(a, b):
        with dn.enable_grad():
            return unrolled_validation_loss(dn.tensor(np.float64(a)), dn.tensor(np.float64(b)), data, steps,
                                            create_graph=False).item()

    return ((f(log_lam + eps, log_lr) - f(log_lam - eps, log_lr)) / (2 * eps),
            (f(log_lam, log_lr + eps) - f(log_lam, log_lr - eps)) / (2 * eps))


def regression_task(n=40, p=30, noise=0.5, seed=0):
    """An over-parameterized linear regression (p close to n) where the L2 coefficient matters."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(p) * (rng.random(p) < 0.3)
    x_tr, x_val = rng.standard_normal((n, p)), rng.standard_normal((200, p))
    return {"x_train": x_tr, "y_train": x_tr @ w_true + noise * rng.standard_normal(n),
            "x_val": x_val, "y_val": x_val @ w_true + noise * rng.standard_normal(200), "w0": np.zeros(p)}


def tune_hyperparameters(data, log_lam=-6.0, log_lr=np.log(0.02), steps=20, outer_steps=10, meta_lr=0.5):
    """Gradient descent on (log_lam, log_lr) with the hypergradients (each clipped to [-1, 1]);
    returns the history of (log_lam, log_lr, validation loss), ``outer_steps + 1`` rows."""
    history = []
    for _ in range(int(outer_steps)):
        val, ga, gb = hypergradient(log_lam, log_lr, data, steps)
        history.append((log_lam, log_lr, val))
        log_lam = float(log_lam - meta_lr * np.clip(ga, -1.0, 1.0))  # clipped: a step of at most meta_lr
        log_lr = float(log_lr - meta_lr * np.clip(gb, -1.0, 1.0))
    history.append((log_lam, log_lr, hypergradient(log_lam, log_lr, data, steps)[0]))
    return history
