"""Figures for the regularization entries (inventory R1-R3, R6), computed with deepnotes.

* `dropout_masks` -- the masks `nn.Dropout` and `nn.LockedDropout` draw for a (T, H) sequence: a new mask
  per time step against one mask shared over time (R1, R2);
* `l1_l2_shrinkage` -- the proximal maps of the L1 and L2 penalties: soft thresholding sets every
  |z| <= lambda exactly to 0, ridge only divides by 1 + lambda (R3);
* `bias_variance` -- squared bias and variance of polynomial fits over many training sets, by degree (R6).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import deepnotes as dn
import deepnotes.nn as nn


def save_log_plot(fig, ax, out_path, xlabel, title, ylabel=None) -> None:
    """Finish a one-axes plot with a log y axis (labels, grid, legend) and write it to `out_path`."""
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(Path(out_path))


def sequence_masks(p=0.5, steps=12, hidden=16, seed=0):
    """The keep masks (steps, hidden) of `nn.Dropout` and of `nn.LockedDropout` on one sequence of ones."""
    dn.manual_seed(seed)
    x = dn.ones(steps, 1, hidden)  # (T, N, H), N = 1
    plain = nn.Dropout(p)(x).numpy()[:, 0] != 0
    locked = nn.LockedDropout(p)(x).numpy()[:, 0] != 0
    return plain, locked


def dropout_masks(out_path):
    """R1/R2: dropout draws a new mask at every time step; locked (variational) dropout keeps one per sequence."""
    plain, locked = sequence_masks()
    fig = Figure(figsize=(8.4, 3.4), layout="constrained")
    for ax, mask, title in zip(fig.subplots(1, 2), (plain, locked),
                               ("nn.Dropout(0.5): a new mask every step", "nn.LockedDropout(0.5): one mask for all steps")):
        ax.imshow(mask.T, cmap="Greys", vmin=0, vmax=1.6, aspect="auto", interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("time step t")
        ax.set_ylabel("hidden unit")
    fig.suptitle("kept units (dark), training mode; both are the identity in eval mode", fontsize=10)
    fig.savefig(Path(out_path))


def proximal_maps(z, lam):
    """argmin_w 0.5 (w - z)^2 + lam |w| (soft thresholding) and + 0.5 lam w^2 (ridge), elementwise."""
    z = np.asarray(z, dtype=np.float64)
    return np.sign(z) * np.maximum(np.abs(z) - lam, 0.0), z / (1.0 + lam)


def l1_l2_shrinkage(out_path):
    """R3: the L1 proximal map zeroes a whole interval of inputs, the L2 map only shrinks them."""
    z = np.linspace(-3.0, 3.0, 601)
    lam = 1.0
    l1, l2 = proximal_maps(z, lam)
    fig = Figure(figsize=(5.6, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.plot(z, z, color="0.7", lw=1, ls=":", label="no penalty: w = z")
    ax.plot(z, l1, "C3", lw=2, label=r"L1: soft threshold, $\lambda = 1$")
    ax.plot(z, l2, "C0", lw=2, label=r"L2: $z / (1 + \lambda)$, $\lambda = 1$")
    ax.axvspan(-lam, lam, color="C3", alpha=0.08, label=r"$|z| \leq \lambda$: L1 gives exactly 0")
    ax.set_xlabel("z (the unpenalized solution)")
    ax.set_ylabel("w* (the penalized solution)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.savefig(Path(out_path))


def bias_variance_by_degree(degrees=(0, 1, 2, 3, 5, 7, 9), trials=200, n=30, noise=0.3, seed=0):
    """Squared bias and variance, averaged over [0, 1], of least-squares polynomials fitted to
    ``n`` noisy samples of sin(2 pi x), over ``trials`` training sets; returns three arrays."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, 1.0, 50)
    truth = np.sin(2 * np.pi * grid)
    bias2, variance = [], []
    for degree in degrees:
        fits = []
        for _ in range(trials):
            x = rng.uniform(0.0, 1.0, n)
            y = np.sin(2 * np.pi * x) + rng.normal(0.0, noise, n)
            fits.append(np.polyval(np.polyfit(x, y, degree), grid))
        fits = np.array(fits)
        bias2.append(float(((fits.mean(axis=0) - truth) ** 2).mean()))
        variance.append(float(fits.var(axis=0).mean()))
    return np.array(degrees), np.array(bias2), np.array(variance)


def bias_variance(out_path):
    """R6: bias^2 falls and variance rises with the polynomial degree; their sum plus noise is U-shaped."""
    degrees, bias2, variance = bias_variance_by_degree()
    noise2 = 0.3 ** 2
    fig = Figure(figsize=(5.8, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.plot(degrees, bias2, "o-", color="C0", label="bias²")
    ax.plot(degrees, variance, "s-", color="C3", label="variance")
    ax.plot(degrees, bias2 + variance + noise2, "^-", color="k", label="expected test error (+ noise 0.09)")
    save_log_plot(fig, ax, out_path, "polynomial degree (capacity)", "fits to 30 noisy samples of sin(2πx), 200 training sets")
