"""Fused recurrent cell kernels: one time step of an Elman RNN, an LSTM and a GRU (inventory S1-S3, R2).

Each cell's math lives in one kernel class with `forward` (one step, caching
what its backward needs) and `backward` (that step's analytic gradient) side by
side; the inference step without cache is a fast path (`deepnotes.fast.recurrent`).
`ops.recurrent.RecurrentSequence` drives them over a sequence.

Conventions (PyTorch's, so weights copy between the two): the pre-activations
are xp = W_ih x_t + b_ih and hp = W_hh h_{t-1} + b_hh; gate blocks LSTM
(i, f, g, o), GRU (r, z, n); the GRU's candidate is n = tanh(xp_n + r * hp_n):
the reset gate multiplies `W_hn h + b_hn` (PyTorch / cuDNN), not h before the
product (Cho et al. 2014).

Each kernel's `pack` builds the matrix W = [W_h | W_x | b] acting on
z_t = [h_{t-1}; x_t; 1], so that a step's pre-activations are one product
W z_t; `unpack` splits the gradient of W back into the four parameters.  For
the RNN and LSTM the rows are the gates, xp + hp; the GRU needs hp_n apart
from xp_n, so its rows are (r + z, hp_n, xp_n), with zero blocks where W_hn
meets x and W_in meets h.

Layout: every array is *feature-major*, pre-activations (rows, N) and states
(H, N), N the batch, so that a gate block is one contiguous slab.

The LSTM's gates cost one `exp`: the kernel receives its pre-activations
scaled by `gate_scale` (-1 for i, f, o and -2 for g; the driver scales the
packed weights, exactly, being powers of two), so that 1 / (1 + exp(.))
gives sigmoid(a) for i, f, o and sigmoid(2a) for g, and tanh(a) = 2 sigmoid(2a) - 1.
(Exact up to rounding: where tanh is tiny, its error is an ulp of 1, not a
relative one.)  Kernels run under `np.errstate(over="ignore")`: e^{-a}
overflows to inf for a << 0 and 1 / (1 + inf) = 0 is the right limit.

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

StepNoise = namedtuple("StepNoise", ["keep_h", "keep_c", "update"], defaults=(None, None, None))
StepNoise.__doc__ = """Noise for the kernels.  Each field is None (absent), a Python float, or a
(T, N, H) array (`RecurrentSequence` hands the kernel step t, transposed to (H, N)).

    keep_h, keep_c: zoneout keep factor k of h (and of the LSTM's c): new = k * old + (1 - k) * candidate.
    update: multiplies the candidate update (already scaled by 1 / (1 - p)).
"""
_NO_NOISE = StepNoise()


def gate_blocks(a, count):
    """The `count` gate blocks of a feature-major (count*H, N) array, as views."""
    H = a.shape[0] // count
    return [a[k * H : (k + 1) * H] for k in range(count)]


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


def _pack_gates(w_ih, w_hh, b_ih, b_hh):
    """[W_hh | W_ih | b_ih + b_hh]: the rows are the gates' full pre-activations, xp + hp."""
    H, H_in = w_hh.shape[1], w_ih.shape[1]
    w = np.empty((w_hh.shape[0], H + H_in + 1), dtype=w_hh.dtype)
    w[:, :H], w[:, H : H + H_in], w[:, -1] = w_hh, w_ih, b_ih + b_hh
    return w


def _unpack_gates(dw, H, H_in):
    """(dW_ih, dW_hh, db_ih, db_hh) from the gradient of `_pack_gates`' matrix."""
    return dw[:, H : H + H_in], dw[:, :H], dw[:, -1], dw[:, -1]


class RNNKernel:
    """Elman (1990) RNN step:  h_t = act(a),  a = xp_t + hp_t (H, N),  act = tanh or relu.

    The backward multiplies by act'(a) = 1 - h^2 (tanh) or [a > 0] (relu): the
    factor that, repeated over T steps with W_hh, makes gradients vanish or explode.
    """

    n_gates, n_states, gate_scale = 1, 1, None
    pack, unpack = staticmethod(_pack_gates), staticmethod(_unpack_gates)

    def __init__(self, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def __repr__(self):
        return f"RNNKernel({self.nonlinearity!r})"

    def forward(self, a, state, noise=_NO_NOISE):
        """a is scratch: the activation is computed in it."""
        (h_prev,) = state
        act = np.tanh(a, out=a) if self.nonlinearity == "tanh" else np.maximum(a, 0, out=a)
        candidate = act if noise.update is None else act * noise.update
        h = _zoneout(noise.keep_h, h_prev, candidate)
        return (h,), (act, noise)

    def backward(self, dstate, cache, da):
        """Writes d(a) into da (H, N); returns the gradients of the previous states."""
        act, noise = cache
        dcandidate, dh_prev = _zoneout_backward(noise.keep_h, dstate[0])
        dact = dcandidate if noise.update is None else dcandidate * noise.update
        if self.nonlinearity == "tanh":
            np.multiply(act, act, out=da)
            np.subtract(1, da, out=da)
            da *= dact
        else:
            np.multiply(dact, act > 0, out=da)
        return (dh_prev,)


class LSTMKernel:
    """LSTM step (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

        a = xp_t + hp_t                                  (4H, N), blocks i, f, g, o
        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    The kernel receives a scaled by `gate_scale` (see the module docstring).
    The cell state is updated additively: dc_{t-1} = f * dc_t, so with f near 1
    the gradient flows through many steps (the constant error carousel).
    """

    n_gates, n_states = 4, 2
    gate_scale = np.array([-1.0, -1.0, -2.0, -1.0])
    pack, unpack = staticmethod(_pack_gates), staticmethod(_unpack_gates)

    def __repr__(self):
        return "LSTMKernel()"

    def forward(self, a, state, noise=_NO_NOISE):
        """a (scaled: -a_i, -a_f, -2 a_g, -a_o) is scratch: the four activations are computed in it and cached."""
        h_prev, c_prev = state
        np.exp(a, out=a)
        a += 1
        np.reciprocal(a, out=a)  # sigmoid(a_i), sigmoid(a_f), sigmoid(2 a_g), sigmoid(a_o)
        H = len(c_prev)
        i, f, g, o = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        g *= 2
        g -= 1  # tanh(a_g)
        update = i * g
        if noise.update is not None:
            update *= noise.update
        c_candidate = f * c_prev
        c_candidate += update
        tanh_c = np.tanh(c_candidate)
        # Zoneout (Krueger et al. 2017, Sec. 3.2): h's candidate uses the candidate cell state.
        c = _zoneout(noise.keep_c, c_prev, c_candidate)
        h = _zoneout(noise.keep_h, h_prev, o * tanh_c)
        return (h, c), (a, c_prev, tanh_c, noise)

    def backward(self, dstate, cache, da):
        """Writes d(a) (unscaled) into da (4H, N); returns (dh_{t-1} or None, dc_{t-1})."""
        a, c_prev, tanh_c, noise = cache
        i, f, g, o = gate_blocks(a, 4)
        di_f, dg, do = da[: 2 * len(i)], *gate_blocks(da, 4)[2:]
        dh, dc = dstate
        dh_candidate, dh_prev = _zoneout_backward(noise.keep_h, dh)
        dc_candidate, dc_prev = _zoneout_backward(noise.keep_c, dc)
        # The candidate cell state reaches the loss through h_t = o tanh(c) and through c_t.
        dc_total = np.multiply(tanh_c, tanh_c)
        np.subtract(1, dc_total, out=dc_total)
        dc_total *= o
        dc_total *= dh_candidate
        dc_total += dc_candidate
        # sigmoid' = s (1 - s); i and f are adjacent blocks, so they go together.
        i_f = a[: 2 * len(i)]
        np.subtract(1, i_f, out=di_f)
        di_f *= i_f
        di_f[: len(i)] *= g if noise.update is None else g * noise.update
        di_f[len(i) :] *= c_prev
        both = di_f.reshape(2, *dc_total.shape)  # a view: da is contiguous
        both *= dc_total
        np.subtract(1, o, out=do)
        do *= o
        do *= tanh_c
        do *= dh_candidate
        np.multiply(g, g, out=dg)
        np.subtract(1, dg, out=dg)
        dg *= i
        if noise.update is not None:
            dg *= noise.update
        dg *= dc_total
        dc_total *= f
        return dh_prev, _add(dc_prev, dc_total)


class GRUKernel:
    """GRU step (Cho et al. 2014), in PyTorch's form.

        r = sigmoid(xp_r + hp_r)       z = sigmoid(xp_z + hp_z)
        n = tanh(xp_n + r * hp_n)      hp_n = W_hn h_{t-1} + b_hn
        h_t = (1 - z) * n + z * h_{t-1}

    Because r multiplies hp_n, the kernel's input a (4H, N) has the rows
    (xp_r + hp_r, xp_z + hp_z, hp_n, xp_n): `pack` builds the matching weights.
    """

    n_gates, n_states, gate_scale = 3, 1, None

    def __repr__(self):
        return "GRUKernel()"

    @staticmethod
    def pack(w_ih, w_hh, b_ih, b_hh):
        """Rows r and z: [W_hh | W_ih | b_ih + b_hh]; row block hp_n: [W_hn | 0 | b_hn]; xp_n: [0 | W_in | b_in]."""
        H, H_in = w_hh.shape[1], w_ih.shape[1]
        w = np.zeros((4 * H, H + H_in + 1), dtype=w_hh.dtype)
        w[: 2 * H] = _pack_gates(w_ih[: 2 * H], w_hh[: 2 * H], b_ih[: 2 * H], b_hh[: 2 * H])
        w[2 * H : 3 * H, :H], w[2 * H : 3 * H, -1] = w_hh[2 * H :], b_hh[2 * H :]
        w[3 * H :, H : H + H_in], w[3 * H :, -1] = w_ih[2 * H :], b_ih[2 * H :]
        return w

    @staticmethod
    def unpack(dw, H, H_in):
        """(dW_ih, dW_hh, db_ih, db_hh) from the gradient of `pack`'s matrix (the zero blocks' gradients dropped)."""
        rz, hn, xn = dw[: 2 * H], dw[2 * H : 3 * H], dw[3 * H :]
        return (np.concatenate([rz[:, H : H + H_in], xn[:, H : H + H_in]]), np.concatenate([rz[:, :H], hn[:, :H]]),
                np.concatenate([rz[:, -1], xn[:, -1]]), np.concatenate([rz[:, -1], hn[:, -1]]))

    def forward(self, a, state, noise=_NO_NOISE):
        (h_prev,) = state
        H = h_prev.shape[0]
        r_z = a[: 2 * H]
        np.negative(r_z, out=r_z)
        np.exp(r_z, out=r_z)
        r_z += 1
        np.reciprocal(r_z, out=r_z)  # sigmoid
        r, z = r_z[:H], r_z[H:]
        hp_n = a[2 * H : 3 * H]
        n = r * hp_n
        n += a[3 * H :]
        np.tanh(n, out=n)
        n_eff = n if noise.update is None else n * noise.update
        h = _zoneout(noise.keep_h, h_prev, n_eff + z * (h_prev - n_eff))
        return (h,), (r, z, n, n_eff, hp_n, h_prev, noise)

    def backward(self, dstate, cache, da):
        """Writes d(a) into da (4H, N): d(xp_r + hp_r), d(xp_z + hp_z), d hp_n, d xp_n."""
        r, z, n, n_eff, hp_n, h_prev, noise = cache
        H = r.shape[0]
        dh_candidate, dh_prev = _zoneout_backward(noise.keep_h, dstate[0])
        dh_prev = _add(dh_prev, dh_candidate * z)
        dn = dh_candidate * (1 - z)
        if noise.update is not None:
            dn = dn * noise.update
        dan = dn * (1 - n * n)
        da[:H] = dan * hp_n * r * (1 - r)
        da[H : 2 * H] = dh_candidate * (h_prev - n_eff) * z * (1 - z)
        np.multiply(dan, r, out=da[2 * H : 3 * H])
        da[3 * H :] = dan
        return (dh_prev,)
