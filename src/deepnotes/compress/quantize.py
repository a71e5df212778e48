"""Uniform quantization: observers, PyTorch's fake-quantize functions and the `FakeQuantize` module.

An 8-bit affine quantizer maps a real x to an integer q and back (Jacob et al. 2018, "Quantization
and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference")::

    q = clamp(round_half_even(x / s) + z, q_min, q_max)       x_hat = (q - z) * s

``s`` (scale, a float) and ``z`` (zero point, an integer, so that x = 0 is exact) come from the
range [min, max] an *observer* saw:

* affine:     s = (max(max, 0) - min(min, 0)) / (q_max - q_min),  z = q_min - round(min(min, 0) / s);
* symmetric:  s = max(|min|, |max|) / ((q_max - q_min) / 2),  z = 0 (qint8) or 128 (quint8);

``s`` is at least float32's epsilon. Per-tensor: one (s, z) for the tensor; per-channel: one per
slice along ``ch_axis`` (each output channel of a weight). Defaults follow PyTorch: quint8 is
[0, 255], qint8 [-128, 127]; ``reduce_range`` drops one bit ([0, 127], [-64, 63]).

Fake quantization computes x_hat in floating point: the forward sees the rounding error, and
the backward is the straight-through estimator (Bengio et al. 2013): the gradient passes
unchanged where round(x / s) + z fell inside [q_min, q_max] and is zero where it was clamped.
As in PyTorch's kernel, x / s is computed as x * (1 / s) with the scale in float32.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..nn.module import Module

__all__ = ["qrange", "fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine", "quantize_array",
           "calculate_qparams", "MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
           "PercentileObserver", "FakeQuantize"]

QSCHEMES = ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric")
_RANGES = {"quint8": (0, 255), "qint8": (-128, 127)}
EPS = float(np.finfo(np.float32).eps)


def qrange(dtype: str = "quint8", reduce_range: bool = False) -> tuple[int, int]:
    """(q_min, q_max) of ``dtype`` ('quint8' or 'qint8'), one bit fewer with ``reduce_range``."""
    if dtype not in _RANGES:
        raise ValueError(f"qrange: dtype must be 'quint8' or 'qint8', got {dtype!r}")
    lo, hi = _RANGES[dtype]
    return (lo // 2, hi // 2) if reduce_range else (lo, hi)


def _check_range(fn, quant_min, quant_max):
    if not (isinstance(quant_min, (int, np.integer)) and isinstance(quant_max, (int, np.integer))
            and quant_min <= 0 <= quant_max and quant_min < quant_max):
        raise ValueError(f"{fn}: need integers quant_min <= 0 <= quant_max with quant_min < quant_max, "
                         f"got quant_min={quant_min!r}, quant_max={quant_max!r}")


def quantize_array(x, scale, zero_point, quant_min, quant_max):
    """The integers q = clamp(round_half_even(x * (1/s)) + z, q_min, q_max) and the unclamped ones (int64).

    ``scale`` and ``zero_point`` broadcast against ``x`` (per-channel: shaped to the channel axis).
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    inv = (np.float32(1.0) / np.asarray(scale, dtype=np.float32)).astype(dtype)  # as PyTorch: 1/s in float32
    raw = np.rint(x * inv).astype(np.int64) + np.asarray(zero_point, dtype=np.int64)
    return np.clip(raw, quant_min, quant_max), raw


class FakeQuantizeAffine(Function):
    """x_hat = (clamp(round(x / s) + z, q_min, q_max) - z) * s; gradient: straight through inside the range.

    ``scale``/``zero_point`` are arrays broadcast to x (a scalar per tensor, or shaped to the channel
    axis). Neither gets a gradient (PyTorch's ``fake_quantize_per_*_affine`` give none either).
    """

    @staticmethod
    def forward(ctx, x, scale, zero_point, quant_min, quant_max, out_dtype=None):
        q, raw = quantize_array(x, scale, zero_point, quant_min, quant_max)
        ctx.save_for_backward((raw >= quant_min) & (raw <= quant_max))
        out_dtype = x.dtype if out_dtype is None else out_dtype
        s = np.asarray(scale, dtype=np.float32).astype(out_dtype)
        return ((q - np.asarray(zero_point, dtype=np.int64)).astype(out_dtype) * s).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_arrays
        return grad * inside


