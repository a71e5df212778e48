"""Shared helpers for the claims on activations, losses, initialization and approximation.

Not a claim module: it registers nothing.  Everything here goes through deepnotes' public
API (`deepnotes.nn`, `nn.init`, `optim`, `data`), exactly as a user's script would.

* `pick(budget, tiny, quick, full)` - the size for a budget.
* `mlp(...)` - a plain MLP with a chosen activation, initialization and bias.
* `train_classifier(...)` - minibatch training with a fixed data order from a NumPy generator.
* `accuracy`, `hidden_linears`, `weight_grad_norms`, `steps_to` - measurements.
* `plot_curves`, `plot_bars` - the figures (one thin line / dot per seed, the mean bold).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn

__all__ = ["pick", "make_activation", "mlp", "hidden_linears", "train_classifier", "accuracy", "diverged",
           "weight_grad_norms", "steps_to", "log_tol_effect", "finite", "plot_curves", "plot_bars"]

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu")


def pick(budget: str, tiny, quick, full):
    """The value of a size for `budget` ('tiny', 'quick' or 'full')."""
    table = {"tiny": tiny, "quick": quick, "full": full}
    if budget not in table:
        raise ValueError(f"pick: budget must be 'tiny', 'quick' or 'full', got {budget!r}")
    return table[budget]


def make_activation(name: str, negative_slope: float = 0.01) -> nn.Module:
    """A fresh activation module by name (one of `ACTIVATION_NAMES`)."""
    factories = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
                 "leaky_relu": lambda: nn.LeakyReLU(negative_slope), "prelu": nn.PReLU, "elu": nn.ELU}
    if name not in factories:
        raise ValueError(f"make_activation: activation must be one of {ACTIVATION_NAMES}, got {name!r}")
    return factories[name]()


def init_linear(layer: nn.Linear, init: str, activation: str, scale: float = 1.0, bias: float = 0.0,
                negative_slope: float = 0.01) -> None:
    """Initialize one Linear layer in place.

    init: 'he' (Kaiming normal, fan_in: std sqrt(2 / fan_in) for ReLU and ELU,
    sqrt(2 / ((1 + a^2) fan_in)) for a leaky slope a; He et al., 2015), 'xavier' (Glorot normal as in
    the paper, gain 1: std sqrt(2 / (fan_in + fan_out)); Glorot & Bengio, 2010), 'xavier_gain' (the
    same times `nn.init.calculate_gain(activation)`, e.g. 5/3 for tanh), or 'default' (the layer's own
    init). The weight is then
    multiplied by `scale`; the bias is set to the constant `bias` (except for 'default').
    """
    if init == "default":
        return
    with dn.no_grad():
        if init == "he":
            if activation in ("leaky_relu", "prelu"):
                slope = negative_slope if activation == "leaky_relu" else 0.25
                nn.init.kaiming_normal_(layer.weight, a=slope, nonlinearity="leaky_relu")
            else:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        elif init == "xavier":
            nn.init.xavier_normal_(layer.weight, gain=1.0)
        elif init == "xavier_gain":
            nn.init.xavier_normal_(layer.weight, gain=nn.init.calculate_gain(activation))
        else:
            raise ValueError(f"init_linear: init must be 'he', 'xavier', 'xavier_gain' or 'default', got {init!r}")
        if scale != 1.0:
            layer.weight.data *= np.asarray(scale, dtype=layer.weight.numpy().dtype)
        if layer.bias is not None:
            nn.init.constant_(layer.bias, bias)


def mlp(in_features: int, width: int, depth: int, out_features: int, activation: str = "relu",
        init: str = "he", scale: float = 1.0, bias: float = 0.0, negative_slope: float = 0.01,
        dtype=None) -> nn.Sequential:
    """`depth` hidden layers Linear -> activation of `width` units, then a Linear output layer.

    The hidden layers get `init_linear(init, activation, scale, bias)`; the output layer gets the
    same weight init (unscaled) and a zero bias. `activation=None` builds a stack without any
    non-linearity (a deep linear network).
    """
    if depth < 1 or width < 1:
        raise ValueError(f"mlp: depth and width must be >= 1, got depth={depth}, width={width}")
    layers, fan_in = [], in_features
    for _ in range(depth):
        layer = nn.Linear(fan_in, width, dtype=dtype)
        init_linear(layer, init, activation or "linear", scale, bias, negative_slope)
        layers.append(layer)
        if activation is not None:
            layers.append(make_activation(activation, negative_slope))
        fan_in = width
    head = nn.Linear(fan_in, out_features, dtype=dtype)
    init_linear(head, init, activation or "linear", 1.0, 0.0, negative_slope)
    layers.append(head)
    return nn.Sequential(*layers)


def hidden_linears(model: nn.Sequential) -> list:
    """The Linear layers of `model` except the last one (the hidden layers of an `mlp`)."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return linears[:-1]


def weight_grad_norms(model: nn.Sequential) -> list:
    """The Frobenius norm of every Linear weight's gradient, input side first."""
    return [float(np.linalg.norm(m.weight.grad.numpy())) if m.weight.grad is not None else 0.0
            for m in model if isinstance(m, nn.Linear)]


def minibatches(rng: np.random.Generator, n: int, batch: int, steps: int):
    """`steps` index arrays of size `batch`: epochs of a random permutation (drop the last partial)."""
    batch = min(batch, n)
    done = 0
    while done < steps:
        order = rng.permutation(n)
        for start in range(0, n - batch + 1, batch):
            if done == steps:
                return
            yield order[start:start + batch]
            done += 1


