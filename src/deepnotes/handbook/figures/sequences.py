"""Figures for the sequence-model entries of the handbook (inventory S2, S4, S7).

Each builder is a plain function `(out_path) -> None` writing one image (PNG or
SVG, by extension) with matplotlib's Agg backend.  The Huffman tree is laid out
from `build_huffman_tree`'s own codes and the attention map from
`scaled_dot_product_attention`, so those pictures show what the code computes;
the LSTM cell is a schematic of the equations in `deepnotes.nn.LSTMCell`.

References: Hochreiter & Schmidhuber (1997), Neural Computation 9(8), and Gers et
al. (2000) (the LSTM cell and its forget gate); Pascanu et al. (2013),
arXiv:1211.5063 (gradients through time); Vaswani et al. (2017), arXiv:1706.03762
(scaled dot-product attention); Morin & Bengio (2005) and Mikolov et al. (2013),
arXiv:1310.4546 (hierarchical softmax on a Huffman tree).
"""
from __future__ import annotations


import numpy as np

from ... import random as _random
from ...autograd.tensor import Tensor
from ...nn.functional.attention import scaled_dot_product_attention
from ...nn.layers.output_layers import build_huffman_tree
from ...nn.layers.recurrent import LSTM, RNN
from . import new_figure, save_figure

#: word counts of the Huffman figure (a toy corpus)
HUFFMAN_WORDS = {"the": 120, "of": 60, "cat": 20, "sat": 18, "mat": 12, "quokka": 3, "zymurgy": 1}


def huffman_layout(counts):
    """Edges of the Huffman tree as prefix strings: ``{(parent_code, child_code)}`` plus ``{word: code}``.

    A node is named by the branch bits from the root ('' is the root), read
    from `build_huffman_tree`'s ``codes`` and ``lengths``.
    """
    tree = build_huffman_tree(np.asarray(counts, dtype=float))
    codes = {w: "".join(str(int(b)) for b in tree.codes[w, :tree.lengths[w]]) for w in range(len(counts))}
    edges = set()
    for code in codes.values():
        for i in range(len(code)):
            edges.add((code[:i], code[:i + 1]))
    return edges, codes


