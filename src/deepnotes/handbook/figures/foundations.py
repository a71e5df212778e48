"""Figures for the foundations entries (inventory E1-E6): the graph autograd records, a neuron,
an MLP with its two kinds of heads, and a deep network without activations collapsing to a line.

The graph figure is drawn from `deepnotes.autograd.to_dot` (the project's graph export): with
Graphviz's `dot` on PATH it is rendered by Graphviz, otherwise the same DOT nodes and edges are
laid out here with matplotlib, so the figure never depends on a system package.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes.autograd import to_dot

@contextmanager
def _seeded(seed):
    """Run a block with `dn.manual_seed(seed)`, then put the global generator back as it was."""
    state = dn.get_rng_state()
    dn.manual_seed(seed)
    try:
        yield
    finally:
        dn.set_rng_state(state)


_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$')
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")


def small_mlp_loss():
    """The loss of a 3-4-2 MLP on a batch of 5, and its named parameters (seeded, for figures)."""
    with _seeded(0):
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        x = dn.randn(5, 3)
    with dn.fast.disabled():  # one node per operation, as the figure explains it (no fused shortcuts)
        loss = F.cross_entropy(model(x), np.array([0, 1, 1, 0, 1]))
    return loss, dict(model.named_parameters())


def parse_dot(source):
    """Nodes `{id: (label, is_op)}` and edges `[(src, dst, is_backward)]` of `to_dot`'s output."""
    nodes, edges = {}, []
    for line in source.splitlines():
        m = _NODE.match(line)
        if m:
            label = m.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
            nodes[m.group(1)] = (label, "ellipse" in m.group(3))
            continue
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), bool(m.group(3) and "dashed" in m.group(3))))
    return nodes, edges


def _draw_dot(source, out_path):
    nodes, edges = parse_dot(source)
    forward = [(a, b) for a, b, back in edges if not back]
    depth = {n: 0 for n in nodes}
    for _ in nodes:  # longest path from the leaves; the graph is small
        for a, b in forward:
            depth[b] = max(depth[b], depth[a] + 1)
    for n, (_, is_op) in nodes.items():  # a leaf sits just left of its first consumer
        consumers = [depth[b] for a, b in forward if a == n]
        if not is_op and consumers:
            depth[n] = min(consumers) - 1
    columns = {}
    for n in nodes:
        columns.setdefault(depth[n], []).append(n)
    pos = {}
    for d, members in columns.items():
        for i, n in enumerate(members):
            pos[n] = (d * 2.2, (len(members) - 1) / 2 - i)
    width = max(depth.values()) * 2.2 + 2
    height = max(len(m) for m in columns.values()) + 1
    fig = Figure(figsize=(max(8.0, width * 1.1), max(3.0, height * 0.9)), layout="constrained")
    ax = fig.subplots()
    for n, (label, is_op) in nodes.items():
        x, y = pos[n]
        style = "round,pad=0.25" if is_op else "square,pad=0.25"
        color = "#fff3cd" if is_op else "#cfe2ff"
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle=style, fc=color, ec="0.4"), zorder=3)
    for a, b, back in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        if back:
            ax.annotate("", xy=(x1, y1 - 0.12), xytext=(x0, y0 - 0.12),
                        arrowprops=dict(arrowstyle="->", color="#d63384", ls="--", lw=1,
                                        connectionstyle="arc3,rad=0.25", shrinkA=22, shrinkB=22))
        else:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="->", color="0.2", lw=1.2, shrinkA=22, shrinkB=22))
    ax.set_xlim(-1.2, width - 0.8)
    ax.set_ylim(-height / 2 - 0.3, height / 2 + 0.3)
    ax.axis("off")
    ax.set_title("forward: solid arrows (data)  |  backward: dashed red arrows (gradients, chain rule)", fontsize=10)
    fig.savefig(Path(out_path))


def computational_graph(out_path):
    """E1/E2: the graph of a small MLP's cross-entropy loss, forward and backward edges."""
    loss, params = small_mlp_loss()
    source = to_dot(loss, params=params)
    out_path = Path(out_path)
    dot = shutil.which("dot")
    if dot is not None and out_path.suffix in (".svg", ".png"):
        done = subprocess.run([dot, f"-T{out_path.suffix[1:]}", "-o", str(out_path)], input=source, text=True,
                              capture_output=True, check=False)
        if done.returncode == 0:
            return
    _draw_dot(source, out_path)


