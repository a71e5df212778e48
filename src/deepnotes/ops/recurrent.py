"""Fused recurrent kernels: one time step of an Elman RNN, an LSTM and a GRU (inventory S1-S3, R2).

Each cell's math lives in one kernel class with `forward` (one step) and
`backward` (that step's analytic gradient) side by side.  Two `Function`s
drive the kernels:

* `RecurrentStep` runs one step; the cells (`nn.LSTMCell`, ...) use it.
* `RecurrentSequence` runs a whole sequence: forward loops over time, backward
  is backpropagation through time (BPTT) over the saved per-step caches.
  The layers (`nn.LSTM`, ...) use it, so a layer-direction is one node of the
  graph however long the sequence.

Conventions (PyTorch's, so weights copy between the two):

* the input projection of all time steps is one GEMM done by the caller,
  `xp = x W_ih^T + b_ih` of shape (T, N, G*H); per step the kernel gets it
  together with `hp = h_{t-1} W_hh^T + b_hh` (one GEMM for all gates);
* gate blocks along the last axis: LSTM (i, f, g, o), GRU (r, z, n);
* the GRU's candidate is n = tanh(xp_n + r * hp_n): the reset gate multiplies
  `W_hn h + b_hn` (PyTorch / cuDNN), not h before the product (Cho et al. 2014).

Noise from the recurrent regularizers (`nn.Zoneout`, `nn.RecurrentDropout`)
enters through three optional per-step arrays (see `StepNoise`):
zoneout keeps a unit's previous value, h_t = k * h_{t-1} + (1 - k) * h~_t,
with k a Bernoulli(p) mask in training and the scalar p in evaluation
(Krueger et al. 2017); the update mask d scales the candidate (LSTM g, GRU n,
RNN h~) as in Semeniuta et al. 2016; the hidden mask multiplies h_{t-1} where
it enters the recurrent product, the same mask at every step (Gal &
Ghahramani 2016, tied gates).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Function

StepNoise = namedtuple("StepNoise", ["keep_h", "keep_c", "update"], defaults=(None, None, None))
StepNoise.__doc__ = """Noise for the kernels.  Each field is None (absent), a Python float, or an array:
(N, H) for one step (`RecurrentStep`), (T, N, H) for a sequence (`RecurrentSequence` slices step t).

    keep_h, keep_c: zoneout keep factor k of h (and of the LSTM's c): new = k * old + (1 - k) * candidate.
    update: multiplies the candidate update (already scaled by 1 / (1 - p)).
"""
_NO_NOISE = StepNoise()


def sigmoid(z):
    """1 / (1 + e^-z); for z << 0, e^-z overflows to inf and the result is exactly 0, its limit."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def lstm_gates_(a, H):
    """The LSTM's gate activations from the pre-activations a (..., 4H), in place; returns (i, f, g, o).

    i, f, o = sigmoid and g = tanh of their blocks, with one exp for all four:
    tanh(z) = 2 sigmoid(2z) - 1.  (Exact up to rounding: an absolute error of an ulp
    of 1 where tanh is tiny, instead of a relative one.)
    """
    g = a[..., 2 * H : 3 * H]
    g *= 2
    np.negative(a, out=a)
    with np.errstate(over="ignore"):  # e^-z = inf for z << 0 gives sigmoid = 0, its limit
        np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    g *= 2
    g -= 1
    return a[..., :H], a[..., H : 2 * H], g, a[..., 3 * H :]


def _zoneout(keep, old, candidate):
    """k * old + (1 - k) * candidate; exact for a 0/1 mask (a kept unit is bit-identical to old)."""
    return candidate if keep is None else keep * old + (1 - keep) * candidate


def _zoneout_backward(keep, grad):
    """Split d(new) into d(candidate) = (1 - k) d(new) and d(old) = k d(new) (None when k is absent)."""
    if keep is None:
        return grad, None
    return grad * (1 - keep), grad * keep


def _add(a, b):
    """a + b where either may be None (a missing gradient contribution)."""
    return b if a is None else a if b is None else a + b


class RNNKernel:
    """Elman (1990) RNN step:  h_t = act(xp_t + hp_t),  act = tanh or relu.

    xp_t = x_t W_ih^T + b_ih and hp_t = h_{t-1} W_hh^T + b_hh, both (N, H).
    The backward multiplies by act'(a) = 1 - h^2 (tanh) or [a > 0] (relu): the
    factor that, repeated over T steps with W_hh, makes gradients vanish or explode.
    """

    n_gates, n_states, separate_hidden_grad = 1, 1, False

    def __init__(self, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def __repr__(self):
        return f"RNNKernel({self.nonlinearity!r})"

    def forward(self, xp, hp, state, noise=_NO_NOISE):
        (h_prev,) = state
        a = xp + hp
        act = np.tanh(a) if self.nonlinearity == "tanh" else np.maximum(a, 0)
        candidate = act if noise.update is None else act * noise.update
        h = _zoneout(noise.keep_h, h_prev, candidate)
        return (h,), (act, noise)

    def backward(self, dstate, cache):
        act, noise = cache
        dcandidate, dh_prev = _zoneout_backward(noise.keep_h, dstate[0])
        dact = dcandidate if noise.update is None else dcandidate * noise.update
        da = dact * (1 - act * act) if self.nonlinearity == "tanh" else dact * (act > 0)
        return da, da, (dh_prev,)


class LSTMKernel:
    """LSTM step (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

        a = xp_t + hp_t                                  (N, 4H), blocks i, f, g, o
        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    The cell state is updated additively: dc_{t-1} = f * dc_t, so with f near 1
    the gradient flows through many steps (the constant error carousel).
    """

    n_gates, n_states, separate_hidden_grad = 4, 2, False

    def __repr__(self):
        return "LSTMKernel()"

    def forward(self, xp, hp, state, noise=_NO_NOISE):
        h_prev, c_prev = state
        i, f, g, o = lstm_gates_(xp + hp, c_prev.shape[-1])
        update = i * g if noise.update is None else i * g * noise.update
        c_candidate = f * c_prev
        c_candidate += update
        tanh_c = np.tanh(c_candidate)
        # Zoneout (Krueger et al. 2017, Sec. 3.2): h's candidate uses the candidate cell state.
        c = _zoneout(noise.keep_c, c_prev, c_candidate)
        h = _zoneout(noise.keep_h, h_prev, o * tanh_c)
        return (h, c), (i, f, g, o, c_prev, tanh_c, noise)

    def backward(self, dstate, cache):
        i, f, g, o, c_prev, tanh_c, noise = cache
        dh, dc = dstate
        dh_candidate, dh_prev = _zoneout_backward(noise.keep_h, dh)
        dc_candidate, dc_prev = _zoneout_backward(noise.keep_c, dc)
        # The candidate cell state feeds h_t through tanh and c_t (then c_{t+1}) directly.
        dc_candidate = dc_candidate + dh_candidate * o * (1 - tanh_c * tanh_c)
        dc_prev = _add(dc_prev, dc_candidate * f)
        # With the update mask u (Semeniuta et al. 2016), c's candidate is f c + i g u.
        i_eff, g_eff = (i, g) if noise.update is None else (i * noise.update, g * noise.update)
        H = i.shape[-1]
        da = np.empty(i.shape[:-1] + (4 * H,), dtype=i.dtype)
        da[:, :H] = dc_candidate * g_eff * i * (1 - i)
        da[:, H : 2 * H] = dc_candidate * c_prev * f * (1 - f)
        da[:, 2 * H : 3 * H] = dc_candidate * i_eff * (1 - g * g)
        da[:, 3 * H :] = dh_candidate * tanh_c * o * (1 - o)
        return da, da, (dh_prev, dc_prev)


class GRUKernel:
    """GRU step (Cho et al. 2014), in PyTorch's form.

        r = sigmoid(xp_r + hp_r)       z = sigmoid(xp_z + hp_z)
        n = tanh(xp_n + r * hp_n)      hp_n = h_{t-1} W_hn^T + b_hn
        h_t = (1 - z) * n + z * h_{t-1}

    xp and hp are (N, 3H) with blocks r, z, n.  Because r multiplies hp_n, the
    gradient of hp differs from that of xp in the n block (`separate_hidden_grad`).
    """

    n_gates, n_states, separate_hidden_grad = 3, 1, True

    def __repr__(self):
        return "GRUKernel()"

    def forward(self, xp, hp, state, noise=_NO_NOISE):
        (h_prev,) = state
        H = h_prev.shape[-1]
        r_z = sigmoid(xp[:, : 2 * H] + hp[:, : 2 * H])
        r, z = r_z[:, :H], r_z[:, H:]
        hp_n = hp[:, 2 * H :]
        n = np.tanh(xp[:, 2 * H :] + r * hp_n)
        n_eff = n if noise.update is None else n * noise.update
        h = _zoneout(noise.keep_h, h_prev, n_eff + z * (h_prev - n_eff))
        return (h,), (r, z, n, n_eff, hp_n, h_prev, noise)

    def backward(self, dstate, cache):
        r, z, n, n_eff, hp_n, h_prev, noise = cache
        H = r.shape[-1]
        dh_candidate, dh_prev = _zoneout_backward(noise.keep_h, dstate[0])
        dh_prev = _add(dh_prev, dh_candidate * z)
        dn = dh_candidate * (1 - z)
        if noise.update is not None:
            dn = dn * noise.update
        dan = dn * (1 - n * n)
        dxp = np.empty(r.shape[:-1] + (3 * H,), dtype=r.dtype)
        dxp[:, :H] = dan * hp_n * r * (1 - r)
        dxp[:, H : 2 * H] = dh_candidate * (h_prev - n_eff) * z * (1 - z)
        dxp[:, 2 * H :] = dan
        dhp = dxp.copy()
        dhp[:, 2 * H :] = dan * r
        return dxp, dhp, (dh_prev,)


def _noise_at(noise, t):
    """The (N, H) slice at step t of each (T, N, H) noise array; scalars and None pass through."""
    if noise is None:
        return _NO_NOISE
    return StepNoise(*(v[t] if isinstance(v, np.ndarray) else v for v in noise))


class RecurrentStep(Function):
    """One fused cell step: the cells' hot path.

    Inputs: xp (N, G*H) = x W_ih^T + b_ih, hp (N, G*H) = h W_hh^T + b_hh, then
    the previous states (h, and c for the LSTM), each (N, H).
    Output: the new h (N, H), or for the LSTM (h, c) stacked as (2, N, H)
    (a Function has one output; the cell splits it).
    Params: `kernel` (an `RNNKernel`, `LSTMKernel` or `GRUKernel`) and `noise`
    (a `StepNoise` of (N, H) arrays or floats, or None).
    """

    @staticmethod
    def forward(ctx, xp, hp, *state, kernel=None, noise=None):
        new_state, ctx.cache = kernel.forward(xp, hp, state, noise or _NO_NOISE)
        ctx.kernel = kernel
        return new_state[0] if len(new_state) == 1 else np.stack(new_state)

    @staticmethod
    def backward(ctx, grad):
        dstate = (grad,) if ctx.kernel.n_states == 1 else tuple(grad)
        dxp, dhp, dstate_prev = ctx.kernel.backward(dstate, ctx.cache)
        return (dxp, dhp, *dstate_prev)


class RecurrentSequence(Function):
    """A cell kernel over a whole sequence: forward loops over time, backward is BPTT.

    Inputs:
        xp: (T, N, G*H), the input projection x_t W_ih^T + b_ih of every step.
        w_hh: (G*H, H).  b_hh: (G*H,) (zeros for a layer without bias).
        state0: h0 (N, H), and c0 (N, H) for the LSTM.
    Params:
        kernel: the cell kernel.  reverse: run from t = T-1 down to 0.
        noise: `StepNoise` of (T, N, H) arrays or floats, or None.
        hidden_mask: (N, H) array multiplying h_{t-1} in the recurrent product
            at every step (variational recurrent dropout), or None.
    Output:
        (T, N, H) hidden states in time order, followed for the LSTM by the
        final cell state: (T + 1, N, H).  h_n is row T-1 (forward) or 0 (reverse).

    Per step the forward pass does one GEMM, hp = h_{t-1} W_hh^T, for all gates.
    The backward pass does one GEMM per step for dh_{t-1} and a single GEMM over
    all steps for dW_hh = sum_t dhp_t^T h_{t-1}.
    """

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh, *state, kernel=None, reverse=False, noise=None, hidden_mask=None):
        T, N = xp.shape[:2]
        H = w_hh.shape[1]
        steps = range(T - 1, -1, -1) if reverse else range(T)
        out = np.empty((T + kernel.n_states - 1, N, H), dtype=xp.dtype)
        h_in = np.empty((T, N, H), dtype=xp.dtype)  # h_{t-1} as it enters the product
        caches = [None] * T
        w_hh_t = w_hh.T
        # a = xp + hp: unless the kernel needs hp on its own (GRU), add b_hh once for all steps.
        bias_per_step = kernel.separate_hidden_grad
        if not bias_per_step:
            xp = xp + b_hh
        for t in steps:
            h = state[0] if hidden_mask is None else state[0] * hidden_mask
            if ctx.tracked:  # dW_hh needs every h_{t-1}
                h_in[t] = h
            hp = h @ w_hh_t
            if bias_per_step:
                hp += b_hh
            state, cache = kernel.forward(xp[t], hp, state, _noise_at(noise, t))
            if ctx.tracked:
                caches[t] = cache
            out[t] = state[0]
        for k, extra in enumerate(state[1:]):
            out[T + k] = extra
        ctx.kernel, ctx.steps, ctx.caches, ctx.hidden_mask = kernel, steps, caches, hidden_mask
        ctx.save_for_backward(w_hh, h_in)
        return out

    @staticmethod
    def backward(ctx, grad):
        w_hh, h_in = ctx.saved_arrays
        kernel, mask = ctx.kernel, ctx.hidden_mask
        T = h_in.shape[0]
        dxp = np.empty(h_in.shape[:2] + (w_hh.shape[0],), dtype=grad.dtype)
        dhp = np.empty_like(dxp) if kernel.separate_hidden_grad else dxp
        # Gradients flowing into the state at the current step from later steps.
        dstate = [np.zeros_like(grad[0])] + [grad[T + k] for k in range(kernel.n_states - 1)]
        for t in reversed(ctx.steps):
            dstate[0] = dstate[0] + grad[t]
            dxp_t, dhp_t, dprev = kernel.backward(tuple(dstate), ctx.caches[t])
            dxp[t] = dxp_t
            if kernel.separate_hidden_grad:
                dhp[t] = dhp_t
            dh_recurrent = dhp_t @ w_hh
            if mask is not None:
                dh_recurrent *= mask
            dstate = [_add(dprev[0], dh_recurrent)] + [
                d if d is not None else np.zeros_like(dh_recurrent) for d in dprev[1:]
            ]
        needs = ctx.needs_input_grad
        flat = dhp.reshape(-1, dhp.shape[-1])
        dw = flat.T @ h_in.reshape(-1, h_in.shape[-1]) if needs[1] else None
        db = flat.sum(axis=0) if needs[2] else None
        return (dxp, dw, db, *dstate)
