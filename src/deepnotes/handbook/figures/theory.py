"""Figures for the tuning and theory entries (inventory H1, T1, T5).

`grid_vs_random` reproduces Bergstra & Bengio's (2012) picture with `deepnotes.tune`'s own grid and
random searchers' configurations; `universal_approximation` fits one hidden tanh layer of random
features by least squares (the output layer only), a fast stand-in for the trained networks of
claim K38 that shows the same thing: the error on the interval falls with width, not outside it.
The curse-of-dimensionality figure is `deepnotes.tune.dimensionality.plot_curse` itself.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from deepnotes.tune import GridSearch, RandomSearch, uniform


def important(x):
    """The objective's important direction: a narrow bump in x (y does not matter)."""
    return np.exp(-((np.asarray(x) - 0.37) ** 2) / 0.005)


def search_points(n=9, seed=0):
    """`n` configurations of a 2-d unit space proposed by the grid and by the random searcher."""
    space = {"x": uniform(0.0, 1.0), "y": uniform(0.0, 1.0)}
    grid = GridSearch(space, resolution=int(round(n ** 0.5)))
    rand = RandomSearch(space, seed=seed)
    pick = lambda s: np.array([[c["x"], c["y"]] for c in (s.ask() for _ in range(n))])  # noqa: E731
    return pick(grid), pick(rand)


def grid_vs_random(out_path):
    """H1: 9 grid trials test 3 distinct values of the important parameter; 9 random trials test 9."""
    grid, rand = search_points()
    t = np.linspace(0, 1, 400)
    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    for ax, pts, title in zip(fig.subplots(1, 2), (grid, rand), ("grid: 3 distinct x", "random: 9 distinct x")):
        ax.scatter(pts[:, 0], pts[:, 1], s=40, zorder=3)
        ax.plot(t, -0.12 + 0.1 * important(t), color="C2", lw=1.5, clip_on=False)
        ax.vlines(pts[:, 0], -0.12, -0.02, color="C0", lw=0.8, clip_on=False)
        ax.set(xlim=(0, 1), ylim=(-0.13, 1), xlabel="important hyperparameter x", ylabel="unimportant y",
               title=title)
        ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))


def random_feature_fit(width, x_train, y_train, x_eval, seed=0):
    """One hidden layer of `width` tanh units with random input weights; output weights by least squares."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(0, 3.0, width), rng.uniform(-3.0, 3.0, width)
    hidden = lambda x: np.tanh(np.outer(x, w) + b)  # noqa: E731
    coef, *_ = np.linalg.lstsq(np.c_[hidden(x_train), np.ones_like(x_train)], y_train, rcond=None)
    return np.c_[hidden(x_eval), np.ones_like(x_eval)] @ coef


def target(x):
    return np.sin(2 * x) + 0.5 * np.cos(5 * x)


def universal_approximation(out_path):
    """T1: one hidden tanh layer of width 3, 10, 50 fitted to f on [-2, 2]; shown on [-3, 3]."""
    x_train, x_eval = np.linspace(-2, 2, 200), np.linspace(-3, 3, 600)
    fig = Figure(figsize=(6.8, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(x_eval, target(x_eval), color="k", lw=2, label="f(x) = sin 2x + 0.5 cos 5x")
    for width in (3, 10, 50):
        ax.plot(x_eval, random_feature_fit(width, x_train, target(x_train), x_eval), lw=1.2, label=f"{width} units")
    ax.axvspan(-2, 2, color="0.93", zorder=0)
    ax.set(ylim=(-3, 3), xlabel="x (grey: the interval fitted)", title="wider fits the interval better, not outside it")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(Path(out_path))


def kkt_geometry(out_path):
    """T2: min (x1-2)^2 + (x2-1)^2 s.t. x1 + x2 <= 2, solved by minimize_augmented_lagrangian; at x* = (1.5, 0.5)
    the negative gradient of f equals mu times the constraint's normal (mu = 1)."""
    from deepnotes.optim import minimize_augmented_lagrangian

    f = lambda x: (x[0] - 2) ** 2 + (x[1] - 1) ** 2  # noqa: E731
    res = minimize_augmented_lagrangian(f, [0.0, 0.0], ineq=[lambda x: x[0] + x[1] - 2])
    x_star, mu = np.asarray(res.x, dtype=float), float(res.mu[0])
    g1, g2 = np.meshgrid(np.linspace(-0.5, 3.0, 200), np.linspace(-1.0, 2.5, 200))
    fig = Figure(figsize=(5.6, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.contour(g1, g2, (g1 - 2) ** 2 + (g2 - 1) ** 2, levels=[0.125, 0.5, 1, 2, 4], colors="0.55", linewidths=0.8)
    ax.fill_between(np.linspace(-0.5, 3, 2), -1, 2 - np.linspace(-0.5, 3, 2), color="C0", alpha=0.12)
    ax.plot([-0.5, 3.0], [2.5, -1.0], "C0", lw=1.5, label="g(x) = x1 + x2 - 2 = 0 (feasible below)")
    ax.plot(*x_star, "ko", label=f"x* = ({x_star[0]:.2f}, {x_star[1]:.2f}), mu = {mu:.2f}")
    ax.plot(2, 1, "x", color="C3", label="unconstrained minimum (2, 1)")
    grad_f = 2 * (x_star - np.array([2.0, 1.0]))
    # the two arrows coincide: -grad f (wide, red) is mu times grad g (thin, blue)
    ax.annotate("", x_star - 0.45 * grad_f, x_star, arrowprops={"arrowstyle": "->", "color": "C3", "lw": 4, "alpha": 0.6})
    ax.annotate("", x_star + 0.45 * mu * np.array([1.0, 1.0]), x_star, arrowprops={"arrowstyle": "->", "color": "C0"})
    ax.text(*(x_star + [0.45, 0.3]), "-grad f = mu grad g", fontsize=8)
    ax.set(xlim=(-0.5, 3), ylim=(-1, 2.5), aspect="equal", xlabel="x1", ylabel="x2", title="KKT at an active constraint")
    ax.legend(fontsize=7, loc="lower left")
    fig.savefig(Path(out_path))


def generative_vs_discriminative_curves(out_path):
    """T3: test accuracy of Gaussian naive Bayes (generative) and logistic regression (discriminative) against the
    number of training examples, from `deepnotes.generative.generative_vs_discriminative`."""
    from deepnotes.generative import generative_vs_discriminative

    fig = Figure(figsize=(9.0, 3.4), layout="constrained")
    for ax, dataset in zip(fig.subplots(1, 2), ("breast_cancer", "digits")):
        rows = generative_vs_discriminative(dataset=dataset)
        n = [r["n"] for r in rows]
        ax.semilogx(n, [r["generative"] for r in rows], "o-", label="naive Bayes: p(x | y) p(y)")
        ax.semilogx(n, [r["discriminative"] for r in rows], "s-", label="logistic regression: p(y | x)")
        ax.set(xlabel="training examples", ylabel="test accuracy", title=dataset)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.savefig(Path(out_path))