def _circle(ax, x, y, text, color="#cfe2ff", r=0.32):
    ax.add_patch(Circle((x, y), r, fc=color, ec="0.3", zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10, zorder=3)


def neuron(out_path):
    """E4: one neuron, z = w . x + b (the logit / pre-activation), a = f(z)."""
    fig = Figure(figsize=(8.0, 3.2), layout="constrained")
    ax = fig.subplots()
    ys = [1.2, 0.0, -1.2]
    for i, y in enumerate(ys):
        _circle(ax, 0, y, f"$x_{i + 1}$", "#e9ecef")
        ax.annotate("", xy=(2.7, 0), xytext=(0.35, y), arrowprops=dict(arrowstyle="->", color="0.3"))
        ax.text(1.4, y * 0.55 + 0.12, f"$w_{i + 1}$", fontsize=10, color="C0")
    ax.add_patch(FancyBboxPatch((2.7, -0.55), 1.6, 1.1, boxstyle="round,pad=0.05", fc="#fff3cd", ec="0.3"))
    ax.text(3.5, 0, "$z = \\sum_i w_i x_i + b$", ha="center", va="center", fontsize=10)
    ax.annotate("", xy=(3.5, -0.6), xytext=(3.5, -1.4), arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.text(3.5, -1.6, "bias $b$", ha="center", fontsize=9, color="C0")
    ax.annotate("", xy=(5.4, 0), xytext=(4.4, 0), arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.text(4.9, 0.15, "$z$ (logit)", ha="center", fontsize=9)
    ax.add_patch(FancyBboxPatch((5.4, -0.4), 1.0, 0.8, boxstyle="round,pad=0.05", fc="#d1e7dd", ec="0.3"))
    ax.text(5.9, 0, "$f(\\cdot)$", ha="center", va="center", fontsize=11)
    ax.annotate("", xy=(7.3, 0), xytext=(6.5, 0), arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.text(7.6, 0, "$a = f(z)$", va="center", fontsize=11)
    ax.set_xlim(-0.6, 8.8)
    ax.set_ylim(-2.0, 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("A neuron: weighted sum plus bias (the pre-activation, or logit), then an activation", fontsize=10)
    fig.savefig(Path(out_path))


def mlp_architecture(out_path):
    """E5: input, hidden and output layers; a regression head vs a classification head."""
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    heads = [("regression (e.g. house price)", [1], "linear output, MSE / Huber loss"),
             ("classification (K = 3 classes)", [3], "K logits, softmax + cross-entropy")]
    for ax, (title, out, loss) in zip(axes, heads):
        sizes = [4, 5, 5] + out
        names = ["input\n(features)", "hidden 1\nLinear+ReLU", "hidden 2\nLinear+ReLU", "output"]
        xs = np.arange(len(sizes)) * 2.0
        points = []
        for x, n in zip(xs, sizes):
            ys = np.linspace(-(n - 1) / 2, (n - 1) / 2, n) * 0.8
            points.append([(x, y) for y in ys])
        for left, right in zip(points[:-1], points[1:]):
            for a in left:
                for b in right:
                    ax.plot([a[0], b[0]], [a[1], b[1]], color="0.75", lw=0.6, zorder=1)
        colors = ["#e9ecef", "#cfe2ff", "#cfe2ff", "#d1e7dd"]
        for layer, color in zip(points, colors):
            for x, y in layer:
                ax.add_patch(Circle((x, y), 0.22, fc=color, ec="0.3", zorder=2))
        for x, name in zip(xs, names):
            ax.text(x, -2.6, name, ha="center", va="top", fontsize=8)
        ax.text(xs[-1], 2.3, loss, ha="center", fontsize=8, color="C3")
        ax.set_title(title, fontsize=10)
        ax.set_xlim(-1, xs[-1] + 1.6)
        ax.set_ylim(-3.4, 2.7)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.savefig(Path(out_path))


def two_moons(n, noise=0.15, seed=0):
    """Two interleaved half circles (the usual "two moons" toy set), float32 points and 0/1 labels."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, np.pi, n)
    y = np.arange(n) % 2
    x = np.where(y[:, None] == 0, np.stack([np.cos(t), np.sin(t)], 1),
                 np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], 1))
    return (x + rng.normal(0.0, noise, x.shape)).astype(np.float32), y


def _fit_two_moons(model, x, y, steps=150):
    opt = dn.optim.Adam(model.parameters(), lr=0.03)
    target = y.astype(np.int64)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(dn.tensor(x)), target).backward()
        opt.step()
    return model


def linear_collapse(out_path):
    """E6: a 4-layer MLP without activations draws a straight boundary; with ReLU it bends."""
    x, y = two_moons(200, noise=0.15, seed=0)
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    grid = np.stack(np.meshgrid(np.linspace(-1.6, 2.6, 120), np.linspace(-1.1, 1.6, 90)), -1)
    for ax, act, title in ((axes[0], None, "4 Linear layers, no activation"),
                           (axes[1], nn.ReLU, "the same layers with ReLU")):
        with _seeded(0):
            layers = []
            for i, (a, b) in enumerate([(2, 32), (32, 32), (32, 32), (32, 2)]):
                layers.append(nn.Linear(a, b))
                if act is not None and i < 3:
                    layers.append(act())
        model = _fit_two_moons(nn.Sequential(*layers), x, y)
        with dn.no_grad():
            scores = model(dn.tensor(grid.reshape(-1, 2).astype(np.float32))).numpy()
            accuracy = float((model(dn.tensor(x)).numpy().argmax(1) == y).mean())
        pred = (scores[:, 1] > scores[:, 0]).reshape(grid.shape[:2])
        ax.contourf(grid[..., 0], grid[..., 1], pred, levels=[-0.5, 0.5, 1.5], colors=["#cfe2ff", "#f8d7da"])
        ax.scatter(x[:, 0], x[:, 1], c=np.where(y == 1, "C3", "C0"), s=8)
        ax.set_title(f"{title}: train accuracy {accuracy:.2f}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(Path(out_path))


def training_step(out_path):
    """E3: one training step; backward() fills .grad, only optimizer.step() changes the parameters."""
    steps = [("optimizer.zero_grad()", "clear .grad\n(else it accumulates)", "#e9ecef"),
             ("out = model(x)", "forward: values +\nrecords the graph", "#cfe2ff"),
             ("loss = loss_fn(out, y)", "a scalar", "#cfe2ff"),
             ("loss.backward()", "backprop: fills p.grad,\nparameters unchanged", "#fff3cd"),
             ("optimizer.step()", "gradient descent etc.:\np -= lr * p.grad (SGD)", "#d1e7dd")]
    fig = Figure(figsize=(10.5, 2.8), layout="constrained")
    ax = fig.subplots()
    boxes = []
    for i, (code, note, color) in enumerate(steps):
        x = i * 2.5
        boxes.append(ax.text(x, 0.35, code, ha="center", va="center", fontsize=8.5, family="monospace",
                             bbox=dict(boxstyle="round,pad=0.4", fc=color, ec="0.4")))
        ax.text(x, -0.45, note, ha="center", va="center", fontsize=8)
    for left, right in zip(boxes[:-1], boxes[1:]):
        ax.annotate("", xy=(0.0, 0.5), xycoords=right, xytext=(1.0, 0.5), textcoords=left,
                    arrowprops=dict(arrowstyle="->", color="0.3", lw=1.2, shrinkA=6, shrinkB=6))
    ax.annotate("", xy=(0.5, 1.0), xycoords=boxes[0], xytext=(0.5, 1.0), textcoords=boxes[-1],
                arrowprops=dict(arrowstyle="->", color="C0", lw=1, connectionstyle="arc3,rad=0.12",
                                shrinkA=6, shrinkB=6))
    ax.text(2 * 2.5, 0.98, "next mini-batch", ha="center", fontsize=8, color="C0")
    ax.set_xlim(-1.4, 4 * 2.5 + 1.4)
    ax.set_ylim(-1.0, 1.5)
    ax.axis("off")
    fig.savefig(Path(out_path))
