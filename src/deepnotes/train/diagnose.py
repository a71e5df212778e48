"""`diagnose`: why is training not working?  Findings with the evidence behind each (inventory O7, I6, I2).

A network that does not learn shows it in a few places, each with a usual
cause:

    finding               what is measured                                   usual cause
    divergence            loss NaN / inf, or rising k epochs in a row        learning rate too high
    oscillation           the loss alternates up and down with large swings  learning rate too high
    lr_too_low            loss falling steadily but < 5% in 20 epochs        learning rate too low
    overfitting           validation loss rising while training loss falls   too little data / regularization
    vanishing_gradients   first layer's gradient << last layer's (ratio 1e-3)  saturating activations, deep nets
    exploding_gradients   first layer's gradient >> last layer's, or huge    large weights, no normalization
    dead_relu             ReLU units that output 0 for a whole batch         high lr, bad init, negative bias
    unnormalized_inputs   feature means / stds far from 0 / 1                missing standardization

`diagnose` measures what it is given (a history; optionally a
`GradientMonitor`, the model and a batch) and returns a list of `Finding`s;
an empty list means none of the checks fired.  Thresholds are arguments
with the defaults below; every finding carries the numbers that triggered
it in `evidence`.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.layers.activation import ReLU
from .monitor import GradientMonitor, capture_outputs


@dataclass
class Finding:
    """One problem found: a short `code`, a sentence for people, and the numbers that triggered it."""

    code: str
    message: str
    evidence: dict = field(default_factory=dict)

    def __str__(self):
        return f"[{self.code}] {self.message}"


def _series(history, key):
    """A list of floats from a `History`, a dict of lists, or (for the training loss) a plain sequence."""
    if history is None:
        return []
    if hasattr(history, "data") and isinstance(history.data, dict):  # History
        values = history.data.get(key, [])
    elif isinstance(history, dict):
        values = history.get(key, [])
    elif key == "train_loss":
        values = history
    else:
        values = []
    return [float(v) for v in values]


# ------------------------------------------------------------------------ loss curves
def check_divergence(losses, rising_epochs=3, min_rise=0.05):
    """Non-finite loss, or a loss that rose in each of the last `rising_epochs` epochs by `min_rise` in all."""
    bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
    if bad:
        return Finding("divergence", f"the loss became {losses[bad[0]]} at epoch {bad[0]}: training diverged; "
                       "lower the learning rate, clip gradients or check the data for NaN",
                       {"reason": "non-finite", "epoch": bad[0], "value": losses[bad[0]]})
    k = rising_epochs
    if len(losses) > k:
        tail = losses[-(k + 1):]
        rising = all(b > a for a, b in zip(tail, tail[1:]))
        rise = (tail[-1] - tail[0]) / max(abs(tail[0]), 1e-12)
        if rising and rise >= min_rise:
            return Finding("divergence", f"the training loss rose in each of the last {k} epochs "
                           f"(+{100 * rise:.0f}%): the learning rate is probably too high",
                           {"reason": "rising", "losses": tail, "relative_rise": rise})
    return None


def check_oscillation(losses, window=10, min_flip_fraction=0.7, min_swing=0.1):
    """The loss alternates: most consecutive changes flip sign, with swings of `min_swing` of the loss."""
    if len(losses) < window + 1:
        return None
    tail = np.array(losses[-(window + 1):])
    diffs = np.diff(tail)
    flips = float(np.mean(np.sign(diffs[1:]) * np.sign(diffs[:-1]) < 0))
    swing = float(np.median(np.abs(diffs)) / max(float(np.median(np.abs(tail))), 1e-12))
    if flips >= min_flip_fraction and swing >= min_swing:
        return Finding("oscillation", f"the loss goes up and down ({100 * flips:.0f}% of changes flip sign, typical "
                       f"swing {100 * swing:.0f}% of the loss): the learning rate is probably too high",
                       {"flip_fraction": flips, "relative_swing": swing, "losses": tail.tolist()})
    return None


def check_lr_too_low(losses, window=20, max_relative_change=0.05, min_decreasing=0.8, min_pace_ratio=0.3,
                     converged_loss=1e-4):
    """The loss falls steadily but by less than `max_relative_change` over the last `window` epochs.

    Three things separate a crawl (too small a step: each epoch gains about
    the same small amount) from convergence or a noisy plateau:

    * steadily: at least `min_decreasing` of the epochs improve;
    * at a constant pace: the mean decrease over the window's last quarter is
      at least `min_pace_ratio` of that over its first quarter (converging
      runs slow down geometrically);
    * not done: the last loss is above `converged_loss`.
    """
    if len(losses) < window + 1:
        return None
    tail = np.array(losses[-(window + 1):])
    if tail[-1] <= converged_loss:
        return None
    change = float((tail[0] - tail[-1]) / max(abs(tail[0]), 1e-12))
    decrements = -np.diff(tail)
    decreasing = float(np.mean(decrements > 0))
    quarter = max(window // 4, 1)
    early, late = float(np.mean(decrements[:quarter])), float(np.mean(decrements[-quarter:]))
    pace = late / early if early > 0 else 0.0
    if 0 <= change < max_relative_change and decreasing >= min_decreasing and pace >= min_pace_ratio:
        return Finding("lr_too_low", f"the loss fell by only {100 * change:.2g}% over the last {window} epochs, "
                       f"steadily ({100 * decreasing:.0f}% of epochs improve, at an unchanging pace): it is "
                       "crawling; try a larger learning rate",
                       {"relative_change": change, "window": window, "decreasing_fraction": decreasing,
                        "pace_ratio": pace, "last_loss": float(tail[-1])})
    return None


def check_overfitting(train_losses, val_losses, rising_epochs=3):
    """The validation loss rose over the last `rising_epochs` epochs while the training loss fell."""
    k = rising_epochs
    if len(val_losses) <= k or len(train_losses) <= k:
        return None
    val, train = val_losses[-(k + 1):], train_losses[-(k + 1):]
    if all(b > a for a, b in zip(val, val[1:])) and train[-1] < train[0]:
        return Finding("overfitting", f"the validation loss rose for {k} epochs while the training loss fell: the "
                       "model is overfitting; stop earlier or regularize",
                       {"val_losses": val, "train_losses": train})
    return None


# ------------------------------------------------------------------------ gradients
def check_gradients(grad_norms, ratio=1e3, max_norm=1e3, min_norm=1e-7):
    """Per-layer gradient norms, ordered input to output (e.g. `GradientMonitor.latest()`).

    Vanishing: first / last < 1 / ratio, or every norm below `min_norm`.
    Exploding: first / last > ratio, any norm above `max_norm`, or non-finite.
    """
    if len(grad_norms) == 0:
        return []
    names, norms = list(grad_norms), np.array(list(grad_norms.values()), dtype=float)
    evidence = {"grad_norms": dict(grad_norms)}
    if not np.all(np.isfinite(norms)):
        return [Finding("exploding_gradients", "a gradient is NaN or infinite", evidence)]
    findings = []
    first, last = norms[0], norms[-1]
    r = first / last if last > 0 else (math.inf if first > 0 else 1.0)
    evidence["first_to_last_ratio"] = r
    if (len(norms) >= 2 and r < 1.0 / ratio) or norms.max() < min_norm:
        findings.append(Finding(
            "vanishing_gradients", f"the gradient of {names[0]} is {r:.1e} times that of {names[-1]}: gradients "
            "vanish on the way back; use ReLU-like activations with He init, normalization or residual connections",
            evidence))
    if (len(norms) >= 2 and r > ratio) or norms.max() > max_norm:
        findings.append(Finding(
            "exploding_gradients", f"gradient norms reach {norms.max():.1e} (first/last layer ratio {r:.1e}): "
            "gradients explode; lower the learning rate, clip gradients, or rescale the initialization",
            evidence))
    return findings


# ------------------------------------------------------------------------ model and data
def _inputs(batch):
    x = batch[0] if isinstance(batch, (tuple, list)) else batch
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def dead_relu_fractions(model, batch):
    """{ReLU module name: fraction of its units that output 0 for every example of `batch`}.

    A unit is a feature (dim 1) of the ReLU's output: a neuron of a Linear
    layer, a channel of a convolution.  Only `nn.ReLU` modules are seen (not
    `F.relu` calls inside a forward).  The model runs in eval mode, without
    gradients; its train/eval flags are put back.
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad(), capture_outputs(model, (ReLU,)) as outputs:
            model(_inputs(batch))
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    fractions = OrderedDict()
    for name, outs in outputs.items():
        if not outs:
            continue
        out = outs[0]
        units = out.reshape(-1, 1) if out.ndim == 1 else np.moveaxis(out, 1, 0).reshape(out.shape[1], -1).T
        fractions[name] = float(np.mean(np.all(units == 0, axis=0)))
    return fractions


