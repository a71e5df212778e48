"""Shared helpers for the claims on normalization (K18-K20, K41-K43) and dropout (K22, K45).

Not a claim module: it registers nothing. Everything goes through deepnotes' public API
(`deepnotes.nn`, `nn.init`, `optim`, `data`), exactly as a user's script would. The generic
training loop and figure helpers come from `_toolkit_a` (`pick`, `train_classifier`,
`accuracy`, `plot_curves`, `plot_bars`).

* `norm_mlp(...)` - Linear -> [norm] -> activation -> [Dropout] blocks, then a Linear head.
* `make_norm(kind, width)` - a BatchNorm1d / GroupNorm / LayerNorm layer by name.
* `digits_split()`, `mnist1d_split()` - the data sets, inputs standardized on the training set.
* `loss_on(model, x, y)` - cross-entropy on a fixed set, eval mode, no gradients.
* `snapshot(model)` / `restore(model, state)` - copies of the parameter arrays (for probes).
* `log_ratio(a, b)` - log10(a / b), finite for zeros and infinities (effects of ratios).
"""
from __future__ import annotations

import math

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data

from ._toolkit_a import make_activation

__all__ = ["NORMS", "make_norm", "norm_mlp", "block_linears", "digits_split", "mnist1d_split", "loss_on",
           "snapshot", "restore", "subsample"]

NORMS = ("none", "batch", "group", "layer")


def make_norm(kind: str, width: int, groups: int = 8):
    """A normalization layer for `width` features: 'batch' (BatchNorm1d), 'group' (GroupNorm with
    `groups` groups), 'layer' (LayerNorm); None for 'none'."""
    if kind == "none":
        return None
    if kind == "batch":
        return nn.BatchNorm1d(width)
    if kind == "group":
        if width % groups:
            raise ValueError(f"make_norm: width {width} is not divisible by groups={groups}")
        return nn.GroupNorm(groups, width)
    if kind == "layer":
        return nn.LayerNorm(width)
    raise ValueError(f"make_norm: kind must be one of {NORMS}, got {kind!r}")