def huffman_tree_diagram(out_path):
    """S7: the Huffman tree of a toy vocabulary; frequent words sit near the root, rare ones deep."""
    words, counts = list(HUFFMAN_WORDS), list(HUFFMAN_WORDS.values())
    edges, codes = huffman_layout(counts)
    leaves = sorted(codes.values())
    xs = {}

    def x_of(prefix):  # mean x of the leaves below, leaves spaced evenly in code order
        if prefix not in xs:
            below = [i for i, c in enumerate(leaves) if c.startswith(prefix)]
            xs[prefix] = float(np.mean(below))
        return xs[prefix]

    fig = new_figure(9.0, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    for parent, child in edges:
        ax.plot([x_of(parent), x_of(child)], [-len(parent), -len(child)], color="#777777", lw=1.2, zorder=1)
        ax.text((x_of(parent) + x_of(child)) / 2, -(len(parent) + 0.5), child[-1], fontsize=8, color="#555555",
                ha="center", va="center", backgroundcolor="white")
    inner = {p for p, _ in edges}
    for node in inner:
        ax.scatter([x_of(node)], [-len(node)], s=160, color="#cfe0f5", edgecolor="#336699", zorder=2)
    for w, code in zip(words, (codes[i] for i in range(len(words)))):
        ax.scatter([x_of(code)], [-len(code)], s=160, marker="s", color="#fde3c8", edgecolor="#aa5500", zorder=2)
        ax.text(x_of(code), -len(code) - 0.35, f"{w}\n({HUFFMAN_WORDS[w]}, code {code})", ha="center", va="top",
                fontsize=8)
    ax.set_title("Hierarchical softmax: one sigmoid per inner node (circle) on the path; "
                 "code length = number of sigmoids", fontsize=10)
    ax.axis("off")
    ax.set_ylim(-max(len(c) for c in leaves) - 1.3, 0.5)
    save_figure(fig, out_path)


def lstm_cell_diagram(out_path):
    """S2: the LSTM cell: forget, input and output gates, the candidate, and the additive cell path."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig = new_figure(9.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((1.0, 0.8), 7.8, 4.4, boxstyle="round,pad=0.1", facecolor="#f7f7f7",
                                edgecolor="#999999"))

    def box(x, y, text, color):
        ax.add_patch(FancyBboxPatch((x - 0.45, y - 0.3), 0.9, 0.6, boxstyle="round,pad=0.05", facecolor=color,
                                    edgecolor="#333333"))
        ax.text(x, y, text, ha="center", va="center", fontsize=10)

    def op(x, y, text):
        ax.scatter([x], [y], s=420, color="white", edgecolor="#333333", zorder=3)
        ax.text(x, y, text, ha="center", va="center", fontsize=11, zorder=4)

    def arrow(a, b, color="#333333", lw=1.3):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color=color, lw=lw, zorder=2))

    # the cell-state highway
    arrow((0.2, 4.6), (2.35, 4.6), "#d62728", 2.4)
    op(2.6, 4.6, "×")
    arrow((2.85, 4.6), (4.85, 4.6), "#d62728", 2.4)
    op(5.1, 4.6, "+")
    arrow((5.35, 4.6), (9.8, 4.6), "#d62728", 2.4)
    ax.text(0.2, 4.85, "$c_{t-1}$", fontsize=11)
    ax.text(9.3, 4.85, "$c_t$", fontsize=11)
    # gates from [h_{t-1}, x_t]
    ax.plot([0.2, 6.6], [1.2, 1.2], color="#333333", lw=1.3)
    ax.text(0.2, 0.85, "$h_{t-1}$, $x_t$", fontsize=11)
    gates = ((2.6, "$f_t$ σ", "#fde3c8"), (4.0, "$i_t$ σ", "#fde3c8"), (5.1, "$g_t$ tanh", "#d9f0d3"),
             (6.6, "$o_t$ σ", "#fde3c8"))
    for x, text, color in gates:
        box(x, 2.4, text, color)
        arrow((x, 1.2), (x, 2.1))
    arrow((2.6, 2.7), (2.6, 4.35))
    op(4.55, 3.5, "×")
    arrow((4.0, 2.7), (4.4, 3.3))
    arrow((5.1, 2.7), (4.7, 3.3))
    arrow((4.65, 3.75), (5.0, 4.35))
    box(7.6, 3.8, "tanh", "#d9f0d3")
    arrow((7.6, 4.6), (7.6, 4.1))
    op(7.6, 2.4, "×")
    arrow((7.05, 2.4), (7.35, 2.4))
    arrow((7.6, 3.5), (7.6, 2.65))
    arrow((7.85, 2.4), (9.8, 2.4))
    ax.text(9.3, 2.6, "$h_t$", fontsize=11)
    ax.text(1.1, 5.45, "$c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$,   $h_t = o_t \\odot \\tanh(c_t)$;   "
                       "gates: σ of a linear map of $[h_{t-1}, x_t]$", fontsize=10)
    save_figure(fig, out_path)


def attention_example(n=8, d=16, seed=0):
    """(weights (n, n), perm): scaled dot-product attention where query i resembles key perm[i]."""
    rng = np.random.default_rng(seed)
    keys = rng.normal(size=(n, d))
    perm = rng.permutation(n)
    queries = keys[perm] + 0.3 * rng.normal(size=(n, d))
    _, weights = scaled_dot_product_attention(Tensor(queries[None]), Tensor(keys[None]), Tensor(keys[None]),
                                              need_weights=True)
    return weights.numpy()[0], perm


def attention_weights_diagram(out_path):
    """S4: a scaled dot-product attention map where each query matches one key: softmax(QK^T / sqrt(d))."""
    weights, _ = attention_example()
    fig = new_figure(5.2, 4.6)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax)
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    ax.set_title("attention weights softmax(Q K^T / sqrt(d))\neach row sums to 1", fontsize=9)
    save_figure(fig, out_path)


def gradient_through_time(length=60, hidden=32, forget_bias=3.0, seed=0):
    """Relative gradient norms ||d sum(h_T) / d x_t|| / ||d sum(h_T) / d x_T|| at initialization, t = 0..T-1.

    Returns a dict {label: (T,) array} for a tanh RNN, an LSTM with PyTorch's
    default init, and the same LSTM with `forget_bias` added to its forget-gate
    bias (so f_t is near 1).  The global random state is restored afterwards.
    """
    state = _random.get_rng_state()
    try:
        _random.manual_seed(seed)
        x = np.random.default_rng(seed).normal(size=(length, 1, 4))
        models = {"vanilla RNN (tanh)": RNN(4, hidden).double(), "LSTM, default init": LSTM(4, hidden).double()}
        lstm = LSTM(4, hidden).double()
        lstm.bias_hh_l0.data[hidden:2 * hidden] += forget_bias        # gate order i, f, g, o
        models[f"LSTM, forget-gate bias +{forget_bias:g}"] = lstm
        out = {}
        for label, model in models.items():
            xt = Tensor(x, requires_grad=True)
            model(xt)[0][-1].sum().backward()
            norms = np.linalg.norm(xt.grad.numpy()[:, 0, :], axis=1)
            out[label] = norms / norms[-1]
        return out
    finally:
        _random.set_rng_state(state)


def gradient_through_time_diagram(out_path):
    """S1/S2: how much gradient from the last step reaches each earlier input, RNN vs LSTM, at initialization."""
    curves = gradient_through_time()
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for label, rel in curves.items():
        steps_back = np.arange(len(rel))[::-1]
        ax.semilogy(steps_back, np.maximum(rel, 1e-300), label=label, lw=2)
    ax.set_xlabel("steps between input x_t and the last output h_T  (T - t)")
    ax.set_ylabel("||dh_T / dx_t||, relative to t = T")
    ax.set_title("Gradient through time at initialization (untrained, hidden size 32)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    save_figure(fig, out_path)
