"""Quantizing a model: BatchNorm folding, post-training quantization (PTQ) and quantization-aware training (QAT).

The model is an ``nn.Sequential`` (nested ones are flattened) of Linear / Conv1d / Conv2d layers,
BatchNorm after them, ReLU, and modules that commute with quantization (Flatten, MaxPool,
Dropout, Identity). `prepare` builds the fake-quantized model, as PyTorch's eager mode does:

    input FakeQuantize -> [layer (+ ReLU) with fake-quantized weights -> output FakeQuantize] ...

* BatchNorm is folded first (`fuse_conv_bn_eval`): an eval-mode BN after a layer is an affine
  map per output channel, ``W' = W g / sqrt(v + eps)``, ``b' = (b - m) g / sqrt(v + eps) + beta``.
* Weights: symmetric qint8 ([-128, 127], zero point 0), per output channel or per tensor, from
  the current weights at every forward (min-max).
* Activations: affine quint8 ([0, 255]) after each layer (after its ReLU, fused as in PyTorch).

PTQ = `prepare`, `calibrate` on a few batches (observers on, no rounding), `freeze` (fixed
scales, rounding on). QAT = `prepare(..., qat=True)`, train with the fake quantizers in the
graph (straight-through gradients, Jacob et al. 2018), then `freeze`. `deepnotes.compress.int8`
turns a frozen model into integer arithmetic.
"""
from __future__ import annotations

import copy

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..nn.containers import Flatten, Identity, Sequential
from ..nn.layers.activation import ReLU
from ..nn.layers.conv import Conv1d, Conv2d
from ..nn.layers.dropout import Dropout
from ..nn.layers.linear import Linear
from ..nn.layers.normalization import BatchNorm1d, BatchNorm2d
from ..nn.layers.pooling import MaxPool1d, MaxPool2d
from ..nn.module import Module, Parameter
from .quantize import (FakeQuantize, MinMaxObserver, MovingAverageMinMaxObserver, PercentileObserver,
                       calculate_qparams, fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine)

__all__ = ["fuse_conv_bn_eval", "fuse_linear_bn_eval", "fold_batchnorm", "QuantStage", "prepare", "prepare_qat",
           "calibrate", "freeze", "quantize_ptq", "PASSTHROUGH"]

LAYERS = (Linear, Conv1d, Conv2d)
#: modules that commute with a (monotone, zero-exact) quantizer: they run on quantized values as they are
PASSTHROUGH = (Flatten, Identity, Dropout, MaxPool1d, MaxPool2d, ReLU)
_OBSERVERS = {"minmax": MinMaxObserver, "moving_average": MovingAverageMinMaxObserver,
              "percentile": PercentileObserver}


def _fold(layer, bn):
    if not isinstance(bn, (BatchNorm1d, BatchNorm2d)) or bn.running_mean is None:
        raise ValueError(f"fold: expected a BatchNorm with running statistics after {type(layer).__name__}, "
                         f"got {type(bn).__name__}")
    fused = copy.deepcopy(layer)
    w, b = layer.weight._data.astype(np.float64), None if layer.bias is None else layer.bias._data.astype(np.float64)
    inv_std = 1.0 / np.sqrt(bn.running_var._data.astype(np.float64) + bn.eps)
    gamma = bn.weight._data.astype(np.float64) if bn.weight is not None else np.ones_like(inv_std)
    beta = bn.bias._data.astype(np.float64) if bn.bias is not None else np.zeros_like(inv_std)
    factor = gamma * inv_std
    fused.weight = Parameter((w * factor.reshape((-1,) + (1,) * (w.ndim - 1))).astype(layer.weight._data.dtype))
    bias = ((0.0 if b is None else b) - bn.running_mean._data) * factor + beta
    fused.bias = Parameter(bias.astype(layer.weight._data.dtype))
    return fused