def norm_mlp(in_features: int, width: int, depth: int, out_features: int, activation: str = "relu",
             norm: str = "none", dropout: float = 0.0, init: str = "default", scale: float = 1.0,
             groups: int = 8) -> nn.Sequential:
    """`depth` blocks Linear(width) -> norm -> activation -> Dropout(p), then Linear(out_features).

    norm is placed before the activation, as in Ioffe & Szegedy (2015). init: 'default' keeps
    the layer's own init; 'he' (Kaiming normal, fan_in, ReLU gain) or 'xavier' (Glorot normal,
    gain 1) with every weight multiplied by `scale` and zero biases. A Linear followed by a
    normalization keeps its bias (as a user would write it; BN then cancels it).
    """
    if depth < 1 or width < 1:
        raise ValueError(f"norm_mlp: depth and width must be >= 1, got depth={depth}, width={width}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"norm_mlp: dropout must be in [0, 1), got {dropout}")
    layers, fan_in = [], in_features
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        layer = make_norm(norm, width, groups)
        if layer is not None:
            layers.append(layer)
        layers.append(make_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        fan_in = width
    layers.append(nn.Linear(fan_in, out_features))
    model = nn.Sequential(*layers)
    if init != "default":
        with dn.no_grad():
            for m in model:
                if not isinstance(m, nn.Linear):
                    continue
                if init == "he":
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                elif init == "xavier":
                    nn.init.xavier_normal_(m.weight, gain=1.0)
                else:
                    raise ValueError(f"norm_mlp: init must be 'default', 'he' or 'xavier', got {init!r}")
                if scale != 1.0:
                    m.weight.data *= np.asarray(scale, dtype=m.weight.numpy().dtype)
                nn.init.zeros_(m.bias)
    return model


def block_linears(model: nn.Sequential) -> list:
    """Every Linear of `model`, input side first (the last one is the head)."""
    return [m for m in model if isinstance(m, nn.Linear)]


def _standardize(split):
    mean, std = split.x_train.mean(axis=0), split.x_train.std(axis=0)
    std[std == 0] = 1.0
    return (((split.x_train - mean) / std).astype(np.float32), split.y_train.astype(np.int64),
            ((split.x_test - mean) / std).astype(np.float32), split.y_test.astype(np.int64))


def digits_split(standardize: bool = False):
    """scikit-learn's digits (1437 train / 360 test), pixels in [0, 1] or standardized on train:
    (x_train, y_train, x_test, y_test)."""
    split = data.load_digits()
    if standardize:
        return _standardize(split)
    return (split.x_train, split.y_train.astype(np.int64), split.x_test, split.y_test.astype(np.int64))


def mnist1d_split():
    """MNIST-1D (4000 train / 1000 test, 40 features, 10 classes), standardized on train."""
    return _standardize(data.load_mnist1d())


def subsample(x, y, n: int, rng) -> tuple:
    """`n` rows of (x, y) drawn without replacement by the generator `rng`."""
    if not 0 < n <= len(x):
        raise ValueError(f"subsample: n must be in [1, {len(x)}], got {n}")
    rows = rng.permutation(len(x))[:n]
    return x[rows], y[rows]


def loss_on(model, x, y) -> float:
    """Mean cross-entropy of `model` on (x, y) in eval mode without gradients (train mode restored)."""
    model.eval()
    with dn.no_grad():
        value = float(nn.CrossEntropyLoss()(model(dn.tensor(x)), dn.tensor(y)).item())
    model.train()
    return value


def snapshot(model) -> list:
    """Copies of every parameter array of `model`."""
    return [np.array(p.numpy(), copy=True) for p in model.parameters()]


def restore(model, state: list) -> None:
    """Write the arrays of `snapshot` back into `model`'s parameters."""
    for p, value in zip(model.parameters(), state):
        p.data[...] = value


def fit(model, x, y, optimizer, steps: int, batch: int, rng, every: int = 0, evaluate=None,
        loss_cap: float = 10.0) -> dict:
    """Minibatch cross-entropy training for `steps` steps over epochs of a random permutation
    drawn from `rng` (the same rng gives every arm the same data order).

    Every `every` steps (and after the last one) `evaluate(model)` is recorded with the step
    count. A non-finite loss stops training: the remaining steps record `loss_cap` and the
    remaining evaluations all get the diverged model's value (divergence mapped to finite values).
    Returns {"losses": [...], "eval_steps": [...], "evals": [...], "diverged": bool}.
    """
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    losses, eval_steps, evals = [], [], []
    batch = min(batch, len(x))
    order, pos, diverged = rng.permutation(len(x)), 0, False
    for step in range(1, steps + 1):
        if pos + batch > len(x):
            order, pos = rng.permutation(len(x)), 0
        idx = order[pos:pos + batch]
        pos += batch
        try:
            loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx]))
            value = float(loss.item())
        except (ValueError, FloatingPointError):  # a layer refusing non-finite inputs
            value = float("nan")
        if not np.isfinite(value):
            diverged = True
            losses.extend([loss_cap] * (steps - step + 1))
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(min(value, loss_cap))
        if evaluate is not None and every and step % every == 0:
            eval_steps.append(step)
            evals.append(float(evaluate(model)))
    if evaluate is not None:  # evaluations skipped by a divergence: the diverged model's value, once
        wanted = list(range(every, steps + 1, every)) if every else []
        if not wanted or wanted[-1] != steps:
            wanted.append(steps)
        missing = [s for s in wanted if s not in eval_steps]
        if missing:
            value = float(evaluate(model))
            eval_steps.extend(missing)
            evals.extend([value] * len(missing))
    return {"losses": losses, "eval_steps": eval_steps, "evals": evals, "diverged": diverged}


def log_ratio(a: float, b: float, floor: float = 1e-30) -> float:
    """log10(a / b) with both clipped to [floor, 1e30] (finite for zeros and infinities)."""
    def clip(v):
        return min(max(v, floor), 1e30) if math.isfinite(v) else 1e30
    return math.log10(clip(a) / clip(b))
