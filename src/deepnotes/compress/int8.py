"""A real integer inference path: int8 weights, uint8 activations, int32 accumulation, fixed-point requantization.

`convert_int8(frozen)` takes a frozen fake-quantized model (`deepnotes.compress.qmodel`) and
computes the same thing with integers only (Jacob et al. 2018, section 2; gemmlowp). For one
layer, with input x = s_x (q_x - z_x), weights W = s_w q_w (symmetric, z_w = 0) and output scale s_y::

    acc   = sum_k (q_x - z_x) q_w  +  round(b / (s_x s_w))            int32
    q_y   = clamp(z_y + round(M acc), 0, 255),  M = s_x s_w / s_y      (per output channel)

M is a real number in (0, 1) in practice; it is stored as an int32 M0 in [2^30, 2^31) and a shift
n with M = M0 2^-n, so ``round(M acc) = (acc M0 + 2^(n-1)) >> n`` in int64 (rounding half up).
A fused ReLU is the lower clamp at z_y. MaxPool and Flatten act on the integers directly.

The fake-quantized model rounds the same real numbers (half to even, in floating point), so
each layer's output agrees with it within one quantization step s_y (a tie, a bias rounding or
the multiplier's 2^-31 relative error can flip one rounding).

Speed: NumPy's integer matmul has no BLAS kernel (it is a plain loop), so this path is *slower*
than float32 on a CPU here; int8 pays off on hardware with integer dot-product units
(VNNI, ARM dot product, TPUs, int8 tensor cores). It is here to show the arithmetic exactly.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.containers import Identity
from ..nn.layers.activation import ReLU
from ..nn.layers.conv import Conv1d
from ..nn.layers.dropout import Dropout
from .qmodel import PASSTHROUGH, QuantStage
from .quantize import FakeQuantize, quantize_array

__all__ = ["quantize_multiplier", "requantize", "Int8Layer", "Int8Model", "convert_int8"]


def quantize_multiplier(m):
    """(M0, shift) with M0 an integer in [2^30, 2^31) and m = M0 * 2^-shift (arrays, per channel).

    >>> quantize_multiplier(0.375)
    (array([1610612736]), array([32]))
    """
    m = np.atleast_1d(np.asarray(m, dtype=np.float64))
    if np.any(m <= 0) or np.any(m >= 2.0 ** 31):
        raise ValueError(f"quantize_multiplier: multipliers must be in (0, 2^31), got min {m.min()}, max {m.max()}")
    frac, exp = np.frexp(m)  # m = frac * 2^exp, frac in [0.5, 1)
    m0 = np.rint(frac * 2.0 ** 31).astype(np.int64)
    carry = m0 == 2 ** 31  # frac rounded up to 1.0
    m0[carry] //= 2
    exp = exp + carry
    shift = 31 - exp
    if np.any(shift > 62) or np.any(shift < 1):
        raise ValueError(f"quantize_multiplier: multiplier out of the supported range (2^-31, 2^30), got {m}")
    return m0, shift.astype(np.int64)


def requantize(acc, m0, shift):
    """round(acc * M0 * 2^-shift) in int64 arithmetic (half up): acc int32, M0/shift broadcast to it."""
    prod = acc.astype(np.int64) * m0
    return (prod + (np.int64(1) << (shift - 1))) >> shift


def _im2col(x, kernel, stride, padding, dilation):
    """(N, C, H, W) -> (N, H_out, W_out, C * kH * kW) windows, zero padding (x is already zero-point shifted)."""
    (ph, pw), (kh, kw), (sh, sw), (dh, dw) = padding, kernel, stride, dilation
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = np.lib.stride_tricks.sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, H_out, W_out, kH, kW)
    n, c, ho, wo = win.shape[:4]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n, ho, wo, c * kh * kw)


class Int8Layer:
    """Linear, Conv1d or Conv2d in integers: ``forward(q_x) -> q_y`` (uint8 in, uint8 out)."""

    def __init__(self, stage: QuantStage, in_scale, in_zero_point):
        layer = stage.layer
        if getattr(layer, "groups", 1) != 1:
            raise ValueError("Int8Layer: grouped convolutions are not supported")
        w = layer.weight._data  # in its own dtype: the same roundings as the fake-quantized model
        w_scale, _ = stage.weight_qparams()  # symmetric: zero point 0
        qmax = 2 ** (stage.weight_bits - 1) - 1
        shape = (-1,) + (1,) * (w.ndim - 1)
        self.kind = type(layer).__name__
        self.weight = quantize_array(w, w_scale.reshape(shape), 0, -qmax - 1, qmax)[0].astype(np.int8)
        out_fq = stage.activation_post_process
        self.in_scale, self.in_zero_point = float(in_scale), int(in_zero_point)
        self.out_scale, self.out_zero_point = float(out_fq.scale._data[0]), int(out_fq.zero_point._data[0])
        self.qmin, self.qmax = out_fq.quant_min, out_fq.quant_max
        acc_scale = self.in_scale * np.asarray(w_scale, dtype=np.float64)  # (C_out,) or (1,)
        bias = np.zeros(w.shape[0]) if layer.bias is None else layer.bias._data.astype(np.float64)
        self.bias = np.rint(bias / acc_scale).astype(np.int32)
        self.m0, self.shift = quantize_multiplier(acc_scale / self.out_scale * np.ones(w.shape[0]))
        self.relu = stage.relu
        if self.kind != "Linear":
            n = 1 if isinstance(layer, Conv1d) else 2
            pad = layer.padding
            if isinstance(pad, str):
                raise ValueError(f"Int8Layer: string padding {pad!r} is not supported; give numbers")
            two = (lambda t: (1,) + tuple(t)) if n == 1 else tuple
            self.kernel, self.stride = two(layer.kernel_size), two(layer.stride)
            self.padding, self.dilation = ((0,) + tuple(pad)) if n == 1 else tuple(pad), two(layer.dilation)
            self.conv1d = n == 1

    def accumulate(self, q_x):
        """The int32 accumulator sum (q_x - z_x) q_w + bias, channels last for a convolution."""
        x = q_x.astype(np.int32) - np.int32(self.in_zero_point)
        w = self.weight.astype(np.int32)
        if self.kind == "Linear":
            return x @ w.T + self.bias
        if self.conv1d:
            x, w = x[:, :, None, :], w[:, :, None, :]
        cols = _im2col(x, self.kernel, self.stride, self.padding, self.dilation)
        acc = cols @ w.reshape(w.shape[0], -1).T + self.bias  # (N, H_out, W_out, C_out) int32
        return acc

    def forward(self, q_x):
        acc = self.accumulate(q_x)
        q = requantize(acc, self.m0, self.shift) + self.out_zero_point
        q = np.clip(q, self.out_zero_point if self.relu else self.qmin, self.qmax).astype(np.uint8)
        if self.kind == "Linear":
            return q
        q = q.transpose(0, 3, 1, 2)  # back to NCHW
        return q[:, :, 0, :] if self.conv1d else q

    __call__ = forward


class Int8Model:
    """The integer model: ``model(x)`` quantizes the float input, runs the integer layers, dequantizes."""

    def __init__(self, steps, in_scale, in_zero_point, out_scale, out_zero_point, qmin, qmax):
        self.steps = steps
        self.in_scale, self.in_zero_point = in_scale, in_zero_point
        self.out_scale, self.out_zero_point = out_scale, out_zero_point
        self.qmin, self.qmax = qmin, qmax

    def quantize_input(self, x):
        x = np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.float32)
        return quantize_array(x, np.float32(self.in_scale), self.in_zero_point, self.qmin, self.qmax)[0].astype(np.uint8)

    def forward_int(self, q):
        """The integer forward: uint8 input codes -> uint8 output codes."""
        for kind, step in self.steps:
            if kind == "int8":
                q = step(q)
            elif kind == "relu":
                q = np.maximum(q, np.uint8(step))
            elif kind == "module":  # Flatten, MaxPool: exact on the codes (monotone, no arithmetic)
                with no_grad():
                    q = step(Tensor(q.astype(np.float32)))._data.astype(np.uint8)
        return q

    def __call__(self, x):
        q = self.forward_int(self.quantize_input(x))
        return ((q.astype(np.float32) - np.float32(self.out_zero_point)) * np.float32(self.out_scale))

    def nbytes(self):
        """Bytes of the integer weights, int32 biases and the per-channel multipliers (M0, shift)."""
        return int(sum(s.weight.nbytes + s.bias.nbytes + 8 * s.m0.size for k, s in self.steps if k == "int8"))


def convert_int8(qmodel) -> Int8Model:
    """The integer version of a frozen fake-quantized Sequential (`qmodel.freeze` / `quantize_ptq`)."""
    mods = list(qmodel)
    if not mods or not isinstance(mods[0], FakeQuantize):
        raise ValueError("convert_int8: expected a model from deepnotes.compress.qmodel.prepare (input FakeQuantize first)")
    first = mods[0]
    if first.activation_post_process.quant_min != 0 or first.activation_post_process.quant_max != 255:
        raise ValueError("convert_int8: activations must be quint8 [0, 255]")
    scale, zp = float(first.scale._data[0]), int(first.zero_point._data[0])
    in_scale, in_zp = scale, zp
    steps = []
    for m in mods[1:]:
        if isinstance(m, QuantStage):
            layer = Int8Layer(m, scale, zp)
            steps.append(("int8", layer))
            scale, zp = layer.out_scale, layer.out_zero_point
        elif isinstance(m, ReLU):
            steps.append(("relu", zp))
        elif isinstance(m, (Identity, Dropout)):
            continue
        elif isinstance(m, PASSTHROUGH):
            steps.append(("module", m))
        else:
            raise ValueError(f"convert_int8: cannot run a {type(m).__name__} in integers")
    return Int8Model(steps, in_scale, in_zp, scale, zp, 0, 255)
