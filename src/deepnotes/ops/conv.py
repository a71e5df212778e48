"""Convolution by im2col and one GEMM; transposed convolution as its adjoint (inventory C1, C3, C5, C6).

Layout is PyTorch's: inputs (N, C, *S) with S the spatial sizes ((L,) or (H, W)),
convolution weights (O, C/G, *K), transposed-convolution weights (C_in, C_out/G, *K),
G = groups.  Like every deep-learning library, "convolution" is cross-correlation
(the kernel is not flipped):

    y[n, o, p] = b[o] + sum_{c, k} W[o, c, k] * xp[n, g(o) C/G + c, p * stride + k * dilation]

with xp the zero-padded input and p, k multi-indices over the spatial axes.
Output size per axis: floor((S + P_lo + P_hi - D (K - 1) - 1) / stride) + 1.

How it is computed.  `im2col` unfolds every window of xp into a column, so the
convolution becomes one matrix product per group (batched over the group axis):
    cols: (G, C/G * prod(K), N * prod(P)),   W as (G, O/G, C/G * prod(K)),   y = W @ cols.
The windows are a strided *view* of xp (`as_strided`): one copy makes the columns.
The backward pass is two more products:
    dW    = g @ cols^T                       (one GEMM per group)
    dcols = W^T @ g,  dx = col2im(dcols)     (adds each window back to where it came from)
`col2im` loops over the kernel offsets only: for a fixed offset the windows
touch a strided slice of xp, so one slice-add per offset accumulates them all.
For dcols the positions are ordered (p, n), the batch innermost, so that xp is
(C, *S, N) and, at stride 1, a slice-add runs over rows of W * N contiguous
floats rather than rows of W (14 floats in a 14 x 14 map, where NumPy's loop
overhead dominated: 6.0 ms against 2.8 ms for a 32-channel 14 x 14 batch of 64).

Memory layout.  `W @ cols` comes out as (O, N, *P); the output is that array seen as
(N, O, *P) (a "channel-major" view, no copy), and col2im returns the input gradient
the same way.  Elementwise ops and the pooling kernels keep this layout, so a
Conv-ReLU-Pool stack never pays for a transposing copy; the next convolution's
im2col reads channel-major input directly.

Transposed convolution is the adjoint of convolution (Dumoulin & Visin, 2016):
if conv is the linear map x -> C x, conv_transpose is y -> C^T y, which is exactly
the input-gradient computation above; its own backward is a convolution.  It is
not an inverse: C^T C != I in general (tests check both facts).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function
from ..backends import blas

EVERY = (slice(None), slice(None))  # the two leading (batch and channel) axes


def conv_output_length(size, kernel, stride=1, pad_lo=0, pad_hi=0, dilation=1):
    """floor((size + pad_lo + pad_hi - dilation (kernel - 1) - 1) / stride) + 1 along one axis."""
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def window_slices(offset, stride, dilation, out):
    """For kernel offset `offset`, the slices of the padded input that the windows' elements form.

    The element at offset k of the window of output position p sits at p * stride + k * dilation,
    so over all p it is the strided slice k * dilation : ... : stride with `out` elements.
    """
    return tuple(
        slice(k * d, k * d + s * (o - 1) + 1, s) for k, s, d, o in zip(offset, stride, dilation, out)
    )


def im2col(x, kernel, stride, padding, dilation, groups, out=None):
    """Unfold the windows of x: (N, C, *S) into cols: (G, C/G * prod(K), N * prod(P)).

    cols[g, (c, k), (n, p)] = xp[n, g C/G + c, p * stride + k * dilation].  `padding` is
    ((lo, hi), ...) per spatial axis; `out` (the output sizes P) defaults to the largest that fits.
    """
    n, c, *size = x.shape
    # Pad into channel-major order (C, N, *S): the copy of the windows below then reads
    # each image's rows contiguously, about twice as fast as from (N, C, *S).
    xp = np.zeros((c, n, *(s + lo + hi for s, (lo, hi) in zip(size, padding))), dtype=x.dtype)
    xp[EVERY + _interior(size, padding)] = np.moveaxis(x, 1, 0)
    if out is None:
        out = tuple(conv_output_length(s, k, st, 0, 0, d)
                    for s, k, st, d in zip(xp.shape[2:], kernel, stride, dilation))
    stride_c, stride_n, *stride_s = xp.strides
    windows = as_strided(
        xp,
        shape=(groups, c // groups, *kernel, n, *out),
        strides=(c // groups * stride_c, stride_c, *(d * s for d, s in zip(dilation, stride_s)),
                 stride_n, *(st * s for st, s in zip(stride, stride_s))),
        writeable=False,
    )
    return np.ascontiguousarray(windows).reshape(groups, -1, n * math.prod(out))


def col2im(cols, x_shape, kernel, stride, padding, dilation, groups, out):
    """The adjoint of `im2col`, with the batch innermost: add every column entry back to the input
    position it was read from.

    cols: (G, C/G * prod(K), prod(P) * N), cols[g, (c, k), (p, n)] (im2col's positions (n, p)
    transposed) -> (N, C, *S).  Padded positions are dropped.
    """
    n, c, *size = x_shape
    xp = np.zeros((c, *(s + lo + hi for s, (lo, hi) in zip(size, padding)), n), dtype=cols.dtype)
    blocks = cols.reshape(c, *kernel, *out, n)  # (G, C/G) merged, like xp's channel axis
    for offset in np.ndindex(*kernel):
        xp[(slice(None),) + window_slices(offset, stride, dilation, out)] += blocks[(slice(None),) + offset]
    # Channel-major, like the convolution's output: (N, C, *S) over a C-contiguous (C, N, *S) array.
    interior = xp[(slice(None),) + _interior(size, padding)]
    return np.ascontiguousarray(np.moveaxis(interior, -1, 1)).swapaxes(0, 1)


def _interior(size, padding):
    """The slices of a padded array that hold the original input."""
    return tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, padding))


def _to_group_matrix(y, groups):
    """(N, O, *P) -> (G, O/G, N * prod(P)): the layout of `W @ cols`."""
    n, o = y.shape[:2]
    return y.reshape(n, groups, o // groups, -1).transpose(1, 2, 0, 3).reshape(groups, o // groups, -1)


def _to_group_matrix_batch_last(y, groups):
    """(N, O, *P) -> (G, O/G, prod(P) * N): `_to_group_matrix` with the positions ordered (p, n)."""
    n, o = y.shape[:2]
    return y.reshape(n, groups, o // groups, -1).transpose(1, 2, 3, 0).reshape(groups, o // groups, -1)


def _from_group_matrix(m, n, out):
    """(G, O/G, N * prod(P)) -> (N, O, *P)."""
    g, og, _ = m.shape
    return m.reshape(g * og, n, -1).transpose(1, 0, 2).reshape(n, g * og, *out)


def _grouped(weight, groups):
    """Weight (O, C/G, *K) as G matrices (G, O/G, C/G * prod(K))."""
    return weight.reshape(groups, weight.shape[0] // groups, -1)


def _bias_shape(bias, n_spatial):
    return bias.reshape(-1, *(1,) * n_spatial)


# The three products of convolution.  Each serves twice: transposed convolution's forward
# pass is convolution's input gradient, and its input gradient is convolution's forward pass.
def conv_forward(x, weight, stride, padding, dilation, groups, out=None):
    """(y, cols): y = W @ im2col(x) reshaped to (N, O, *P), without bias; cols kept for dW."""
    cols = im2col(x, weight.shape[2:], stride, padding, dilation, groups, out)
    if out is None:
        out = tuple(conv_output_length(s, k, st, lo, hi, d)
                    for s, k, st, (lo, hi), d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation))
    return _from_group_matrix(blas.matmul(_grouped(weight, groups), cols), x.shape[0], out), cols


def conv_input_grad(grad, weight, x_shape, stride, padding, dilation, groups, out=None):
    """dL/dx of y = conv(x, W) from g = dL/dy: (N, O, *P) -> (N, C, *S), dx = col2im(W^T g), the
    positions of g and W^T g ordered (p, n) for col2im.
    `out`: a (G, C/G * prod(K), N * prod(P)) array to hold W^T g (the spent columns of x)."""
    cols = blas.matmul(_grouped(weight, groups), _to_group_matrix_batch_last(grad, groups), trans_a=True, out=out)
    return col2im(cols, x_shape, weight.shape[2:], stride, padding, dilation, groups, grad.shape[2:])


def conv_weight_grad(cols, grad, weight_shape, groups):
    """dL/dW of y = conv(x, W) from g = dL/dy and the columns of x: dW = g cols^T."""
    return blas.matmul(_to_group_matrix(grad, groups), cols, trans_b=True).reshape(weight_shape)


def _bias_grad(grad):
    return grad.sum(axis=(0, *range(2, grad.ndim)))


class ConvNd(Function):
    """Convolution over 1 or 2 (or more) spatial axes: y = conv(x, W) + b, by im2col and one GEMM.

    x: (N, C, *S), weight: (O, C/G, *K), bias: (O,) or absent -> y: (N, O, *P).
    Params: stride, dilation (tuples), padding ((lo, hi) per axis, zeros), groups.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride, padding, dilation, groups):
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        y, cols = conv_forward(x, weight, **ctx.geometry)
        if bias is not None:
            y += _bias_shape(bias, x.ndim - 2)
        # The columns are only needed for dW, the weight only for dx.
        ctx.save_for_backward(cols if ctx.needs_input_grad[1] else None, weight)
        ctx.x_shape = x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_arrays
        needs = ctx.needs_input_grad
        dw = conv_weight_grad(cols, grad, weight.shape, ctx.geometry["groups"]) if needs[1] else None
        # dW has read the columns; on the graph's last backward W^T g (the same shape) can take their
        # memory, the largest array of the layer, instead of a second one alive beside it.
        # (A 1x1 convolution's columns can be a read-only view of the padded input: not reused.)
        reusable = ctx.last_backward and cols is not None and cols.flags.writeable
        reuse = cols if reusable and cols.dtype == np.result_type(weight, grad) else None
        dx = conv_input_grad(grad, weight, ctx.x_shape, **ctx.geometry, out=reuse) if needs[0] else None
        if len(needs) == 2:
            return dx, dw
        return dx, dw, _bias_grad(grad) if needs[2] else None


