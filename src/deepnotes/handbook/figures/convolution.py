"""Figures for the convolution entries of the handbook (inventory C1, C4, C5, C6).

Each builder is a plain function `(out_path) -> None` writing one image (PNG or
SVG, by extension) with matplotlib's Agg backend.  The pictures are computed by
deepnotes itself: output sizes come from `conv_output_size`, the convolution
matrix from applying `conv1d` to unit vectors, and the receptive-field masks
from backpropagating through a stack of convolutions, so a figure cannot drift
from the code it illustrates.

References: Dumoulin & Visin (2016), "A guide to convolution arithmetic for deep
learning", arXiv:1603.07285 (output sizes, transposed convolution as C^T);
Yu & Koltun (2016), arXiv:1511.07122, and Wang et al. (2018), arXiv:1702.08502
(dilated stacks and gridding); Azulay & Weiss (2019), JMLR 20 (pooling and shifts).
"""
from __future__ import annotations


import numpy as np

from ...autograd.tensor import Tensor
from ...nn.functional.conv import conv1d, conv2d
from ...nn.functional.pooling import avg_pool2d, max_pool2d
from ...nn.utils.conv_arith import conv_output_size
from . import new_figure, save_figure


def conv_matrix(length, kernel_size, stride=1, padding=0, dilation=1):
    """The (L_out, L) matrix C of a 1-channel conv1d with an all-distinct kernel 1..K: y = C x.

    Column i is the convolution of the i-th unit vector, so C is exactly what
    `conv1d` computes; `conv_transpose1d` with the same kernel multiplies by C^T.
    """
    weight = Tensor(np.arange(1.0, kernel_size + 1).reshape(1, 1, kernel_size))
    eye = Tensor(np.eye(length).reshape(length, 1, length))
    out = conv1d(eye, weight, stride=stride, padding=padding, dilation=dilation).numpy()  # (L, 1, L_out)
    return out[:, 0, :].T