def _as_tensor_input(fn, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: input must be a deepnotes Tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {x._data.dtype}")


def _array(v):
    return np.asarray(v._data if isinstance(v, Tensor) else v)


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """PyTorch's ``torch.fake_quantize_per_tensor_affine``: one (scale, zero_point) for the whole tensor.

    >>> import deepnotes as dn
    >>> x = dn.tensor([0.5, 1.5, 2.5, 9.0])
    >>> fake_quantize_per_tensor_affine(x, 1.0, 0, -4, 3).numpy()  # half to even; 9 clamps to 3
    array([0., 2., 2., 3.], dtype=float32)
    """
    fn = "fake_quantize_per_tensor_affine"
    _as_tensor_input(fn, input)
    _check_range(fn, quant_min, quant_max)
    s, z = _array(scale), _array(zero_point)
    if s.size != 1 or z.size != 1 or not float(s.ravel()[0]) > 0:
        raise ValueError(f"{fn}: scale must be one positive number and zero_point one integer, got {scale!r}, "
                         f"{zero_point!r}")
    if not quant_min <= int(z.ravel()[0]) <= quant_max:
        raise ValueError(f"{fn}: zero_point={int(z.ravel()[0])} must lie in [{quant_min}, {quant_max}]")
    # PyTorch's per-tensor kernel computes (q - z) * s in float32 whatever the input's dtype
    return FakeQuantizeAffine.apply(input, scale=s.reshape(()), zero_point=z.reshape(()).astype(np.int64),
                                    quant_min=int(quant_min), quant_max=int(quant_max), out_dtype=np.float32)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """PyTorch's ``torch.fake_quantize_per_channel_affine``: a (scale, zero_point) per slice along ``axis``.

    scale: (C,) float, zero_point: (C,) integers, C = input.shape[axis].
    """
    fn = "fake_quantize_per_channel_affine"
    _as_tensor_input(fn, input)
    _check_range(fn, quant_min, quant_max)
    ndim = input._data.ndim
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"{fn}: axis must be in [{-ndim}, {ndim - 1}], got {axis!r}")
    axis %= ndim
    s, z = _array(scale).ravel(), _array(zero_point).ravel()
    channels = input._data.shape[axis]
    if s.size != channels or z.size != channels:
        raise ValueError(f"{fn}: scale and zero_point need {channels} entries (input.shape[{axis}]), "
                         f"got {s.size} and {z.size}")
    if not np.all(s > 0) or np.any(z < quant_min) or np.any(z > quant_max):
        raise ValueError(f"{fn}: scales must be > 0 and zero points in [{quant_min}, {quant_max}]")
    shape = [1] * ndim
    shape[axis] = channels
    return FakeQuantizeAffine.apply(input, scale=s.reshape(shape), zero_point=np.rint(z).astype(np.int64).reshape(shape),
                                    quant_min=int(quant_min), quant_max=int(quant_max))


def calculate_qparams(min_val, max_val, quant_min, quant_max, symmetric, dtype="quint8", eps=EPS,
                      customized_range=False):
    """(scale float32, zero_point int64) from observed minima and maxima (arrays), as PyTorch's observers."""
    min_neg = np.minimum(np.asarray(min_val, dtype=np.float32), np.float32(0))
    max_pos = np.maximum(np.asarray(max_val, dtype=np.float32), np.float32(0))
    if symmetric:
        max_pos = np.maximum(-min_neg, max_pos)
        scale = np.maximum(max_pos / np.float32((quant_max - quant_min) / 2), np.float32(eps))
        mid = (quant_min + quant_max) // 2 if customized_range else 128
        zero_point = np.full(scale.shape, mid if dtype == "quint8" else 0, dtype=np.int64)
    else:
        scale = np.maximum((max_pos - min_neg) / np.float32(quant_max - quant_min), np.float32(eps))
        zero_point = quant_min - np.rint(min_neg / scale).astype(np.int64)
        zero_point = np.clip(zero_point, quant_min, quant_max)
    return scale.astype(np.float32), zero_point.astype(np.int64)


