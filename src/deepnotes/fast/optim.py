"""Fast paths: SGD's and Adam's updates as BLAS ``axpby`` passes (one pass per scaled addition).

`optim.SGD._update` (the reference) writes the rule with NumPy operators: with momentum,
``b *= mu; b += g; p -= lr * b`` reads and writes ten parameter-sized arrays and allocates one.
Here each line is one ``axpby`` (y <- alpha x + beta y, `backends.vector`):

    b <- s (1 - dampening) g + mu b               (s = -1 when maximizing, else 1)
    b <- b + (1 - dampening) wd p                 (weight decay only)
    p <- p - lr b                                 (heavy ball)
    p <- (1 - lr wd) p - lr s g,  p <- p - lr mu b   (Nesterov: d = g' + mu b)
    p <- (1 - lr wd) p - lr s g                   (no momentum)

the same rule as the reference, term by term (g' = s g + wd p is never formed). The first step
with momentum (the buffer is created as a copy of g'), parameters under `MIN_SIZE` elements and
anything `axpby` refuses (another dtype, a non-contiguous array, no BLAS found) take the
reference path.

`optim.Adam._update` likewise: the moments by `axpby`, the step as in-place NumPy into one
scratch array and a last `axpby` that also applies AdamW's decay (see `adam_update`).
"""
from __future__ import annotations

import math

import numpy as np

from ..backends import vector
from . import register


# Below this many elements a parameter sits in the L2 cache, where NumPy's passes are cheap and a
# ctypes call costs more than it saves. Measured (Zen 3, float32, one SGD-with-momentum update):
# 16k elements NumPy 9.9 us vs axpby 26.5 us; 64k 42.5 vs 32.4; 256k 128 vs 106; 1M 812 vs 368.
MIN_SIZE = 1 << 16


@register("sgd_axpby", replaces="deepnotes.optim.SGD._update (a buffer already made, or no momentum)")
def sgd_update(p, grad, buf, lr, mu, dampening, weight_decay, nesterov, maximize):
    """Apply one SGD step to the array `p` in place (and to the momentum buffer `buf`, None when
    mu = 0); returns False, with nothing changed, when the arrays do not suit `axpby`."""
    sign = -1.0 if maximize else 1.0
    written = (p,) if mu == 0 else (buf, p)
    if p.size < MIN_SIZE or (mu != 0 and buf is None) or not vector.suits((grad,), written):
        return False
    axpby = vector.axpby_checked  # every line below runs: the arrays were checked together
    if mu == 0:
        axpby(-lr * sign, grad, 1.0 - lr * weight_decay, p)
        return True
    keep = 1.0 - dampening
    axpby(sign * keep, grad, mu, buf)
    if weight_decay:
        axpby(keep * weight_decay, p, 1.0, buf)
    if nesterov:
        axpby(-lr * sign, grad, 1.0 - lr * weight_decay, p)
        axpby(-lr * mu, buf, 1.0, p)
    else:
        axpby(-lr, buf, 1.0, p)
    return True


@register("adam_axpby", replaces="deepnotes.optim.Adam._update (moments already made; no L2 weight decay)")
def adam_update(p, grad, state, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled):
    """One Adam / AdamW step on the array `p` in place, its moments in `state` (step count included);
    returns False, with nothing changed, for the first step (the moments are made there), L2 weight
    decay (the decayed gradient would be one more array), parameters under `MIN_SIZE` elements or
    arrays that do not suit `axpby`.

        m <- beta1 m + (1 - beta1) s g                     (s = -1 when maximizing)
        v <- beta2 v + (1 - beta2) g^2                     (vmax <- max(vmax, v) with amsgrad)
        p <- (1 - lr wd) p - lr r / (1 - beta1^t) * m / (sqrt(v) + eps r),   r = sqrt(1 - beta2^t)

    the reference's m_hat / (sqrt(v_hat) + eps) with r moved out of the denominator: 19 passes
    over parameter-sized memory and one temporary, against about 31 and seven."""
    m, v = state.get("exp_avg"), state.get("exp_avg_sq")
    moments = (m, v, state["max_exp_avg_sq"]) if amsgrad and "max_exp_avg_sq" in state else (m, v)
    if (p.size < MIN_SIZE or m is None or v is None or (weight_decay and not decoupled)
            or (amsgrad and len(moments) < 3) or not vector.suits((grad,), (p, *moments))):
        return False
    t = state["step"] = state["step"] + 1
    axpby = vector.axpby_checked  # every line below runs: the arrays were checked together
    axpby((1.0 - beta1) * (-1.0 if maximize else 1.0), grad, beta1, m)
    scratch = np.multiply(grad, grad)
    axpby(1.0 - beta2, scratch, beta2, v)
    if amsgrad:
        v = np.maximum(moments[2], v, out=moments[2])
    root = math.sqrt(1.0 - beta2**t)
    np.sqrt(v, out=scratch)
    scratch += eps * root
    np.divide(m, scratch, out=scratch)
    axpby(-lr * root / (1.0 - beta1**t), scratch, 1.0 - lr * weight_decay if decoupled else 1.0, p)
    return True