def receptive_mask(dilations, size=33, kernel_size=3):
    """(size, size) int array: how many paths lead from each input pixel to the centre output of a 2-D stack.

    The stack is one single-channel `kernel_size` x `kernel_size` convolution
    per dilation, all weights one, padding keeping the size; the mask is the
    gradient of the centre output with respect to the input.  Zeros inside the
    bounding box are the "gridding" holes of dilated stacks.
    """
    x = Tensor(np.zeros((1, 1, size, size)), requires_grad=True)
    h = x
    for d in dilations:
        w = Tensor(np.ones((1, 1, kernel_size, kernel_size)))
        h = conv2d(h, w, padding=d * (kernel_size - 1) // 2, dilation=d)
    c = size // 2
    h[0, 0, c, c].backward()
    return np.rint(x.grad.numpy()[0, 0]).astype(int)


def output_size_diagram(out_path):
    """C1: a 7x7 input padded by 1, a 3x3 kernel at stride 2, and the 4x4 output (W - K + 2P)/S + 1."""
    from matplotlib.patches import Rectangle

    W, K, P, S = 7, 3, 1, 2
    out = conv_output_size(W, K, stride=S, padding=P)
    fig = new_figure(9.0, 4.2)
    ax = fig.add_subplot(1, 2, 1)
    n = W + 2 * P
    for i in range(n):
        for j in range(n):
            pad = not (P <= i < P + W and P <= j < P + W)
            ax.add_patch(Rectangle((j, n - 1 - i), 1, 1, facecolor="#eeeeee" if pad else "#cfe0f5",
                                   edgecolor="#888888", lw=0.6))
    colors = ["#d62728", "#2ca02c", "#9467bd"]
    for t, (r, c) in enumerate([(0, 0), (0, 1), (1, 0)]):
        ax.add_patch(Rectangle((c * S + 0.06 * t, n - K - r * S + 0.06 * t), K, K, fill=False,
                               edgecolor=colors[t], lw=2.2))
    ax.set_xlim(-0.2, n + 0.2)
    ax.set_ylim(-0.2, n + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"input W={W}, padding P={P} (grey)\nkernel K={K}, stride S={S}: three window positions", fontsize=10)
    ax2 = fig.add_subplot(1, 2, 2)
    for i in range(out):
        for j in range(out):
            ax2.add_patch(Rectangle((j, out - 1 - i), 1, 1, facecolor="#fde3c8", edgecolor="#888888", lw=0.6))
    for t, (r, c) in enumerate([(0, 0), (0, 1), (1, 0)]):
        ax2.add_patch(Rectangle((c + 0.1, out - 1 - r + 0.1), 0.8, 0.8, fill=False, edgecolor=colors[t], lw=2.2))
    ax2.set_xlim(-0.2, out + 0.2)
    ax2.set_ylim(-0.2, out + 0.2)
    ax2.set_aspect("equal")
    ax2.axis("off")
    ax2.set_title(f"output {out} x {out}\nfloor(({W} - {K} + 2*{P}) / {S}) + 1 = {out}", fontsize=10)
    save_figure(fig, out_path)


def transposed_matrix_diagram(out_path):
    """C5: the matrix C of a stride-2 convolution (length 8 -> 3) next to C^T, which a transposed convolution applies."""
    C = conv_matrix(8, 3, stride=2)
    fig = new_figure(9.0, 4.4)
    for k, (mat, title) in enumerate(((C, f"conv: y = C x, C is {C.shape[0]}x{C.shape[1]}"),
                                      (C.T, f"transposed conv: x' = C^T y, {C.shape[1]}x{C.shape[0]}"))):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.imshow(mat, cmap="Blues", vmin=0, vmax=4)
        for (i, j), v in np.ndenumerate(mat):
            if v:
                ax.text(j, i, f"w{int(v)}", ha="center", va="center", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
    fig.suptitle("same kernel (w1, w2, w3), stride 2: C^T spreads 3 values back to 8 positions, it does not invert C",
                 fontsize=9)
    fig.subplots_adjust(top=0.8)
    save_figure(fig, out_path)


def dilation_gridding_diagram(out_path):
    """C6: which input pixels reach one output after three 3x3 layers: dilations (1,1,1), (1,2,4), (2,2,2)."""
    stacks = ((1, 1, 1), (1, 2, 4), (2, 2, 2))
    fig = new_figure(11.0, 4.0)
    for k, dil in enumerate(stacks):
        mask = receptive_mask(dil, size=21)
        rows, cols = np.nonzero(mask)
        field = rows.max() - rows.min() + 1
        ax = fig.add_subplot(1, 3, k + 1)
        ax.imshow(mask > 0, cmap="Blues", vmin=0, vmax=1.4)
        ax.set_xticks([])
        ax.set_yticks([])
        holes = int((mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1] == 0).sum())
        ax.set_title(f"dilations {dil}: field {field}x{field}\n27 weights, {holes} holes in the field", fontsize=10)
    save_figure(fig, out_path)


def pooling_shift_example():
    """A diagonal line in a 4 x 4 image and the same line shifted right by one pixel, each 2 x 2 max- and avg-pooled.

    Returns {name: (4, 4) or (2, 2) array}: 'image', 'shifted', 'max', 'max_shifted', 'avg', 'avg_shifted'.
    """
    image = np.eye(4)
    shifted = np.roll(image, 1, axis=1)
    out = {"image": image, "shifted": shifted}
    for name, pool in (("max", max_pool2d), ("avg", avg_pool2d)):
        out[name] = pool(Tensor(image[None, None]), 2).numpy()[0, 0]
        out[f"{name}_shifted"] = pool(Tensor(shifted[None, None]), 2).numpy()[0, 0]
    return out


def pooling_shift_diagram(out_path):
    """C4: 2 x 2 max and average pooling of an image and of the image shifted by one pixel: the pooled maps change."""
    ex = pooling_shift_example()
    fig = new_figure(10.0, 5.0)
    panels = (("image", "input"), ("max", "2x2 max pool"), ("avg", "2x2 avg pool"),
              ("shifted", "input shifted right by 1"), ("max_shifted", "max pool of shifted"),
              ("avg_shifted", "avg pool of shifted"))
    for k, (key, title) in enumerate(panels):
        ax = fig.add_subplot(2, 3, k + 1)
        a = ex[key]
        ax.imshow(a, cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=9, color="white" if v > 0.6 else "black")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
    fig.suptitle("Pooling absorbs shifts only inside a window: a one-pixel shift across window borders changes the output",
                 fontsize=9)
    save_figure(fig, out_path)
