"""Shared helpers for the optimization claims (K09-K17, K28, K44): training loops, measures, figures.

Everything here uses the public API only (`deepnotes`, `deepnotes.nn`, `deepnotes.optim`), as a
user's script would. Registers no claim (the loader imports it, but it defines none).

Conventions: data order is drawn from ``np.random.default_rng(seed)`` so paired arms see the same
batches; models are built right after ``dn.manual_seed(seed)`` so paired arms share an init.
"""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn

#: A loss that overflowed or became NaN is reported as this (finite) value.
LOSS_CAP = 1e6


# ----------------------------------------------------------------------------- models and data
def pick(budget, tiny, quick, full):
    """The value of a size for `budget` ('tiny', 'quick' or 'full')."""
    table = {"tiny": tiny, "quick": quick, "full": full}
    if budget not in table:
        raise ValueError(f"pick: budget must be 'tiny', 'quick' or 'full', got {budget!r}")
    return table[budget]


def mlp(sizes, activation=nn.ReLU, dtype=None):
    """nn.Sequential of Linear layers `sizes[0] -> ... -> sizes[-1]` with `activation` between them."""
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least an input and an output size, got {sizes}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    model = nn.Sequential(*layers)
    return model.double() if dtype == np.float64 else model


def head(split, n):
    """A view of a data split with only its first n training rows (test rows unchanged), for tiny budgets."""
    return SimpleNamespace(x_train=split.x_train[:n], y_train=split.y_train[:n], x_test=split.x_test,
                           y_test=split.y_test)


def epoch_batches(n, batch_size, rng):
    """The index arrays of one shuffled epoch over n samples (the last batch may be smaller)."""
    if batch_size < 1:
        raise ValueError(f"epoch_batches: batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def clean(value, cap=LOSS_CAP):
    """A loss as a finite float: NaN and anything above `cap` become `cap`."""
    value = float(value)
    return cap if not math.isfinite(value) or value > cap else value


def full_loss(model, loss_fn, x, y):
    """The loss over the whole arrays (x, y), without building a graph; capped by `clean`."""
    with dn.no_grad():
        with np.errstate(all="ignore"):
            return clean(loss_fn(model(dn.tensor(x)), dn.tensor(y)).item())


def accuracy(model, x, y):
    """Fraction of rows whose argmax logit is the label (one logit column: sign vs {0, 1} labels)."""
    with dn.no_grad():
        out = model(dn.tensor(x)).numpy()
    pred = (out[:, 0] > 0).astype(np.int64) if out.shape[1] == 1 else out.argmax(1)
    return float(np.mean(pred == np.asarray(y).reshape(-1)))


def sgd_step(model, opt, loss_fn, xb, yb, clip=None):
    """One training step on a batch; returns the batch loss (as a float, possibly non-finite)."""
    opt.zero_grad()
    with np.errstate(all="ignore"):
        loss = loss_fn(model(dn.tensor(xb)), dn.tensor(yb))
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    return float(loss.item())


def train_epochs(model, opt, loss_fn, x, y, epochs, batch_size, seed, scheduler=None):
    """Shuffled mini-batch training for `epochs` epochs; returns the full training loss after each epoch.

    The data order comes from `np.random.default_rng(seed)`: arms given the same seed see the same
    batches. `scheduler.step()` runs once per optimizer step. Stops early (padding with LOSS_CAP)
    once the loss is not finite.
    """
    rng = np.random.default_rng(seed)
    curve = []
    for _ in range(epochs):
        for idx in epoch_batches(len(x), batch_size, rng):
            sgd_step(model, opt, loss_fn, x[idx], y[idx])
            if scheduler is not None:
                scheduler.step()
        curve.append(full_loss(model, loss_fn, x, y))
        if curve[-1] >= LOSS_CAP:
            curve += [LOSS_CAP] * (epochs - len(curve))
            break
    return curve


def flat_params(model):
    """All parameters of `model` as one float64 vector (a copy)."""
    return np.concatenate([np.asarray(p.numpy(), dtype=np.float64).ravel() for p in model.parameters()])


# ----------------------------------------------------------------------------- measures on curves
def given_back(losses):
    """Oscillation of a loss curve: the sum of its rises over its net descent (0 when it only falls).

        given_back = sum_t max(L_{t+1} - L_t, 0) / (L_0 - min_t L_t)

    A curve that falls monotonically scores 0; one that gives back as much as it ever gained,
    several times over, scores > 1. The descent in the denominator is at least 1% of |L_0|, so a
    curve that never goes below its start gets a large but finite score.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size < 2:
        raise ValueError(f"given_back: needs at least 2 losses, got {losses.size}")
    rises = np.clip(np.diff(losses), 0.0, None).sum()
    descent = max(losses[0] - losses.min(), 0.01 * abs(losses[0]), 1e-12)
    return float(rises / descent)


def steps_to(losses, target, cap):
    """The first index t with losses[t] <= target, or `cap + 1` if there is none (a finite "never")."""
    hit = np.nonzero(np.asarray(losses, dtype=np.float64) <= target)[0]
    return int(hit[0]) if hit.size else int(cap) + 1


def log10_ratio(a, b, floor=1e-300):
    """log10(a / b) with both clipped below at `floor` (finite for zeros)."""
    return float(math.log10(max(float(a), floor)) - math.log10(max(float(b), floor)))


def exact_effect(error, tol, floor=1e-20):
    """Effect for an identity: log10(tol) - log10(error); > 0 when the error is below tol (10 at most)."""
    return float(math.log10(tol) - math.log10(max(float(error), floor)))


def fit_exponent(sizes, values):
    """Least-squares slope of log(values) on log(sizes): the growth exponent p in value ~ c n^p.

    Returns (p, c).
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    values = np.maximum(np.asarray(values, dtype=np.float64), 1e-300)
    if sizes.size < 2:
        raise ValueError(f"fit_exponent: needs at least 2 sizes, got {sizes.size}")
    p, logc = np.polyfit(np.log(sizes), np.log(values), 1)
    return float(p), float(np.exp(logc))


# ----------------------------------------------------------------------------- figures
def figure(ncols=1, width=5.0, height=3.8):
    """A matplotlib figure (Agg backend) with `ncols` axes side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def save(fig, out_dir, name, title):
    """Write `fig` as `out_dir/name.png` with the suptitle `title`; returns the path."""
    import matplotlib.pyplot as plt

    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(out_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def curves(ax, results, key, label, color, x=None, log=False):
    """One thin line per seed of `series[key]` and their mean in bold (curves of unequal length are cut)."""
    runs = [np.asarray(r["series"][key], dtype=np.float64) for r in results if key in r.get("series", {})]
    if not runs:
        return
    n = min(len(run) for run in runs)
    xs = np.arange(n) if x is None else np.asarray(x, dtype=np.float64)[:n]
    for run in runs:
        ax.plot(xs, run[:n], color=color, lw=0.6, alpha=0.45)
    ax.plot(xs, np.mean([run[:n] for run in runs], axis=0), color=color, lw=2.0, label=label)
    if log:
        ax.set_yscale("log")


def bars(ax, results, keys, labels, ylabel, log=False):
    """One bar per metric (its mean over seeds) with the per-seed values as dots."""
    for i, key in enumerate(keys):
        values = np.array([r["metrics"][key] for r in results], dtype=np.float64)
        ax.bar(i, values.mean(), color=f"C{i}", alpha=0.55)
        ax.scatter(np.full(values.size, i) + np.linspace(-0.15, 0.15, values.size), values, color="k", s=12, zorder=3)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