def check_dead_relu(model, batch, max_dead_fraction=0.3):
    fractions = dead_relu_fractions(model, batch)
    worst = {k: v for k, v in fractions.items() if v > max_dead_fraction}
    if worst:
        name = max(worst, key=worst.get)
        return Finding("dead_relu", f"{100 * worst[name]:.0f}% of the units after ReLU {name!r} output 0 for every "
                       "example: dead ReLUs; lower the learning rate, use He init or a leaky activation",
                       {"dead_fractions": dict(fractions), "batch_size": int(_inputs(batch).shape[0])})
    return None


def check_inputs(batch, max_abs_mean=3.0, max_std=5.0, min_median_std=1e-2):
    """Per-feature means and standard deviations of an input batch (features: dim 1; (N, D) or (N, C, ...)).

    Flags means beyond `max_abs_mean`, standard deviations above `max_std`,
    or a median (non-constant) standard deviation below `min_median_std`.
    """
    x = np.asarray(_inputs(batch)._data, dtype=np.float64)
    if x.ndim < 2:
        x = x.reshape(-1, 1)
    feats = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    means, stds = feats.mean(axis=0), feats.std(axis=0)
    varying = stds[stds > 0]
    median_std = float(np.median(varying)) if len(varying) else 0.0
    flagged = np.flatnonzero((np.abs(means) > max_abs_mean) | (stds > max_std))
    if len(flagged) or (len(varying) and median_std < min_median_std):
        worst = flagged[np.argsort(-np.maximum(np.abs(means[flagged]), stds[flagged]))][:5]
        return Finding("unnormalized_inputs",
                       f"{len(flagged)} of {x.shape[1]} input features have |mean| > {max_abs_mean:g} or std > "
                       f"{max_std:g} (largest |mean| {np.abs(means).max():.3g}, std {stds.max():.3g}, median std "
                       f"{median_std:.3g}): standardize the inputs (subtract the mean, divide by the std)",
                       {"max_abs_mean": float(np.abs(means).max()), "max_std": float(stds.max()),
                        "median_std": median_std, "n_flagged": int(len(flagged)),
                        "worst_features": [int(i) for i in worst]})
    return None


