"""Figures for the optimization entries of the handbook (inventory O1, O2, O3, O5, O7, O8, O9).

Each builder is a plain function `(out_path) -> None` that computes what it
draws with deepnotes itself (optimizers, schedulers, test functions) and
writes one image (PNG or SVG, by the extension of `out_path`) with
matplotlib's Agg backend.  Everything is seeded: two builds draw the same
picture.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...autograd.tensor import Tensor
from ...optim import SGD, Adagrad, Adam, LBFGS, Newton, RMSprop, lr_scheduler
from ...optim import testfunctions as T


def _figure(width, height, ncols=1):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _save(fig, out_path):
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)


def _least_squares(n=256, seed=0):
    """A 2-parameter linear regression y = a x + b + noise; returns x, y and the exact solution (a, b)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 1.0, size=n)
    y = 2.0 * x - 1.0 + rng.normal(0.0, 0.5, size=n)
    design = np.stack([x, np.ones(n)], axis=1)
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    return x, y, solution


def gd_sgd_minibatch_paths(out_path):
    """O1: full-batch GD, mini-batch SGD (B=16) and SGD (B=1) on one least-squares problem, same lr and epochs.

    Left: the paths on the loss contours.  Right: the full-data loss against
    the number of examples whose gradients were computed (the work done).
    """
    x, y, solution = _least_squares()
    n, lr, epochs = len(x), 0.05, 4
    rng = np.random.default_rng(1)

    def full_loss(a, b):
        return 0.5 * np.mean((a * x + b - y) ** 2)

    runs = {}
    for label, batch in (("GD (B = N)", n), ("mini-batch (B = 16)", 16), ("SGD (B = 1)", 1)):
        w = Tensor(np.array([-1.0, 2.5]), requires_grad=True)
        opt = SGD([w], lr=lr)
        points, seen, losses = [w.numpy().copy()], [0], [full_loss(*w.numpy())]
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                opt.zero_grad()
                pred = w[0] * Tensor(x[idx]) + w[1]
                (0.5 * ((pred - Tensor(y[idx])) ** 2).mean()).backward()
                opt.step()
                points.append(w.numpy().copy())
                seen.append(seen[-1] + len(idx))
                losses.append(full_loss(*w.numpy()))
        runs[label] = (np.array(points), np.array(seen), np.array(losses))

    fig, (left, right) = _figure(10.0, 4.2, ncols=2)
    ga, gb = np.meshgrid(np.linspace(-1.5, 3.0, 120), np.linspace(-2.5, 3.0, 120))
    grid = 0.5 * np.mean((ga[..., None] * x + gb[..., None] - y) ** 2, axis=-1)
    left.contour(ga, gb, grid, levels=np.geomspace(grid.min() + 1e-3, grid.max(), 25), cmap="viridis",
                 linewidths=0.6)
    for label, (points, seen, losses) in runs.items():
        left.plot(points[:, 0], points[:, 1], ".-", markersize=2, linewidth=0.8, label=f"{label}: {len(points) - 1} steps")
        right.plot(seen / n, losses, linewidth=1.0, label=label)
    left.plot(*solution, "*", color="black", markersize=12)
    left.set_xlabel("slope a")
    left.set_ylabel("intercept b")
    left.set_title(f"same lr = {lr}, {epochs} epochs")
    left.legend(fontsize=7)
    right.set_yscale("log")
    right.set_xlabel("epochs (examples seen / N)")
    right.set_ylabel("full-data loss")
    right.set_title("progress per unit of work")
    right.legend(fontsize=7)
    _save(fig, out_path)


def momentum_runs():
    """O2: 60 steps of gradient descent, heavy-ball and Nesterov momentum on a quadratic with condition number 50.

    GD zig-zags at lr * lambda_max = 1.8; Nesterov with mu = 0.8 is only stable for
    lr * lambda_max < 2 (1 + mu) / (1 + 2 mu) = 1.38, so it gets a smaller learning rate.

    Returns:
        (objective, {label: Trajectory}).
    """
    obj = T.quadratic(cond=50.0, dim=2)
    runs = {
        "GD lr=0.036": T.trajectory(lambda p: SGD(p, lr=0.036), obj, steps=60),
        "momentum 0.8, lr=0.036": T.trajectory(lambda p: SGD(p, lr=0.036, momentum=0.8), obj, steps=60),
        "Nesterov 0.8, lr=0.025": T.trajectory(lambda p: SGD(p, lr=0.025, momentum=0.8, nesterov=True), obj, steps=60),
    }
    return obj, runs


def momentum_paths(out_path):
    """O2: the paths of `momentum_runs` on the contours of the quadratic."""
    obj, runs = momentum_runs()
    T.plot_trajectories(obj, runs, out_path, resolution=120, title="60 steps on f = x^T A x / 2, cond(A) = 50")


