"""Figures for the compression entries (inventory P1-P3), computed with `deepnotes.compress`.

Soft targets are `softmax(z / T)` and the soft-loss gradient norms come from
`compress.distill.soft_gradient_norm` (autograd), the quantization grid from
`compress.fake_quantize_per_tensor_affine`, so the figures show the code's conventions.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import deepnotes as dn
from deepnotes.compress import fake_quantize_per_tensor_affine
from deepnotes.compress.distill import soft_gradient_norm

TEACHER_LOGITS = np.array([6.0, 3.5, 2.0, 0.5, -1.0])


def soft_targets(logits, T):
    """softmax(logits / T), float64."""
    z = np.asarray(logits, dtype=np.float64) / T
    e = np.exp(z - z.max())
    return e / e.sum()


def gradient_scale(temperatures=(1.0, 2.0, 4.0, 8.0, 16.0), seed=0):
    """Soft-loss gradient norms w.r.t. the student's logits, without and with the T^2 factor."""
    rng = np.random.default_rng(seed)
    student = dn.tensor(rng.normal(size=(8, 5)), requires_grad=True)
    teacher = rng.normal(size=(8, 5)) * 3.0
    plain = [soft_gradient_norm(student, teacher, T) for T in temperatures]
    scaled = [soft_gradient_norm(student, teacher, T, t_squared=True) for T in temperatures]
    return np.array(temperatures), np.array(plain), np.array(scaled)


def distillation_temperature(out_path):
    """P3: the teacher's soft targets at T = 1, 4, 16, and the soft-loss gradient norm with and without T^2."""
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    classes = np.arange(len(TEACHER_LOGITS))
    for k, T in enumerate((1.0, 4.0, 16.0)):
        left.bar(classes + (k - 1) * 0.27, soft_targets(TEACHER_LOGITS, T), width=0.27, label=f"T = {T:g}")
    left.set(xlabel="class", ylabel="softmax(z / T)", title="teacher's soft targets")
    left.legend(fontsize=8)
    T, plain, scaled = gradient_scale()
    right.loglog(T, plain, "o-", label="KL at T (no T^2)")
    right.loglog(T, scaled, "s--", label="T^2 * KL at T")
    right.set(xlabel="temperature T", ylabel="|d soft loss / d student logits|",
              title="without T^2 the soft gradient fades ~1/T^2")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))


def quantization_grid(out_path):
    """P2: uint8 affine fake quantization of [-1, 3] (scale 4/255) and its rounding error, bounded by scale/2."""
    scale, zero_point = 4.0 / 255.0, 64
    x = np.linspace(-1.5, 3.5, 2001)
    q = fake_quantize_per_tensor_affine(dn.tensor(x), scale, zero_point, 0, 255).numpy()
    fig = Figure(figsize=(9.0, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(x, x, color="0.6", lw=0.8, label="identity")
    left.plot(x, q, lw=1.2, label="fake_quantize (uint8)")
    left.set(xlabel="x", ylabel="dequantized q(x)", title="clamped outside [-zp*s, (255-zp)*s]")
    left.legend(fontsize=8)
    inside = (x > -1.0) & (x < 3.0)
    right.plot(x[inside], (q - x)[inside], lw=0.8)
    right.axhline(scale / 2, color="C3", ls="--", lw=0.8)
    right.axhline(-scale / 2, color="C3", ls="--", lw=0.8)
    right.set(xlabel="x", ylabel="q(x) - x", title="rounding error within +/- scale / 2")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))


def pruning_schedule(out_path):
    """P1: Zhu & Gupta's cubic sparsity schedule (cubic_sparsity), and the weights l1_unstructured zeroes at 50%."""
    import deepnotes.nn as nn
    from deepnotes.compress.prune import cubic_sparsity, l1_unstructured

    steps = np.arange(0, 1001)
    sparsity = [cubic_sparsity(int(t), 0.9, begin_step=100, end_step=900, frequency=50) for t in steps]
    dn.manual_seed(0)
    layer = nn.Linear(256, 128)
    before = layer.weight.numpy().ravel().copy()
    l1_unstructured(layer, "weight", amount=0.5)
    kept = layer.weight_mask.numpy().ravel() > 0
    fig = Figure(figsize=(9.0, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(steps, sparsity, lw=1.8)
    left.set(xlabel="training step", ylabel="sparsity", title="cubic schedule to 90% (masks every 50 steps)")
    bins = np.linspace(before.min(), before.max(), 61)
    right.hist(before[kept], bins=bins, color="C0", label="kept")
    right.hist(before[~kept], bins=bins, color="C3", label="pruned (smallest |w|)")
    right.set(xlabel="weight value", ylabel="count", title="l1_unstructured, 50% of Linear(256, 128)")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.savefig(Path(out_path))


def output_layer_costs(out_path):
    """P4: memory and FLOPs per batch of a 10-million-class output layer (H 512, batch 256): full softmax,
    hierarchical softmax and sampled softmax (64 samples), from `deepnotes.nn.output_layer_cost`."""
    import deepnotes.nn as nn

    kinds = {"full": {}, "hierarchical": {}, "sampled": {"num_samples": 64}}
    costs = {k: nn.output_layer_cost(10_000_000, 512, 256, kind=k, **kw) for k, kw in kinds.items()}
    measures = [("parameters (bytes)", "parameter_bytes"), ("kept for backward (bytes)", "activation_bytes"),
                ("weight gradient (bytes)", "gradient_bytes"), ("FLOPs per batch", "flops")]
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(measures))
    for k, (kind, cost) in enumerate(costs.items()):
        ax.bar(x + (k - 1) * 0.27, [getattr(cost, attr) for _, attr in measures], width=0.27, label=kind)
    ax.set_yscale("log")
    ax.set_xticks(x, [label for label, _ in measures])
    ax.axhline(80 * 2**30, color="0.4", ls="--", lw=0.8)
    ax.text(-0.4, 80 * 2**30 * 1.3, "80 GiB GPU", fontsize=8, color="0.3")
    ax.set_title("one output layer, V = 10 million, H = 512, batch 256 (float32)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.savefig(Path(out_path))
