"""Figures for the initialization and gradient-flow entries (inventory I1-I4), computed with deepnotes.

* `activation_scale` -- the RMS of the activations layer by layer in a deep ReLU MLP for Xavier, He and
  He scaled by 0.7 and 1.5 (I1);
* `gradient_flow` -- per-layer weight-gradient norms from one backward pass: sigmoid with Xavier init, ReLU
  with He init, ReLU with He x 1.5, and a residual tanh stack against the plain one (I2, I4);
* `clipping_directions` -- a gradient clipped by value and by norm (I3).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

import deepnotes as dn
import deepnotes.nn as nn

from .regularization import save_log_plot


def _init(weight, scheme, scale):
    if scheme == "xavier":
        nn.init.xavier_normal_(weight)
    else:
        nn.init.kaiming_normal_(weight, nonlinearity="relu")
    weight.data *= scale


def activation_rms(scheme="he", scale=1.0, depth=30, width=128, seed=0):
    """RMS of each ReLU layer's output (depth values) for a batch of 256 standard-normal inputs."""
    dn.manual_seed(seed)
    h = dn.randn(256, width)
    out = []
    with dn.no_grad():
        for _ in range(depth):
            layer = nn.Linear(width, width, bias=False)
            _init(layer.weight, scheme, scale)
            h = nn.functional.relu(layer(h))
            out.append(float(np.sqrt((h.numpy().astype(np.float64) ** 2).mean())))
    return np.array(out)


def activation_scale(out_path):
    """I1: He init keeps the activation scale of a 30-layer ReLU MLP; Xavier halves the second moment per layer."""
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.subplots()
    for (scheme, scale), label, style in ((("he", 1.0), "He: Var(w) = 2 / fan_in", "C2-"),
                                          (("xavier", 1.0), "Xavier: Var(w) = 2 / (fan_in + fan_out)", "C0--"),
                                          (("he", 0.7), "He x 0.7", "C1:"), (("he", 1.5), "He x 1.5", "C3-.")):
        rms = activation_rms(scheme, scale)
        ax.plot(np.arange(1, len(rms) + 1), rms, style, lw=2, label=label)
    save_log_plot(fig, ax, out_path, "layer", "30 ReLU layers, width 128, no bias", "RMS of the ReLU outputs")


def layer_gradient_norms(activation="relu", scheme="he", scale=1.0, depth=30, width=64, seed=0):
    """Norm of each Linear layer's weight gradient (input layer first) after one backward pass of sum(output)."""
    dn.manual_seed(seed)
    layers = [nn.Linear(width, width) for _ in range(depth)]
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    for layer in layers:
        _init(layer.weight, scheme, scale)
    net = nn.Sequential(*[m for layer in layers for m in (layer, act())])
    net(dn.randn(16, width)).sum().backward()
    return np.array([float(np.linalg.norm(layer.weight.grad.numpy())) for layer in layers])


def residual_input_gradients(depth=50, width=32, gain=0.5, seed=0):
    """Norm of d sum(output) / d h_l at every depth l of a tanh stack, plain and residual (h + tanh(W h))."""
    out = {}
    for residual in (False, True):
        dn.manual_seed(seed)
        layers = [nn.Linear(width, width) for _ in range(depth)]
        for layer in layers:
            nn.init.normal_(layer.weight, std=gain / width ** 0.5)
        h = dn.randn(8, width, requires_grad=True)
        states = []
        for layer in layers:
            states.append(h)
            h = h + dn.tanh(layer(h)) if residual else dn.tanh(layer(h))
            h.retain_grad()
        h.sum().backward()
        out["residual" if residual else "plain"] = np.array(
            [float(np.linalg.norm(s.grad.numpy())) if s.grad is not None else 0.0 for s in states])
    return out


def gradient_flow(out_path):
    """I2/I4: per-layer gradient norms for three MLPs, and the gradient reaching each depth of a plain vs residual stack."""
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    for (act, scheme, scale), label, style in ((("sigmoid", "xavier", 1.0), "sigmoid, Xavier", "C0-"),
                                               (("relu", "he", 1.0), "ReLU, He", "C2-"),
                                               (("relu", "he", 1.5), "ReLU, He x 1.5", "C3-.")):
        norms = layer_gradient_norms(act, scheme, scale)
        left.plot(np.arange(1, len(norms) + 1), norms, style, lw=2, label=label)
    left.set_yscale("log")
    left.set_xlabel("layer (1 = input side)")
    left.set_ylabel("||dL/dW_l||")
    left.set_title("30-layer MLPs, one backward pass", fontsize=10)
    flows = residual_input_gradients()
    for name, style in (("plain", "C1-"), ("residual", "C4-")):
        g = np.maximum(flows[name], 1e-30)
        update = "h + tanh(Wh)" if name == "residual" else "tanh(Wh)"
        right.plot(np.arange(1, len(g) + 1), g, style, lw=2, label=f"{name}: h = {update}")
    right.set_yscale("log")
    right.set_xlabel("depth l")
    right.set_ylabel("||dL/dh_l||")
    right.set_title("50 tanh layers, gain 0.5: the identity path", fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.savefig(Path(out_path))


def clip(gradient, threshold):
    """The gradient clipped by value and by norm with `nn.utils` (returns two arrays)."""
    clipped = []
    for fn in (nn.utils.clip_grad_value_, nn.utils.clip_grad_norm_):
        p = dn.tensor(np.zeros(2), requires_grad=True)
        p.grad = np.array(gradient, dtype=np.float64)
        fn([p], threshold)
        clipped.append(p.grad.numpy().copy())
    return clipped


def clipping_directions(out_path):
    """I3: clipping (10, 1) at 1 by value turns it to (1, 1); by norm it keeps its direction."""
    g = np.array([10.0, 1.0])
    by_value, by_norm = clip(g, 1.0)
    fig = Figure(figsize=(5.6, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.add_patch(Circle((0, 0), 1.0, fill=False, ls="--", color="0.5"))
    ax.add_patch(Rectangle((-1, -1), 2, 2, fill=False, ls=":", color="0.5"))
    for vec, style, label in ((g / 8, "k", "g = (10, 1), drawn at 1/8"), (by_value, "C3", "by value (c = 1): (1, 1)"),
                              (by_norm, "C0", f"by norm (c = 1): ({by_norm[0]:.3f}, {by_norm[1]:.3f})")):
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": style, "lw": 2})
        ax.plot([], [], color=style, lw=2, label=label)
    ax.set_xlim(-1.4, 1.6)
    ax.set_ylim(-1.4, 1.6)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("norm ball (dashed) and value box (dotted), c = 1", fontsize=10)
    fig.savefig(Path(out_path))