def adaptive_paths(out_path):
    """O3: SGD, momentum, AdaGrad, RMSprop and Adam on Beale's function, 300 steps each from (1, 1.5)."""
    obj = T.beale()
    start = np.array([1.0, 1.5])
    paths = {
        "SGD lr=1e-3": T.trajectory(lambda p: SGD(p, lr=1e-3), obj, x0=start, steps=300),
        "momentum 0.9": T.trajectory(lambda p: SGD(p, lr=1e-3, momentum=0.9), obj, x0=start, steps=300),
        "AdaGrad lr=0.1": T.trajectory(lambda p: Adagrad(p, lr=0.1), obj, x0=start, steps=300),
        "RMSprop lr=0.01": T.trajectory(lambda p: RMSprop(p, lr=0.01), obj, x0=start, steps=300),
        "Adam lr=0.05": T.trajectory(lambda p: Adam(p, lr=0.05), obj, x0=start, steps=300),
    }
    T.plot_trajectories(obj, paths, out_path, bounds=((-0.5, 4.0), (-1.0, 2.0)), resolution=120,
                        title="Beale's function: minimum (3, 0.5) *, saddle (0, 1) x")


def second_order_runs():
    """O5: gradient descent (2000 steps), L-BFGS (60 iterations) and exact Newton (30) on Rosenbrock from (-1.2, 1).

    Returns:
        {label: Trajectory}.
    """
    obj = T.rosenbrock(2)
    return {
        "GD lr=1e-3": T.trajectory(lambda p: SGD(p, lr=1e-3), obj, steps=2000),
        "L-BFGS": T.trajectory(lambda p: LBFGS(p, lr=1, max_iter=1, line_search_fn="strong_wolfe"), obj, steps=60),
        "Newton (exact H)": T.trajectory(lambda p: Newton(p, lr=1.0, damping=1e-3), obj, steps=30),
    }


def second_order_paths(out_path):
    """O5: the paths of `second_order_runs` on the Rosenbrock valley; the losses against iterations."""
    runs = second_order_runs()
    fig, (left, right) = _figure(10.0, 4.2, ncols=2)
    gx, gy = np.meshgrid(np.linspace(-2.0, 2.0, 120), np.linspace(-1.0, 3.0, 120))
    values = (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2 + 1e-3
    left.contour(gx, gy, values, levels=np.geomspace(values.min(), values.max(), 25), cmap="viridis", linewidths=0.6)
    for label, run in runs.items():
        left.plot(run.points[:, 0], run.points[:, 1], ".-", markersize=2, linewidth=0.8, label=label)
        right.plot(np.arange(len(run.losses)), np.maximum(run.losses, 1e-16), linewidth=1.0,
                   label=f"{label} ({len(run.losses) - 1} iterations)")
    left.plot(1.0, 1.0, "*", color="black", markersize=12)
    left.set_title("Rosenbrock: paths from (-1.2, 1)")
    left.legend(fontsize=7)
    right.set_xscale("symlog", linthresh=10)
    right.set_yscale("log")
    right.set_xlabel("iteration")
    right.set_ylabel("f(x) - f*")
    right.set_title("iterations to converge")
    right.legend(fontsize=7)
    _save(fig, out_path)


def lr_schedules_and_rates(out_path):
    """O7: left, the learning rate of common schedules over 100 epochs; right, the loss of gradient
    descent on a quadratic (largest curvature 5) with a learning rate too low, good, and too high."""
    fig, (left, right) = _figure(10.0, 4.2, ncols=2)
    schedules = {
        "StepLR(30, 0.1)": lambda o: lr_scheduler.StepLR(o, step_size=30, gamma=0.1),
        "ExponentialLR(0.96)": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.96),
        "CosineAnnealingLR(100)": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=100),
        "warm restarts (T_0=25)": lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=25),
        "OneCycleLR": lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=100),
    }
    for label, make in schedules.items():
        opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1)
        sched = make(opt)
        rates = []
        for _ in range(100):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        left.plot(rates, linewidth=1.2, label=label)
    left.set_xlabel("epoch")
    left.set_ylabel("learning rate")
    left.set_title("learning-rate schedules (base lr 0.1)")
    left.legend(fontsize=7)

    obj = T.quadratic(cond=5.0, dim=2)
    for lr, label in ((0.01, "lr = 0.01: too low, crawls"), (0.3, "lr = 0.3: good"), (0.38, "lr = 0.38: oscillates, slow"),
                      (0.42, "lr = 0.42 > 2/5: diverges")):
        run = T.trajectory(lambda p, lr=lr: SGD(p, lr=lr), obj, steps=60)
        right.plot(np.maximum(run.losses, 1e-20), linewidth=1.2, label=label)
    right.set_yscale("log")
    right.set_xlabel("step")
    right.set_ylabel("loss")
    right.set_title("GD on a quadratic, curvatures 1 to 5: stable iff lr < 2/5", fontsize=10)
    right.legend(fontsize=7)
    _save(fig, out_path)


