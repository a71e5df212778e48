"""Figures for the loss entries (inventory L1-L3), computed with deepnotes' own losses and autograd.

Each curve is the loss from `deepnotes.nn.functional` evaluated elementwise (`reduction="none"`),
and each slope is the gradient `backward()` returns, so the figures show the library's
conventions (Smooth L1's `beta`, Huber's `delta`, `kl_div` taking log-probabilities).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import deepnotes as dn
import deepnotes.nn.functional as F


def _loss_and_grad(loss_fn, x):
    """Elementwise loss of `x` and d loss / d x, as float64 arrays."""
    t = dn.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    loss = loss_fn(t)
    loss.sum().backward()
    return loss.numpy().copy(), t.grad.numpy().copy()


def regression_losses(out_path):
    """L1: MSE, MAE (L1), Smooth L1 (beta = 1) and Huber (delta = 2) against the residual, with their gradients."""
    r = np.linspace(-4.0, 4.0, 801)
    zero = dn.zeros(r.shape, dtype=np.float64)
    curves = [
        ("MSE: r^2", lambda x: F.mse_loss(x, zero, reduction="none"), "C0"),
        ("L1 / MAE: |r|", lambda x: F.l1_loss(x, zero, reduction="none"), "C1"),
        ("SmoothL1 (beta=1)", lambda x: F.smooth_l1_loss(x, zero, reduction="none", beta=1.0), "C2--"),
        ("Huber (delta=2)", lambda x: F.huber_loss(x, zero, reduction="none", delta=2.0), "C3-."),
    ]
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    for label, fn, style in curves:
        loss, grad = _loss_and_grad(fn, r)
        left.plot(r, loss, style, lw=1.8, label=label)
        right.plot(r, grad, style, lw=1.8, label=label)
    left.set_ylim(-0.2, 6)
    left.set_title("loss(r), r = prediction - target")
    right.set_title("d loss / d prediction (from backward())")
    for ax in (left, right):
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlabel("residual r")
        ax.grid(alpha=0.3)
    left.legend(fontsize=8, loc="upper center")
    fig.savefig(Path(out_path))


def ce_vs_mse_gradient(out_path):
    """L2 / K40: gradient w.r.t. the logit z for target 1, sigmoid output: BCE gives s - 1, MSE 2(s - 1)s(1 - s)."""
    z = np.linspace(-8.0, 8.0, 801)
    one = dn.ones(z.shape, dtype=np.float64)
    _, g_ce = _loss_and_grad(lambda x: F.binary_cross_entropy_with_logits(x, one, reduction="none"), z)
    _, g_mse = _loss_and_grad(lambda x: F.mse_loss(F.sigmoid(x), one, reduction="none"), z)
    fig = Figure(figsize=(8.0, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(z, g_ce, "C0", lw=2, label="BCE with logits: s - 1")
    ax.plot(z, g_mse, "C3--", lw=2, label="MSE on sigmoid: 2(s - 1) s (1 - s)")
    ax.axvspan(-8, -3, color="0.9", label="confidently wrong (z << 0, target 1)")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("logit z (target y = 1)")
    ax.set_ylabel("d loss / d z")
    ax.set_title("Cross-entropy keeps a large gradient when the prediction is wrong; MSE's vanishes")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))


def cross_entropy_is_entropy_plus_kl(out_path):
    """L3: for a Bernoulli target p = 0.3, H(p, q) = H(p) + KL(p || q) as functions of the prediction q."""
    p = 0.3
    q = np.linspace(0.01, 0.99, 393)
    target = dn.tensor(np.stack([np.full_like(q, p), np.full_like(q, 1 - p)], axis=1))
    logq = dn.tensor(np.log(np.stack([q, 1 - q], axis=1)))
    kl = F.kl_div(logq, target, reduction="none").numpy().sum(axis=1)
    cross = -(target.numpy() * logq.numpy()).sum(axis=1)
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    fig = Figure(figsize=(8.0, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(q, cross, "C0", lw=2, label="cross-entropy H(p, q)")
    ax.plot(q, kl, "C1--", lw=2, label="KL(p || q) (kl_div)")
    ax.axhline(entropy, color="C2", ls=":", lw=1.5, label=f"entropy H(p) = {entropy:.3f} (constant in q)")
    ax.axvline(p, color="0.5", lw=0.8)
    ax.set_ylim(0, 2.5)
    ax.set_xlabel("predicted q = P(class 1)   (target p = 0.3)")
    ax.set_ylabel("nats")
    ax.set_title("H(p, q) = H(p) + KL(p || q): same minimiser q = p, same slope in q")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))


def class_weight_threshold(out_path):
    """L4: what a positive-class weight w does to the optimum of BCE on imbalanced 1-d data.

    Two Gaussian classes (positives 5%, mean 2; negatives mean 0; both unit variance). Minimising
    the expected weighted BCE  -[w y log q + (1 - y) log(1 - q)]  pointwise gives
    q = w p / (w p + 1 - p), p the true posterior: the logit moves up by log w, so the 0.5
    threshold moves towards the negatives. Here w = n_neg / n_pos = 19.
    """
    x = np.linspace(-3.0, 5.0, 801)
    prior, w = 0.05, 19.0
    pos = prior * np.exp(-0.5 * (x - 2.0) ** 2)
    neg = (1 - prior) * np.exp(-0.5 * x ** 2)
    p = pos / (pos + neg)
    logit = dn.tensor(np.log(p) - np.log1p(-p) + np.log(w))
    q = F.sigmoid(logit).numpy()  # = w p / (w p + 1 - p)
    fig = Figure(figsize=(8.0, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, p, "C0", lw=2, label="unweighted BCE optimum = true P(y=1 | x)")
    ax.plot(x, q, "C3--", lw=2, label=f"pos_weight = {w:g} optimum: logit + log {w:g}")
    for curve, style in ((p, "C0"), (q, "C3")):
        ax.axvline(x[np.argmax(curve >= 0.5)], color=style, ls=":", lw=1.2)
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.fill_between(x, 0, pos / pos.max() * 0.25, color="C1", alpha=0.25, label="positives (5%, scaled)")
    ax.fill_between(x, 0, neg / neg.max() * 0.25, color="0.6", alpha=0.25, label="negatives (95%, scaled)")
    ax.set_xlabel("x")
    ax.set_ylabel("predicted P(y = 1)")
    ax.set_title("Class weights move the 0.5 threshold into the majority class: more recall, less precision")
    ax.legend(fontsize=8, loc="center left")
    ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))