def fuse_conv_bn_eval(conv, bn):
    """A copy of ``conv`` with the eval-mode BatchNorm ``bn`` folded in (PyTorch's ``fuse_conv_bn_eval``)."""
    if not isinstance(conv, (Conv1d, Conv2d)):
        raise TypeError(f"fuse_conv_bn_eval: expected Conv1d or Conv2d, got {type(conv).__name__}")
    return _fold(conv, bn)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` with the eval-mode BatchNorm1d ``bn`` folded in (PyTorch's ``fuse_linear_bn_eval``)."""
    if not isinstance(linear, Linear):
        raise TypeError(f"fuse_linear_bn_eval: expected Linear, got {type(linear).__name__}")
    return _fold(linear, bn)


def _flatten(model):
    if isinstance(model, Sequential):
        return [m for child in model for m in _flatten(child)]
    return [model]


def fold_batchnorm(model: Module) -> Sequential:
    """A new flat Sequential equal to ``model`` in eval mode, each BatchNorm folded into the layer before it."""
    mods = _flatten(model)
    out = []
    for m in mods:
        if isinstance(m, (BatchNorm1d, BatchNorm2d)):
            if not out or not isinstance(out[-1], LAYERS):
                raise ValueError(f"fold_batchnorm: a {type(m).__name__} must follow a Linear or Conv layer, "
                                 f"it follows {type(out[-1]).__name__ if out else 'nothing'}")
            out[-1] = _fold(out[-1], m)
        else:
            out.append(m if isinstance(m, LAYERS) else copy.deepcopy(m))
    return Sequential(*[copy.deepcopy(m) for m in out]).eval()


def weight_qparams(w, per_channel, bits=8):
    """Symmetric signed qparams of a weight array: scale (C,) per output channel or (1,), zero point 0."""
    qmax = 2 ** (bits - 1) - 1
    if per_channel:
        flat = np.asarray(w, dtype=np.float32).reshape(w.shape[0], -1)
        lo, hi = flat.min(axis=1), flat.max(axis=1)
    else:
        lo, hi = np.asarray([w.min()], dtype=np.float32), np.asarray([w.max()], dtype=np.float32)
    return calculate_qparams(lo, hi, -qmax - 1, qmax, symmetric=True, dtype="qint8")


def call_layer(layer, x, weight, bias):
    """``layer``'s operation (Linear, Conv1d or Conv2d) with the given weight and bias."""
    if isinstance(layer, Linear):
        return F.linear(x, weight, bias)
    if getattr(layer, "padding_mode", "zeros") != "zeros":
        raise ValueError(f"quantization: only padding_mode='zeros' is supported, got {layer.padding_mode!r}")
    conv = F.conv1d if isinstance(layer, Conv1d) else F.conv2d
    return conv(x, weight, bias, layer.stride, layer.padding, layer.dilation, layer.groups)


class QuantStage(Module):
    """One layer (+ an optional fused ReLU) with fake-quantized weights and a fake-quantized output."""

    def __init__(self, layer, relu=False, per_channel=True, observer="minmax", qat=False, weight_bits=8):
        super().__init__()
        if not isinstance(layer, LAYERS):
            raise TypeError(f"QuantStage: expected Linear, Conv1d or Conv2d, got {type(layer).__name__}")
        self.layer, self.relu, self.per_channel, self.weight_bits = layer, bool(relu), bool(per_channel), weight_bits
        self.quantize_weights = True
        obs = MovingAverageMinMaxObserver if qat else _OBSERVERS[observer]
        self.activation_post_process = FakeQuantize(obs())

    def weight_qparams(self):
        return weight_qparams(self.layer.weight._data, self.per_channel, self.weight_bits)

    def quantized_weight(self):
        w = self.layer.weight
        if not self.quantize_weights:
            return w
        scale, zp = self.weight_qparams()
        qmax = 2 ** (self.weight_bits - 1) - 1
        if self.per_channel:
            return fake_quantize_per_channel_affine(w, scale, zp, 0, -qmax - 1, qmax)
        return fake_quantize_per_tensor_affine(w, scale, zp, -qmax - 1, qmax)

    def forward(self, x):
        y = call_layer(self.layer, x, self.quantized_weight(), self.layer.bias)
        if self.relu:
            y = F.relu(y)
        return self.activation_post_process(y)

    def extra_repr(self):
        return f"relu={self.relu}, per_channel={self.per_channel}, weight_bits={self.weight_bits}"


def prepare(model: Module, per_channel=True, observer="minmax", qat=False, weight_bits=8) -> Sequential:
    """The fake-quantized version of ``model`` (BN folded; a copy: ``model`` is not changed).

    observer: 'minmax', 'moving_average' or 'percentile' for the activations (QAT uses moving average).
    The result starts in calibration mode (observers on, no rounding) unless ``qat``: then both are on.
    """
    if observer not in _OBSERVERS:
        raise ValueError(f"prepare: observer must be one of {sorted(_OBSERVERS)}, got {observer!r}")
    hooked = [type(m).__name__ for m in model.modules() if m._forward_pre_hooks]
    if hooked:
        raise ValueError(f"prepare: {', '.join(hooked)} carry forward pre-hooks (pruned or low-bit weights?); "
                         f"make them permanent first (deepnotes.compress.prune.remove)")
    mods = _flatten(fold_batchnorm(model))
    stages = [FakeQuantize(MovingAverageMinMaxObserver() if qat else _OBSERVERS[observer]())]
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, LAYERS):
            relu = i + 1 < len(mods) and type(mods[i + 1]) is ReLU
            stages.append(QuantStage(copy.deepcopy(m), relu, per_channel, observer, qat, weight_bits))
            i += 2 if relu else 1
            continue
        if not isinstance(m, PASSTHROUGH):
            raise ValueError(f"prepare: cannot quantize a {type(m).__name__}; supported: Linear, Conv1d, Conv2d, "
                             f"BatchNorm after them, and {', '.join(c.__name__ for c in PASSTHROUGH)}")
        stages.append(copy.deepcopy(m))
        i += 1
    qmodel = Sequential(*stages)
    _set_modes(qmodel, observe=True, fake_quant=qat)
    return qmodel.train(qat) if qat else qmodel.eval()


def prepare_qat(model: Module, per_channel=True, weight_bits=8) -> Sequential:
    """`prepare` for quantization-aware training: observers and fake quantization both on, train mode."""
    return prepare(model, per_channel=per_channel, qat=True, weight_bits=weight_bits)


def _set_modes(qmodel, observe, fake_quant):
    for m in qmodel.modules():
        if isinstance(m, FakeQuantize):
            m.enable_observer(observe).enable_fake_quant(fake_quant)
        if isinstance(m, QuantStage):
            m.quantize_weights = fake_quant


def calibrate(qmodel: Sequential, batches) -> Sequential:
    """Run ``batches`` (arrays or Tensors) through with observers on and rounding off; returns ``qmodel``."""
    _set_modes(qmodel, observe=True, fake_quant=False)
    qmodel.eval()
    with no_grad():
        for xb in batches:
            qmodel(xb if isinstance(xb, Tensor) else Tensor(np.asarray(xb)))
    return freeze(qmodel)


def freeze(qmodel: Sequential) -> Sequential:
    """Fix every scale and zero point and turn rounding on (the model to evaluate or convert to int8)."""
    _set_modes(qmodel, observe=False, fake_quant=True)
    return qmodel.eval()


def quantize_ptq(model: Module, calibration_batches, per_channel=True, observer="minmax") -> Sequential:
    """Post-training quantization: fold BN, calibrate the activation ranges, freeze. ``model`` is unchanged."""
    return calibrate(prepare(model, per_channel=per_channel, observer=observer), calibration_batches)