def train_classifier(model, x, y, optimizer, steps: int, batch: int, rng, loss_fn=None, on_step=None,
                     loss_cap: float = 1e3) -> list:
    """Train with cross-entropy (or `loss_fn`) on minibatches; returns the per-step training loss.

    `on_step(step, model)` is called after each backward pass, before the optimizer step (the
    gradients are available). A non-finite loss stops training; the remaining steps record
    `loss_cap` (divergence mapped to a finite value).
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.train()
    losses = []
    for step, idx in enumerate(minibatches(rng, len(x), batch, steps)):
        try:
            loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx]))
            value = float(loss.item())
        except ValueError:  # a layer refusing NaN inputs: activations overflowed (divergence)
            if not np.all(np.isfinite(x[idx])):
                raise
            value = math.nan
        if not math.isfinite(value):
            losses.extend([loss_cap] * (steps - step))
            break
        optimizer.zero_grad()
        loss.backward()
        if on_step is not None:
            on_step(step, model)
        optimizer.step()
        losses.append(min(value, loss_cap))
    return losses


def diverged(model) -> bool:
    """Whether any parameter of `model` holds a NaN or an infinity."""
    return any(not np.all(np.isfinite(p.numpy())) for p in model.parameters())


def accuracy(model, x, y, batch: int = 2048) -> float:
    """Fraction of correct argmax predictions (eval mode, no gradients)."""
    model.eval()
    correct = 0
    with dn.no_grad():
        for start in range(0, len(x), batch):
            out = model(dn.tensor(x[start:start + batch])).numpy()
            if not np.all(np.isfinite(out)):
                out = np.nan_to_num(out, nan=-np.inf)
            correct += int(np.sum(out.argmax(axis=1) == y[start:start + batch]))
    model.train()
    return correct / len(x)


def steps_to(curve, threshold: float, max_steps: int, below: bool = True) -> int:
    """First step (1-based) where `curve` reaches `threshold` (<= if `below`, else >=);
    `max_steps + 1` if it never does (a finite stand-in for "not within the budget")."""
    values = np.asarray(curve, dtype=np.float64)
    hits = np.nonzero(values <= threshold if below else values >= threshold)[0]
    return int(hits[0]) + 1 if hits.size else int(max_steps) + 1


def log_tol_effect(error: float, tol: float, floor: float = 1e-30) -> float:
    """log10(tol) - log10(error): > 0 exactly when error < tol (errors below `floor` count as `floor`,
    NaN or infinite errors as 1e300, so the effect stays finite)."""
    if not math.isfinite(error):
        error = 1e300
    return math.log10(tol) - math.log10(max(error, floor))


def finite(value: float, cap: float) -> float:
    """`value` clipped to [-cap, cap], NaN mapped to `cap` (divergence as a finite number)."""
    if math.isnan(value):
        return float(cap)
    return float(min(max(value, -cap), cap))


# ------------------------------------------------------------------------------------------ figures
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(results, keys, labels, out_path, title, xlabel, ylabel, logy=False, x=None, colors=None):
    """One thin line per seed and the bold mean for each series key in `keys`."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    cmap = plt.get_cmap("tab10")
    for i, (key, label) in enumerate(zip(keys, labels)):
        color = (colors or {}).get(key, cmap(i % 10))
        curves = [np.asarray(r["series"][key], dtype=np.float64) for r in results if key in r.get("series", {})]
        if not curves:
            continue
        length = min(len(c) for c in curves)
        xs = np.asarray(x[:length]) if x is not None else np.arange(1, length + 1)
        for c in curves:
            ax.plot(xs, c[:length], color=color, lw=0.6, alpha=0.35)
        ax.plot(xs, np.mean([c[:length] for c in curves], axis=0), color=color, lw=2.2, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out_path = Path(out_path)
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def plot_bars(results, keys, labels, out_path, title, ylabel, logy=False, hline=None):
    """A bar per metric key (the mean over seeds) with one dot per seed."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(keys) + 2), 4.2))
    rng = np.random.default_rng(0)
    for i, key in enumerate(keys):
        values = np.asarray([r["metrics"][key] for r in results], dtype=np.float64)
        ax.bar(i, values.mean(), color="C0", alpha=0.55, width=0.6)
        ax.scatter(i + rng.uniform(-0.12, 0.12, values.size), values, color="k", s=14, zorder=3)
    if hline is not None:
        ax.axhline(hline, color="C3", ls="--", lw=1)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(labels, fontsize=8, rotation=20 if len(keys) > 5 else 0)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    out_path = Path(out_path)
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def preactivations(model: nn.Sequential, x) -> list:
    """The output of every hidden Linear of `model` (before its activation) on the inputs x, as
    NumPy arrays (eval mode, no gradients); the layers are run one by one."""
    model.eval()
    outs = []
    linears = hidden_linears(model)
    with dn.no_grad():
        h = dn.tensor(x)
        for module in model:
            h = module(h)
            if any(module is m for m in linears):
                outs.append(np.array(h.numpy(), copy=True))
    model.train()
    return outs


def never_positive_fraction(model: nn.Sequential, x) -> float:
    """Fraction of hidden units whose pre-activation is <= 0 for every row of x: a dead ReLU
    (a unit that never activates on the data, whatever the activation function)."""
    pre = preactivations(model, x)
    dead = sum(int(np.sum(np.all(z <= 0, axis=0))) for z in pre)
    return dead / sum(z.shape[1] for z in pre)