class ConvTransposeNd(Function):
    """Transposed convolution y = C^T x + b: the adjoint of the convolution C with the same weight.

    x: (N, C_in, *S), weight: (C_in, C_out/G, *K), bias: (C_out,) -> y: (N, C_out, *output_shape).
    Read the weight as a convolution C from C_out to C_in channels; then this forward pass is
    C's input gradient, and this input gradient is C itself:
        y = conv_input_grad(x),   dx = conv(g),   dW = conv_weight_grad(columns of g, x).
    `output_shape` fixes the spatial size (it carries `output_padding`).
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride, padding, dilation, groups, output_shape):
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        y_shape = (x.shape[0], weight.shape[1] * groups, *output_shape)
        y = conv_input_grad(x, weight, y_shape, **ctx.geometry)
        if bias is not None:
            y += _bias_shape(bias, x.ndim - 2)
        ctx.save_for_backward(x, weight)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_arrays
        needs = ctx.needs_input_grad
        # Only x's S windows: output_padding may leave room for one more.
        dx, cols = conv_forward(grad, weight, out=x.shape[2:], **ctx.geometry)
        dw = conv_weight_grad(cols, x, weight.shape, ctx.geometry["groups"]) if needs[1] else None
        if len(needs) == 2:
            return dx, dw
        return dx, dw, _bias_grad(grad) if needs[2] else None
