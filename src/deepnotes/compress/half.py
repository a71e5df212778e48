"""Half precision (IEEE 754 binary16) and mixed-precision training with dynamic loss scaling.

float16 has 5 exponent bits and 10 mantissa bits: the largest finite value is 65504, the
smallest normal 2^-14 ~ 6.1e-5, the smallest subnormal 2^-24 ~ 6.0e-8, and the relative step
2^-11 ~ 4.9e-4 (about 3 decimal digits). Above 65504 a cast gives inf (overflow); below 2^-25 it
gives 0 (underflow): small gradients simply vanish.

Mixed precision (Micikevicius et al. 2018, "Mixed Precision Training"): the forward and backward
run in float16 on a float16 copy of the model, the optimizer updates a float32 *master* copy
(small updates would round away in float16), and the loss is multiplied by a scale S before
backward so that gradients live in float16's range; they are divided by S in float32. Dynamic
loss scaling (PyTorch's ``torch.amp.GradScaler``): when a gradient is inf/NaN the step is
skipped and S is halved; after ``growth_interval`` clean steps S is doubled.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.module import Module

__all__ = ["FP16_MAX", "FP16_MIN_NORMAL", "FP16_MIN_SUBNORMAL", "cast_report", "GradScaler", "MixedPrecisionTrainer"]

FP16_MAX = float(np.finfo(np.float16).max)  # 65504
FP16_MIN_NORMAL = float(np.finfo(np.float16).tiny)  # 2^-14
FP16_MIN_SUBNORMAL = float(np.float16(2.0 ** -24))


def cast_report(x) -> dict:
    """What casting ``x`` to float16 does: overflow (finite -> inf), underflow (nonzero -> 0), subnormal
    results, and the largest relative rounding error among the normal ones (at most 2^-11)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        h = x.astype(np.float16).astype(np.float64)
    finite = np.isfinite(x)
    over = finite & ~np.isfinite(h)
    under = (x != 0) & (h == 0)
    kept = finite & ~over & ~under & (x != 0)
    subnormal = kept & (np.abs(h) < FP16_MIN_NORMAL)  # fewer significant bits: a larger relative error
    normal = kept & ~subnormal
    rel = np.abs(h[normal] - x[normal]) / np.abs(x[normal]) if normal.any() else np.zeros(1)
    return {"overflow": int(over.sum()), "underflow": int(under.sum()), "subnormal": int(subnormal.sum()),
            "max_relative_error": float(rel.max())}


class GradScaler:
    """Dynamic loss scaling with PyTorch's ``GradScaler`` interface: ``scale(loss)``, ``step(opt)``, ``update()``."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        if not (init_scale > 0 and growth_factor > 1 and 0 < backoff_factor < 1 and growth_interval >= 1):
            raise ValueError(f"GradScaler: need init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1, "
                             f"growth_interval >= 1; got {init_scale}, {growth_factor}, {backoff_factor}, "
                             f"{growth_interval}")
        self._scale = float(init_scale)
        self.growth_factor, self.backoff_factor, self.growth_interval = growth_factor, backoff_factor, growth_interval
        self._growth_tracker = 0
        self._found_inf = False
        self.skipped = 0

    def get_scale(self) -> float:
        return self._scale

    def scale(self, loss: Tensor) -> Tensor:
        """loss * S (in the loss's dtype: the product itself can overflow float16, which the step catches)."""
        with np.errstate(over="ignore"):
            return loss * self._scale

    def unscale_(self, params) -> bool:
        """Divide the gradients by S in place (float32); returns whether any is inf/NaN."""
        found = False
        for p in params:
            if p.grad is not None:
                g = p.grad._data.astype(np.float32) / np.float32(self._scale)
                found |= not np.all(np.isfinite(g))
                p.grad = Tensor._from_op(g.astype(p.dtype, copy=False), None)
        self._found_inf = found
        return found

    def step(self, optimizer, params=None) -> bool:
        """Unscale the gradients of ``params`` (default: the optimizer's) and step unless one is inf/NaN."""
        params = list(params) if params is not None else [p for g in optimizer.param_groups for p in g["params"]]
        if self.unscale_(params):
            self.skipped += 1
            return False
        optimizer.step()
        return True

    def update(self) -> None:
        """Halve S after an overflow; double it after ``growth_interval`` clean steps in a row."""
        if self._found_inf:
            self._scale *= self.backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self.growth_interval:
                self._scale *= self.growth_factor
                self._growth_tracker = 0


class MixedPrecisionTrainer:
    """float32 master weights + a float16 working copy + (optionally dynamic) loss scaling.

    ``step(x, y)``: copy the master weights into the float16 model, run forward and backward in
    float16 on ``loss_fn(model(x), y) * S``, move the gradients to the master copy in float32,
    divide by S, and let ``optimizer`` (built on ``master``'s parameters) step unless one is inf/NaN.
    ``scaler=None`` trains without loss scaling (S = 1), to show gradients underflowing.
    """

    def __init__(self, master: Module, model16: Module, optimizer, loss_fn, scaler: GradScaler | None = None):
        self.master, self.model16, self.optimizer, self.loss_fn = master, model16.to(np.float16), optimizer, loss_fn
        self.scaler = scaler
        self.master_params, self.half_params = list(master.parameters()), list(model16.parameters())
        if [p._data.shape for p in self.master_params] != [p._data.shape for p in self.half_params]:
            raise ValueError("MixedPrecisionTrainer: master and model16 must have the same parameters")
        self.zero_grad_fraction = []  # per step: fraction of float16 gradient entries that are exactly 0

    def step(self, x, y) -> float:
        for p16, p32 in zip(self.half_params, self.master_params):
            p16._data = p32._data.astype(np.float16)
            p16.grad = None
        with np.errstate(over="ignore", invalid="ignore"):
            loss = self.loss_fn(self.model16(Tensor(np.asarray(x, dtype=np.float16))), Tensor(np.asarray(y)))
            scaled = self.scaler.scale(loss) if self.scaler is not None else loss
            scaled.backward()
        grads = [p.grad._data if p.grad is not None else np.zeros_like(p._data) for p in self.half_params]
        self.zero_grad_fraction.append(float(np.mean(np.concatenate([g.ravel() == 0 for g in grads]))))
        for p32, g in zip(self.master_params, grads):
            p32.grad = Tensor._from_op(g.astype(np.float32), None)
        if self.scaler is None:
            self.optimizer.step()
        else:
            self.scaler.step(self.optimizer, self.master_params)
            self.scaler.update()
        return float(loss.item())