def minibatch_gradient_noise(sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), n=2000, dim=10, draws=400, seed=0):
    """The spread of the mini-batch gradient around the full gradient, measured and predicted (inventory O8).

    Logistic regression on `n` synthetic examples at a fixed random weight;
    per-example gradients come from one backward pass through `dim`-wide
    copies of the weights (row i of the gradient is example i's).  For each
    batch size B, `draws` batches are drawn without replacement.

    Returns:
        (sizes, measured, predicted): arrays (len(sizes),), the root mean
        square of |g_B - g_full| and sigma * sqrt((N - B) / (B (N - 1))).
    """
    from ...nn.functional import binary_cross_entropy_with_logits

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    y = (x @ rng.normal(size=dim) + rng.normal(size=n) > 0).astype(float)
    w = Tensor(np.tile(rng.normal(scale=0.1, size=dim), (n, 1)), requires_grad=True)
    binary_cross_entropy_with_logits((Tensor(x) * w).sum(1), Tensor(y), reduction="sum").backward()
    per_example = np.asarray(w.grad.numpy())  # (n, dim)
    full = per_example.mean(axis=0)
    sizes = np.asarray(sizes)
    measured = np.array([
        math.sqrt(np.mean([np.sum((per_example[rng.choice(n, size=b, replace=False)].mean(axis=0) - full) ** 2)
                           for _ in range(draws)]))
        for b in sizes])
    sigma = math.sqrt(np.sum((per_example - full) ** 2) / (n - 1))
    predicted = sigma * np.sqrt((n - sizes) / (sizes * (n - 1.0)))
    return sizes, measured, predicted


def batch_size_noise(out_path):
    """O8: the spread of the mini-batch gradient around the full gradient against the batch size B.

    See `minibatch_gradient_noise`: the standard deviation falls as
    sqrt((N - B) / (B (N - 1))), about 1 / sqrt(B) while B << N.
    """
    sizes, measured, predicted = minibatch_gradient_noise()
    fig, (ax,) = _figure(6.0, 4.2)
    ax.loglog(sizes, measured, "o", label="measured (400 batches per B)")
    ax.loglog(sizes, predicted, "-", label="sigma * sqrt((N-B) / (B (N-1)))")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("RMS of |g_B - g_full|")
    ax.set_title("mini-batch gradient noise, logistic regression, N = 2000")
    ax.legend(fontsize=8)
    _save(fig, out_path)


def landscape_minima_saddles(out_path):
    """O9: a non-convex double well (GD from two starts ends in different minima) and the saddle x^2 - y^2."""
    well = T.double_well(0.3)
    sad = T.saddle()
    from ...autograd.grad_mode import no_grad

    fig, axes = _figure(10.0, 4.2, ncols=2)
    for ax, obj, starts, title in (
        (axes[0], well, ([1.8, 1.0], [-1.8, 1.0], [0.2, -1.2]), "double well: global min *, local min o, saddle x"),
        (axes[1], sad, ([1.2, 0.0], [1.2, 1e-3], [1.2, -0.05]), "x^2 - y^2: GD stalls at the saddle only from y = 0"),
    ):
        (x_lo, x_hi), (y_lo, y_hi) = obj.bounds
        gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, 120), np.linspace(y_lo, y_hi, 120))
        with no_grad():
            values = obj(Tensor(np.stack([gx, gy], axis=-1))).numpy()
        ax.contour(gx, gy, values, levels=30, cmap="viridis", linewidths=0.6)
        for x0 in starts:
            run = T.trajectory(lambda p: SGD(p, lr=0.05), obj, x0=x0, steps=150)
            pts = run.points[(np.abs(run.points) < 3).all(axis=1)]
            ax.plot(pts[:, 0], pts[:, 1], ".-", markersize=2, linewidth=0.8, label=f"GD from {tuple(x0)}")
        for marker, points in (("*", obj.minimizers), ("o", obj.local_minimizers), ("x", obj.saddles)):
            for p in points:
                ax.plot(p[0], p[1], marker, color="black", markersize=10)
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    _save(fig, out_path)


BUILDERS = {
    "O1": gd_sgd_minibatch_paths,
    "O2": momentum_paths,
    "O3": adaptive_paths,
    "O5": second_order_paths,
    "O7": lr_schedules_and_rates,
    "O8": batch_size_noise,
    "O9": landscape_minima_saddles,
}