# ------------------------------------------------------------------------ all together
def diagnose(history=None, model=None, batch=None, monitor=None, *, rising_epochs=3, lr_window=20,
             gradient_ratio=1e3, max_grad_norm=1e3, max_dead_fraction=0.3, last_steps=5):
    """Run every check that the given data allows; return the findings (empty: nothing found).

    Args:
        history: a `History`, a dict of per-epoch lists (`train_loss`,
            optionally `val_loss`), or a sequence of training losses.
        model: with `batch`, enables the dead-ReLU check.
        batch: an input batch, or an (inputs, targets) pair: the input
            statistics check, and with `model` the dead-ReLU check.
        monitor: a `GradientMonitor` (its median over the last `last_steps`
            records of each weight's gradient norm), or a dict {layer name:
            gradient norm} ordered input to output.
        rising_epochs, lr_window, gradient_ratio, max_grad_norm, max_dead_fraction:
            the thresholds of the checks (see each `check_*`).

    Returns:
        A list of `Finding`.

    Example:
        >>> [f.code for f in diagnose([1.0, 1.2, 1.5, 2.1, float("nan")])]
        ['divergence']
    """
    findings = []
    losses = _series(history, "train_loss")
    for finding in (check_divergence(losses, rising_epochs),
                    check_oscillation(losses) if losses and all(map(math.isfinite, losses)) else None,
                    check_lr_too_low(losses, lr_window),
                    check_overfitting(losses, _series(history, "val_loss"), rising_epochs)):
        if finding is not None:
            findings.append(finding)
    if monitor is not None:
        norms = monitor.latest(last=last_steps) if isinstance(monitor, GradientMonitor) else OrderedDict(monitor)
        findings += check_gradients(norms, gradient_ratio, max_grad_norm)
    if batch is not None:
        if model is not None:
            finding = check_dead_relu(model, batch, max_dead_fraction)
            if finding is not None:
                findings.append(finding)
        finding = check_inputs(batch)
        if finding is not None:
            findings.append(finding)
    return findings


def report(findings):
    """The findings as text, one per line (or a line saying none were found)."""
    if not findings:
        return "no problems found"
    return "\n".join(str(f) for f in findings)
