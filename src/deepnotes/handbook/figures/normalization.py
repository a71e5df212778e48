"""Figures for the normalization entries of the handbook (inventory N1, N2, N4).

Each builder is a plain function `(out_path) -> None` writing one image
(PNG or SVG, by extension) with matplotlib's Agg backend.  The axes diagram
is computed, not drawn by hand: the highlighted cells are the ones that
share one mean and variance according to
`deepnotes.nn.utils.normalization_axes`, so the picture cannot drift from
the code.
"""
from __future__ import annotations


import numpy as np

from ...autograd.tensor import Tensor
from ...nn.layers.normalization import BatchNorm1d
from ...nn.utils.normalization import normalization_axes
from . import new_figure, save_figure


def statistic_group(kind, shape=(4, 6, 3, 3), groups=2, index=(1, 2, 0, 0)):
    """A boolean mask over `shape` (N, C, H, W): the elements that share one mean/variance with `index`.

    Built from `normalization_axes`: the reduced axes are free, the kept axes
    must equal the index's (for 'group', on the (N, G, C/G, H, W) view).
    """
    n, c, h, w = shape
    if kind == "group":
        view = (n, groups, c // groups, h, w)
        reduced = normalization_axes("group", shape)
        where = (index[0], index[1] // (c // groups), index[1] % (c // groups), index[2], index[3])
        grid = np.indices(view)
        mask = np.ones(view, dtype=bool)
        for axis in range(len(view)):
            if axis not in reduced:
                mask &= grid[axis] == where[axis]
        return mask.reshape(shape)
    reduced = normalization_axes(kind, shape)
    grid = np.indices(shape)
    mask = np.ones(shape, dtype=bool)
    for axis in range(4):
        if axis not in reduced:
            mask &= grid[axis] == index[axis]
    return mask


def axes_diagram(out_path):
    """N2: which elements of an (N, C, H, W) batch share one statistic in BN, LN, IN and GN (G = 2).

    Each panel is a block with the batch N going right, the channels C going
    back and the spatial positions H*W going up (as Wu & He draw it); the
    blue cells are normalized together with one mean and one variance.
    """
    shape = (3, 6, 2, 2)
    n, c, h, w = shape
    fig = new_figure(13.0, 3.8)
    panels = (("batch", "BatchNorm: over N, H, W\n(one statistic per channel)"),
              ("layer", "LayerNorm: over C, H, W\n(one per example)"),
              ("instance", "InstanceNorm: over H, W\n(one per example and channel)"),
              ("group", "GroupNorm (G=2): over C/G, H, W\n(one per example and group)"))
    for i, (kind, title) in enumerate(panels):
        ax = fig.add_subplot(1, 4, i + 1, projection="3d")
        mask = statistic_group(kind, shape, index=(1, 0, 0, 0))
        # voxel grid (x = N, y = C, z = H*W)
        filled = np.ones((n, c, h * w), dtype=bool)
        colors = np.empty(filled.shape, dtype=object)
        colors[...] = "#eeeeee"
        colors[mask.reshape(n, c, h * w)] = "#3b7dd8"
        ax.voxels(filled, facecolors=colors, edgecolor="#777777", linewidth=0.3)
        ax.set_xlabel("N", labelpad=-8)
        ax.set_ylabel("C", labelpad=-8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_zticks([])
        ax.view_init(elev=20, azim=-60)
        ax.set_title(title, fontsize=9)
    fig.suptitle("blue: the values that share one mean and variance (batch N to the right, channels C to the back, "
                 "the H x W positions of each channel stacked upward)", fontsize=9, y=0.99)
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.02, top=0.82, wspace=0.0)
    save_figure(fig, out_path)


def running_statistics(out_path):
    """N1: what BatchNorm1d keeps during training, batch by batch.

    Batches of 8 values from N(3, 2^2): the batch mean and the biased batch
    variance (used to normalize in training) jump around; `running_mean`
    and `running_var` (an exponential moving average with momentum 0.1, of
    the *unbiased* variance) start at 0 and 1 and approach 3 and 4; in eval
    mode they normalize instead of the batch.
    """
    rng = np.random.default_rng(0)
    bn = BatchNorm1d(1)
    means, variances, running_mean, running_var = [], [], [], []
    for _ in range(60):
        batch = rng.normal(3.0, 2.0, size=(8, 1))
        bn(Tensor(batch.astype(np.float32)))
        means.append(batch.mean())
        variances.append(batch.var())
        running_mean.append(float(bn.running_mean.numpy()[0]))
        running_var.append(float(bn.running_var.numpy()[0]))
    fig = new_figure(10.0, 4.0)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    left.plot(means, ".", label="batch mean (normalizes in train)")
    left.plot(running_mean, "-", label="running_mean (normalizes in eval)")
    left.axhline(3.0, color="gray", linestyle=":", label="true mean 3")
    right.plot(variances, ".", label="biased batch variance (train)")
    right.plot(running_var, "-", label="running_var: EMA of the unbiased variance")
    right.axhline(4.0, color="gray", linestyle=":", label="true variance 4")
    for ax, title in ((left, "mean"), (right, "variance")):
        ax.set_xlabel("training batch (size 8)")
        ax.set_title(f"BatchNorm1d(1), momentum 0.1: {title}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out_path)


def _box(ax, x, y, text, color):
    ax.text(x, y, text, ha="center", va="center", fontsize=9,
            bbox=dict(boxstyle="round,pad=0.35", facecolor=color, edgecolor="#444444"))


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color="#333333", lw=1.0))


def pre_post_ln(out_path):
    """N4: one Transformer encoder layer with post-LN (Vaswani et al. 2017) and pre-LN (Xiong et al. 2020)."""
    fig = new_figure(9.0, 6.2)
    for i, (title, pre) in enumerate((("post-LN (original Transformer)", False), ("pre-LN (most later models)", True))):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 13)
        ax.axis("off")
        ax.set_title(title, fontsize=10)
        ln, sub, add = "#f6d78b", "#b9d7f0", "#dddddd"
        y = 0.7
        _box(ax, 5, y, "x  (N, T, d_model)", "white")
        for name in ("self-attention", "feed-forward"):
            if pre:
                _box(ax, 5, y + 1.4, "LayerNorm(d_model)", ln)
                _box(ax, 5, y + 2.8, name, sub)
                _box(ax, 5, y + 4.2, "+", add)
                _arrow(ax, (5, y + 0.35), (5, y + 1.05))
                _arrow(ax, (5, y + 1.75), (5, y + 2.45))
                _arrow(ax, (5, y + 3.15), (5, y + 3.85))
                ax.plot([5, 8.3, 8.3], [y + 0.35, y + 0.35, y + 4.2], color="#333333", lw=1.0)
                _arrow(ax, (8.3, y + 4.2), (5.4, y + 4.2))
                ax.text(8.5, y + 2.3, "identity\npath", fontsize=7, va="center")
                y += 4.2
            else:
                _box(ax, 5, y + 1.4, name, sub)
                _box(ax, 5, y + 2.8, "+", add)
                _box(ax, 5, y + 4.2, "LayerNorm(d_model)", ln)
                _arrow(ax, (5, y + 0.35), (5, y + 1.05))
                _arrow(ax, (5, y + 1.75), (5, y + 2.45))
                _arrow(ax, (5, y + 3.15), (5, y + 3.85))
                ax.plot([5, 8.3, 8.3], [y + 0.35, y + 0.35, y + 2.8], color="#333333", lw=1.0)
                _arrow(ax, (8.3, y + 2.8), (5.4, y + 2.8))
                y += 4.2
        if pre:
            _box(ax, 5, y + 1.4, "final LayerNorm (after the stack)", ln)
            _arrow(ax, (5, y + 0.35), (5, y + 1.05))
        ax.text(0.2, 12.4, "each LayerNorm: mean and variance of\none token's d_model features",
                fontsize=7, color="#555555")
    fig.tight_layout()
    save_figure(fig, out_path)


BUILDERS = {"N1": running_statistics, "N2": axes_diagram, "N4": pre_post_ln}
