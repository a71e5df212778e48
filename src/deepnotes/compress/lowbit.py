"""Binary and ternary weights, trained with the straight-through estimator.

* BinaryConnect (Courbariaux, Bengio & David 2015): the forward uses b = sign(w) with
  sign(0) = +1 (w >= 0 -> +1, else -1); the backward passes the gradient straight through to the
  real-valued *latent* weight w where |w| <= 1 and blocks it outside (Hubara et al. 2016); after
  each update w is clipped to [-1, 1] (`clip_latent_`).
* BWN / XNOR-Net (Rastegari et al. 2016): b = alpha * sign(w) with alpha = mean |w| per output
  channel, the least-squares best scale for sign(w). (XNOR-Net binarizes the activations too;
  only the weights' scaling is implemented here.)
* TWN (Li, Zhang & Liu 2016, "Ternary Weight Networks"): t = alpha * {-1, 0, +1}, zero where
  |w| <= delta = 0.7 mean |w|, alpha = the mean of |w| above delta (per layer).

A layer becomes low-bit with `binarize_(layer, mode)`: like pruning, ``weight`` is replaced by a
latent Parameter ``weight_orig`` and a forward pre-hook sets ``weight`` = quantize(weight_orig).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..nn.module import Module

__all__ = ["sign_binarize", "bwn_scale", "ternarize", "BinarizeSTE", "TernarizeSTE", "binarize_", "clip_latent_",
           "LOWBIT_MODES"]

LOWBIT_MODES = ("binary", "bwn", "ternary")


def sign_binarize(w):
    """+1 where w >= 0, -1 elsewhere (BinaryConnect's deterministic binarization)."""
    w = np.asarray(w)
    return np.where(w >= 0, 1.0, -1.0).astype(w.dtype)


def bwn_scale(w):
    """alpha = mean |w| over each output channel (axis 0), shaped to broadcast against w."""
    w = np.asarray(w)
    return np.abs(w).reshape(w.shape[0], -1).mean(axis=1).reshape((-1,) + (1,) * (w.ndim - 1)).astype(w.dtype)


def ternarize(w, threshold_factor=0.7):
    """TWN: (alpha * t, delta) with t in {-1, 0, +1}, delta = 0.7 mean |w|, alpha = mean |w| over |w| > delta."""
    w = np.asarray(w)
    delta = threshold_factor * np.abs(w).mean()
    keep = np.abs(w) > delta
    alpha = np.abs(w)[keep].mean() if keep.any() else 0.0
    return (alpha * np.sign(w) * keep).astype(w.dtype), float(delta)


class BinarizeSTE(Function):
    """Forward sign(w) (times alpha per channel if ``scaled``); backward grad * (|w| <= 1) (clipped STE).

    With ``scaled``, alpha is treated as a constant in the backward pass (as in XNOR-Net's code).
    """

    @staticmethod
    def forward(ctx, w, scaled=False):
        ctx.save_for_backward(np.abs(w) <= 1)
        b = sign_binarize(w)
        return b * bwn_scale(w) if scaled else b

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_arrays
        return grad * inside


class TernarizeSTE(Function):
    """Forward TWN's alpha * {-1, 0, 1}; backward the identity (straight through)."""

    @staticmethod
    def forward(ctx, w):
        return ternarize(w)[0]

    @staticmethod
    def backward(ctx, grad):
        return grad


class LowBitHook:
    """Forward pre-hook: ``module.weight = quantize(module.weight_orig)``."""

    def __init__(self, mode):
        self.mode = mode

    def __call__(self, module, inputs):
        w = module.weight_orig
        q = TernarizeSTE.apply(w) if self.mode == "ternary" else BinarizeSTE.apply(w, scaled=self.mode == "bwn")
        object.__setattr__(module, "weight", q)


def binarize_(module: Module, mode="binary") -> Module:
    """Make ``module.weight`` binary ('binary': BinaryConnect, 'bwn': scaled sign) or 'ternary' (TWN), in place.

    The latent weight ``weight_orig`` keeps training (the optimizer must be built after this call,
    or hold the same Parameter: it is the same object). Returns the module.
    """
    if mode not in LOWBIT_MODES:
        raise ValueError(f"binarize_: mode must be one of {LOWBIT_MODES}, got {mode!r}")
    param = module._parameters.get("weight")
    if param is None:
        raise ValueError(f"binarize_: {type(module).__name__} has no 'weight' parameter (already low-bit or pruned?)")
    del module._parameters["weight"]
    module.register_parameter("weight_orig", param)
    hook = LowBitHook(mode)
    module.__dict__["_lowbit_handle"] = module.register_forward_pre_hook(hook)
    hook(module, ())
    return module


def clip_latent_(model: Module, bound=1.0) -> None:
    """Clip every binarized layer's latent weight to [-bound, bound] (BinaryConnect, after each update)."""
    with no_grad():
        for m in model.modules():
            if "_lowbit_handle" in m.__dict__:
                np.clip(m.weight_orig._data, -bound, bound, out=m.weight_orig._data)