class _Observer(Module):
    """Records the range of what passes through (forward returns its input) and gives (scale, zero_point)."""

    per_channel = False

    def __init__(self, dtype="quint8", qscheme="per_tensor_affine", reduce_range=False, quant_min=None,
                 quant_max=None, eps=EPS):
        super().__init__()
        name = type(self).__name__
        if qscheme not in QSCHEMES or qscheme.startswith("per_channel") != self.per_channel:
            allowed = [q for q in QSCHEMES if q.startswith("per_channel") == self.per_channel]
            raise ValueError(f"{name}: qscheme must be one of {allowed}, got {qscheme!r}")
        self.customized = quant_min is not None or quant_max is not None
        if self.customized:
            _check_range(name, quant_min, quant_max)
            self.quant_min, self.quant_max = int(quant_min), int(quant_max)
        else:
            self.quant_min, self.quant_max = qrange(dtype, reduce_range)
        self.dtype, self.qscheme, self.eps = dtype, qscheme, float(eps)
        self.register_buffer("min_val", Tensor(np.array(np.inf, dtype=np.float32)))
        self.register_buffer("max_val", Tensor(np.array(-np.inf, dtype=np.float32)))

    @property
    def symmetric(self):
        return self.qscheme.endswith("symmetric")

    def forward(self, x):
        data = np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.float32)
        if data.size:
            lo, hi = self._batch_range(data)
            self._update(lo.astype(np.float32), hi.astype(np.float32))
        return x

    def _batch_range(self, data):
        return np.asarray(data.min()), np.asarray(data.max())

    def _update(self, lo, hi):
        self.min_val._data = np.minimum(self.min_val._data, lo)
        self.max_val._data = np.maximum(self.max_val._data, hi)

    def reset_min_max_vals(self):
        self.min_val._data = np.full_like(self.min_val._data, np.inf)
        self.max_val._data = np.full_like(self.max_val._data, -np.inf)

    def calculate_qparams(self):
        """(scale, zero_point): float32 and int64 arrays (shape () per tensor, (C,) per channel)."""
        if not np.all(np.isfinite(self.min_val._data)):
            raise RuntimeError(f"{type(self).__name__}.calculate_qparams: nothing observed yet "
                               f"(call the observer on data first)")
        return calculate_qparams(self.min_val._data, self.max_val._data, self.quant_min, self.quant_max,
                                 self.symmetric, self.dtype, self.eps, self.customized)

    def extra_repr(self):
        return f"dtype={self.dtype}, qscheme={self.qscheme}, range=[{self.quant_min}, {self.quant_max}]"


class MinMaxObserver(_Observer):
    """The running minimum and maximum of everything seen (PyTorch's ``MinMaxObserver``)."""


