"""Figures for the activation entries (inventory A1-A6), computed with deepnotes' own autograd.

Every curve is `f(z)` from `deepnotes.nn.functional` and every derivative is the gradient that
`backward()` returns for it, so the figure shows what the code computes (ReLU's derivative at 0
is 0, Leaky ReLU's negative side is `negative_slope * z`), not a hand-drawn sketch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import deepnotes as dn
import deepnotes.nn.functional as F

_Z = np.linspace(-6.0, 6.0, 1201)  # contains 0 exactly (index 600)


def value_and_derivative(fn, z=_Z):
    """`(f(z), f'(z))` as float64 arrays, the derivative taken by `backward()`.

    Args:
        fn: elementwise function from Tensor to Tensor.
        z: 1-d array of inputs.
    """
    t = dn.tensor(np.asarray(z, dtype=np.float64), requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.numpy().copy(), t.grad.numpy().copy()


def _panels(out_path, curves, title, ylim_value=None, ylim_grad=None):
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    for label, fn, style in curves:
        value, grad = value_and_derivative(fn)
        left.plot(_Z, value, style, label=label, lw=1.8)
        right.plot(_Z, grad, style, label=label, lw=1.8)
    for ax, name, lim in ((left, "f(z)", ylim_value), (right, "f'(z) (from backward())", ylim_grad)):
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlabel("z")
        ax.set_title(name)
        if lim is not None:
            ax.set_ylim(*lim)
        ax.grid(alpha=0.3)
    left.legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.savefig(Path(out_path))


def sigmoid_curve(out_path):
    """A1: sigmoid and its derivative s(1 - s), peak 1/4 at z = 0, saturation for |z| large."""
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    value, grad = value_and_derivative(F.sigmoid)
    left.plot(_Z, value, "C0", lw=1.8, label="sigmoid(z) = 1/(1+exp(-z))")
    left.axhline(0.5, color="0.7", ls=":")
    right.plot(_Z, grad, "C0", lw=1.8, label="backward(): s(1-s)")
    right.axhline(0.25, color="C3", ls="--", lw=1, label="max 1/4 at z = 0")
    saturated = np.abs(_Z) > 4.6  # derivative below 0.01
    right.fill_between(_Z, 0, 0.27, where=saturated, color="0.85", label="s'(z) < 0.01 (saturated)")
    for ax, name in ((left, "sigmoid(z)"), (right, "derivative")):
        ax.set_xlabel("z")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.savefig(Path(out_path))


def tanh_vs_sigmoid(out_path):
    """A2: tanh is a shifted, rescaled sigmoid; its derivative 1 - tanh^2 peaks at 1."""
    _panels(out_path, [("tanh", F.tanh, "C1"), ("sigmoid", F.sigmoid, "C0--")],
            "tanh(z) = 2 sigmoid(2z) - 1: zero-centred, derivative up to 1 (sigmoid: 1/4)")


def relu_family(out_path):
    """A3/A4: ReLU, Leaky ReLU (slope 0.1 for visibility), ELU and their derivatives."""
    _panels(out_path,
            [("ReLU", F.relu, "C0"),
             ("LeakyReLU(negative_slope=0.1)", lambda z: F.leaky_relu(z, 0.1), "C1--"),
             ("ELU(alpha=1)", F.elu, "C2-."),
             ("GELU", F.gelu, "C4:")],
            "ReLU family: ReLU'(0) = 0 by convention; Leaky ReLU keeps slope alpha for z < 0",
            ylim_value=(-1.5, 6.0), ylim_grad=(-0.2, 1.3))


def softmax_temperature(out_path):
    """A5: softmax(z / T) of one logit vector at several temperatures."""
    logits = np.array([3.0, 1.5, 1.0, 0.2, -1.0])
    fig = Figure(figsize=(8.0, 3.4), layout="constrained")
    ax = fig.subplots()
    temps = [0.5, 1.0, 2.0, 5.0]
    width = 0.8 / len(temps)
    for i, temp in enumerate(temps):
        p = F.softmax(dn.tensor(logits), dim=-1, temperature=temp).numpy()
        ax.bar(np.arange(len(logits)) + (i - 1.5) * width, p, width, label=f"T = {temp}")
    ax.set_xticks(range(len(logits)), [f"z={v:g}" for v in logits])
    ax.set_ylabel("softmax(z / T)")
    ax.set_title("Temperature: T < 1 sharpens, T > 1 flattens; the order of the classes never changes")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.savefig(Path(out_path))


def sigmoid_vs_softmax(out_path):
    """A6: two-class softmax equals the sigmoid of the logit difference; independent sigmoids do not sum to 1."""
    d = np.linspace(-6, 6, 241)
    two = F.softmax(dn.tensor(np.stack([d, np.zeros_like(d)], axis=1)), dim=1).numpy()[:, 0]
    fig = Figure(figsize=(9.0, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(d, F.sigmoid(dn.tensor(d)).numpy(), "C0", lw=3, alpha=0.5, label="sigmoid(z1 - z2)")
    left.plot(d, two, "k--", lw=1.2, label="softmax([z1, z2])[0]")
    left.set_xlabel("z1 - z2")
    left.set_title("two classes: the same function")
    left.legend(fontsize=8)
    logits = np.array([2.0, 1.5, -1.0])
    sig = F.sigmoid(dn.tensor(logits)).numpy()
    soft = F.softmax(dn.tensor(logits), dim=-1).numpy()
    x = np.arange(3)
    right.bar(x - 0.2, sig, 0.4, label=f"sigmoid per class (sum {sig.sum():.2f})")
    right.bar(x + 0.2, soft, 0.4, label=f"softmax (sum {soft.sum():.2f})")
    right.set_xticks(x, [f"z={v:g}" for v in logits])
    right.set_title("three outputs: multi-label vs one-of-K")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))