class MovingAverageMinMaxObserver(_Observer):
    """min <- min + c (batch_min - min), the same for max; the first batch sets them (PyTorch's)."""

    def __init__(self, averaging_constant=0.01, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < averaging_constant <= 1.0:
            raise ValueError(f"MovingAverageMinMaxObserver: averaging_constant must be in (0, 1], got "
                             f"{averaging_constant}")
        self.averaging_constant = float(averaging_constant)

    def _update(self, lo, hi):
        if not np.all(np.isfinite(self.min_val._data)):
            self.min_val._data, self.max_val._data = lo, hi
            return
        c = np.float32(self.averaging_constant)
        self.min_val._data = self.min_val._data + c * (lo - self.min_val._data)
        self.max_val._data = self.max_val._data + c * (hi - self.max_val._data)


class PerChannelMinMaxObserver(_Observer):
    """Minimum and maximum of each slice along ``ch_axis`` (PyTorch's ``PerChannelMinMaxObserver``)."""

    per_channel = True

    def __init__(self, ch_axis=0, dtype="quint8", qscheme="per_channel_affine", **kwargs):
        super().__init__(dtype=dtype, qscheme=qscheme, **kwargs)
        self.ch_axis = int(ch_axis)

    def _batch_range(self, data):
        moved = np.moveaxis(data, self.ch_axis, 0).reshape(data.shape[self.ch_axis], -1)
        return moved.min(axis=1), moved.max(axis=1)

    def _update(self, lo, hi):
        if self.min_val._data.shape != lo.shape:
            self.min_val._data, self.max_val._data = np.full_like(lo, np.inf), np.full_like(hi, -np.inf)
        super()._update(lo, hi)


class PercentileObserver(_Observer):
    """Clip outliers: the range is [P_{100-p}, P_p] of each batch, averaged over the batches seen.

    Not in PyTorch (its ``HistogramObserver`` minimizes the quantization error instead); this is
    the percentile calibration of TensorRT and of Wu et al. 2020, "Integer Quantization for Deep
    Learning Inference". A range narrower than min-max trades clamping a few outliers for a
    finer step on everything else.
    """

    def __init__(self, percentile=99.99, **kwargs):
        super().__init__(**kwargs)
        if not 50.0 < percentile <= 100.0:
            raise ValueError(f"PercentileObserver: percentile must be in (50, 100], got {percentile}")
        self.percentile = float(percentile)
        self.batches = 0

    def _batch_range(self, data):
        lo, hi = np.percentile(data, [100.0 - self.percentile, self.percentile])
        return np.asarray(lo), np.asarray(hi)

    def _update(self, lo, hi):
        n = self.batches
        if n == 0:
            self.min_val._data, self.max_val._data = lo, hi
        else:
            self.min_val._data = (self.min_val._data * n + lo) / (n + 1)
            self.max_val._data = (self.max_val._data * n + hi) / (n + 1)
        self.batches = n + 1

    def reset_min_max_vals(self):
        super().reset_min_max_vals()
        self.batches = 0


class FakeQuantize(Module):
    """Observe, then fake-quantize (PyTorch's ``torch.ao.quantization.FakeQuantize``).

    ``observer_enabled``: update the range from each input; ``fake_quant_enabled``: return the
    fake-quantized input (else the input itself). Calibration = observer only; quantization-aware
    training = both; a frozen model = fake quantization with fixed (scale, zero_point).
    """

    def __init__(self, observer=None):
        super().__init__()
        self.activation_post_process = observer if observer is not None else MovingAverageMinMaxObserver()
        self.observer_enabled, self.fake_quant_enabled = True, True
        ch = getattr(self.activation_post_process, "ch_axis", None)
        self.ch_axis = ch
        self.register_buffer("scale", Tensor(np.array([1.0], dtype=np.float32)))
        self.register_buffer("zero_point", Tensor(np.array([0], dtype=np.int64)))

    @property
    def quant_min(self):
        return self.activation_post_process.quant_min

    @property
    def quant_max(self):
        return self.activation_post_process.quant_max

    def enable_observer(self, enabled=True):
        self.observer_enabled = bool(enabled)
        return self

    def enable_fake_quant(self, enabled=True):
        self.fake_quant_enabled = bool(enabled)
        return self

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def forward(self, x):
        if self.observer_enabled:
            self.activation_post_process(x.detach())
            scale, zero_point = self.calculate_qparams()
            self.scale._data, self.zero_point._data = np.atleast_1d(scale), np.atleast_1d(zero_point)
        if not self.fake_quant_enabled:
            return x
        if self.ch_axis is None:
            return fake_quantize_per_tensor_affine(x, self.scale._data, self.zero_point._data, self.quant_min,
                                                   self.quant_max)
        return fake_quantize_per_channel_affine(x, self.scale._data, self.zero_point._data, self.ch_axis,
                                                self.quant_min, self.quant_max)

    def extra_repr(self):
        return (f"observer={self.observer_enabled}, fake_quant={self.fake_quant_enabled}, "
                f"scale={self.scale._data.tolist()}, zero_point={self.zero_point._data.tolist()}")
