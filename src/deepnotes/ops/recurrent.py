"""Fused recurrent kernels: one time step of an Elman RNN, an LSTM and a GRU (inventory S1-S3, R2).

Each cell's math lives in one kernel class with `forward` (one step) and
`backward` (that step's analytic gradient) side by side.  Two `Function`s
drive the kernels:

* `RecurrentStep` runs one step; the cells (`nn.LSTMCell`, ...) use it.
* `RecurrentSequence` runs a whole layer-direction: the input projection of
  every step in one GEMM, then a loop over time; its backward is
  backpropagation through time (BPTT) over the saved per-step caches, with the
  weight gradients as one GEMM over all steps.  The layers (`nn.LSTM`, ...)
  use it, so a layer-direction is one node of the graph however long the sequence.

Conventions (PyTorch's, so weights copy between the two): the pre-activations
are xp = x W_ih^T + b_ih and hp = h_{t-1} W_hh^T + b_hh; gate blocks LSTM
(i, f, g, o), GRU (r, z, n); the GRU's candidate is n = tanh(xp_n + r * hp_n):
the reset gate multiplies `W_hn h + b_hn` (PyTorch / cuDNN), not h before the
product (Cho et al. 2014).

Layout.  Inside the kernels every array is *feature-major*: pre-activations
are (G*H, N) and states (H, N), with N the batch.  A gate block is then one
contiguous slab; in the batch-major (N, G*H) layout it is a strided column
block, and NumPy's elementwise ops on it cost 2-4x more.  The recurrent GEMM
W_hh (G*H, H) @ h (H, N) also splits better over BLAS threads than
h (N, H) @ W_hh^T when N is small (35-50 us vs 65-75 us for the W3 benchmark's
512 x 128 x 32 on two threads).  The Functions transpose at their edges.

The LSTM's gates cost one `exp`: the kernel receives its pre-activations
scaled by `gate_scale` (-1 for i, f, o and -2 for g; the driver scales the
weights and biases, exactly, being powers of two), so that 1 / (1 + exp(.))
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

from ..autograd.function import Function

StepNoise = namedtuple("StepNoise", ["keep_h", "keep_c", "update"], defaults=(None, None, None))
StepNoise.__doc__ = """Noise for the kernels.  Each field is None (absent), a Python float, or an array:
(N, H) for one step (`RecurrentStep`), (T, N, H) for a sequence (`RecurrentSequence` slices step t).
The Functions hand the kernels the feature-major transposes, (H, N).

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


class RNNKernel:
    """Elman (1990) RNN step:  h_t = act(xp_t + hp_t),  act = tanh or relu.

    xp_t and hp_t are (H, N).  The backward multiplies by act'(a) = 1 - h^2
    (tanh) or [a > 0] (relu): the factor that, repeated over T steps with
    W_hh, makes gradients vanish or explode.
    """

    n_gates, n_states, separate_hidden_grad, gate_scale = 1, 1, False, None

    def __init__(self, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def __repr__(self):
        return f"RNNKernel({self.nonlinearity!r})"

    def forward(self, xp, hp, state, noise=_NO_NOISE):
        """hp is scratch: the activation is computed in it."""
        (h_prev,) = state
        a = np.add(hp, xp, out=hp)
        act = np.tanh(a, out=a) if self.nonlinearity == "tanh" else np.maximum(a, 0, out=a)
        candidate = act if noise.update is None else act * noise.update
        h = _zoneout(noise.keep_h, h_prev, candidate)
        return (h,), (act, noise)

    def backward(self, dstate, cache, dxp, dhp=None):
        """Writes d(pre-activation) into dxp (H, N); returns the gradients of the previous states."""
        act, noise = cache
        dcandidate, dh_prev = _zoneout_backward(noise.keep_h, dstate[0])
        dact = dcandidate if noise.update is None else dcandidate * noise.update
        if self.nonlinearity == "tanh":
            np.multiply(act, act, out=dxp)
            np.subtract(1, dxp, out=dxp)
            dxp *= dact
        else:
            np.multiply(dact, act > 0, out=dxp)
        return (dh_prev,)


class LSTMKernel:
    """LSTM step (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000).

        a = xp_t + hp_t                                  (4H, N), blocks i, f, g, o
        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    The kernel receives xp and hp scaled by `gate_scale` (see the module docstring).
    The cell state is updated additively: dc_{t-1} = f * dc_t, so with f near 1
    the gradient flows through many steps (the constant error carousel).
    """

    n_gates, n_states, separate_hidden_grad = 4, 2, False
    gate_scale = np.array([-1.0, -1.0, -2.0, -1.0])

    def __repr__(self):
        return "LSTMKernel()"

    def forward(self, xp, hp, state, noise=_NO_NOISE):
        """hp is scratch: the four activations are computed in it and cached."""
        h_prev, c_prev = state
        a = np.add(hp, xp, out=hp)  # -a_i, -a_f, -2 a_g, -a_o
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

    def backward(self, dstate, cache, dxp, dhp=None):
        """Writes d(a) into dxp (4H, N); returns (dh_{t-1} or None, dc_{t-1})."""
        a, c_prev, tanh_c, noise = cache
        i, f, g, o = gate_blocks(a, 4)
        di_f, dg, do = dxp[: 2 * len(i)], *gate_blocks(dxp, 4)[2:]
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
        both = di_f.reshape(2, *dc_total.shape)  # a view: dxp is contiguous
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

    xp and hp are (3H, N) with blocks r, z, n.  Because r multiplies hp_n, the
    gradient of hp differs from that of xp in the n block (`separate_hidden_grad`).
    """

    n_gates, n_states, separate_hidden_grad, gate_scale = 3, 1, True, None

    def __repr__(self):
        return "GRUKernel()"

    def forward(self, xp, hp, state, noise=_NO_NOISE):
        (h_prev,) = state
        H = h_prev.shape[0]
        r_z = np.add(xp[: 2 * H], hp[: 2 * H])
        np.negative(r_z, out=r_z)
        np.exp(r_z, out=r_z)
        r_z += 1
        np.reciprocal(r_z, out=r_z)  # sigmoid
        r, z = r_z[:H], r_z[H:]
        hp_n = hp[2 * H :]
        n = r * hp_n
        n += xp[2 * H :]
        np.tanh(n, out=n)
        n_eff = n if noise.update is None else n * noise.update
        h = _zoneout(noise.keep_h, h_prev, n_eff + z * (h_prev - n_eff))
        return (h,), (r, z, n, n_eff, hp_n, h_prev, noise)

    def backward(self, dstate, cache, dxp, dhp):
        """Writes d(xp) into dxp and d(hp) into dhp, both (3H, N)."""
        r, z, n, n_eff, hp_n, h_prev, noise = cache
        H = r.shape[0]
        dh_candidate, dh_prev = _zoneout_backward(noise.keep_h, dstate[0])
        dh_prev = _add(dh_prev, dh_candidate * z)
        dn = dh_candidate * (1 - z)
        if noise.update is not None:
            dn = dn * noise.update
        dan = dn * (1 - n * n)
        dxp[:H] = dan * hp_n * r * (1 - r)
        dxp[H : 2 * H] = dh_candidate * (h_prev - n_eff) * z * (1 - z)
        dxp[2 * H :] = dan
        dhp[: 2 * H] = dxp[: 2 * H]
        np.multiply(dan, r, out=dhp[2 * H :])
        return (dh_prev,)


def _scale_rows(kernel, array):
    """array * the kernel's gate scale, repeated over each gate block's rows (a new array either way)."""
    if kernel.gate_scale is None:
        return array.copy()
    H = array.shape[0] // kernel.n_gates
    scale = np.repeat(kernel.gate_scale.astype(array.dtype), H)
    return array * scale.reshape((-1,) + (1,) * (array.ndim - 1))


def _feature_major(noise):
    """Each noise array with its last two axes (N, H) swapped to (H, N), contiguous; others pass through."""
    if noise is None:
        return _NO_NOISE
    return StepNoise(*(np.ascontiguousarray(np.swapaxes(v, -1, -2)) if isinstance(v, np.ndarray) else v
                       for v in noise))


def _noise_at(noise, t):
    """Step t of each (T, H, N) noise array; scalars and None pass through."""
    if noise is _NO_NOISE:
        return noise
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
        xp_fm, hp_fm = _scale_rows(kernel, xp.T), _scale_rows(kernel, hp.T)
        with np.errstate(over="ignore"):
            new_state, ctx.cache = kernel.forward(xp_fm, hp_fm, tuple(s.T for s in state),
                                                  _feature_major(noise))
        ctx.kernel = kernel
        return np.stack([s.T for s in new_state]) if len(new_state) > 1 else np.ascontiguousarray(new_state[0].T)

    @staticmethod
    def backward(ctx, grad):
        kernel = ctx.kernel
        dstate = (grad.T,) if kernel.n_states == 1 else tuple(g.T for g in grad)
        H, N = dstate[0].shape
        dxp = np.empty((kernel.n_gates * H, N), dtype=grad.dtype)
        dhp = np.empty_like(dxp) if kernel.separate_hidden_grad else dxp
        dprev = kernel.backward(dstate, ctx.cache, dxp, dhp if kernel.separate_hidden_grad else None)
        return (dxp.T, dhp.T, *(None if d is None else d.T for d in dprev))


class RecurrentSequence(Function):
    """A cell kernel over a whole sequence: input projection, loop over time, and BPTT.

    Inputs:
        x: (T, N, H_in) the layer's input.  w_ih: (G*H, H_in).  w_hh: (G*H, H).
        b_ih, b_hh: (G*H,) (zeros for a layer without bias).
        state0: h0 (N, H), and c0 (N, H) for the LSTM.
    Params:
        kernel: the cell kernel.  reverse: run from t = T-1 down to 0.
        noise: `StepNoise` of (T, N, H) arrays or floats, or None.
        hidden_mask: (N, H) array multiplying h_{t-1} in the recurrent product
            at every step (variational recurrent dropout), or None.
    Output:
        (T, N, H) hidden states in time order, followed for the LSTM by the
        final cell state: (T + 1, N, H).  h_n is row T-1 (forward) or 0 (reverse).

    Forward: xp = W_ih x_t + b_ih (+ b_hh unless the kernel needs hp alone) for
    all steps in one GEMM, then per step one GEMM hp = W_hh h_{t-1} for all gates.
    Backward: per step one GEMM for dh_{t-1}; then dW_ih, dW_hh and dx as one
    GEMM each over all steps (dW_hh = sum_t dhp_t h_{t-1}^T).
    """

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, *state, kernel=None, reverse=False, noise=None,
                hidden_mask=None):
        T, N, H_in = x.shape
        GH, H = w_hh.shape
        separate = kernel.separate_hidden_grad
        # xp_t = W_ih x_t + b for every t as one batched GEMM, the bias riding along as a
        # column of W against a row of ones under x_t^T: step t is one contiguous (G*H, N) slab.
        # Scaling the weights by the kernel's gate scale is exact (powers of two).
        w_ih_b = np.empty((GH, H_in + 1), dtype=x.dtype)
        w_ih_b[:, :H_in] = w_ih
        w_ih_b[:, H_in] = b_ih if separate else b_ih + b_hh
        x_1 = np.empty((T, H_in + 1, N), dtype=x.dtype)
        x_1[:, :H_in] = x.transpose(0, 2, 1)
        x_1[:, H_in] = 1
        xp = np.matmul(_scale_rows(kernel, w_ih_b), x_1)
        w_hh_s = _scale_rows(kernel, w_hh)
        b_hh_s = _scale_rows(kernel, b_hh)[:, None] if separate else None
        noise = _feature_major(noise)
        mask = None if hidden_mask is None else np.ascontiguousarray(hidden_mask.T)
        steps = range(T - 1, -1, -1) if reverse else range(T)
        hs, caches = [None] * T, [None] * T  # per step: h_t (H, N) and the kernel's cache
        state = tuple(s.T for s in state)
        h0 = state[0]
        with np.errstate(over="ignore"):
            for t in steps:
                hp = w_hh_s @ (state[0] if mask is None else state[0] * mask)
                if separate:
                    hp += b_hh_s
                state, cache = kernel.forward(xp[t], hp, state, _noise_at(noise, t))
                hs[t] = state[0]
                if ctx.tracked:
                    caches[t] = cache
        out = np.empty((T + kernel.n_states - 1, N, H), dtype=x.dtype)
        np.stack([h.T for h in hs], out=out[:T])
        for k, extra in enumerate(state[1:]):
            out[T + k] = extra.T
        if ctx.tracked:
            ctx.kernel, ctx.steps, ctx.caches, ctx.hidden_mask = kernel, steps, caches, mask
            # h_{t-1} of every step: h0 first (forward) or last (reverse).
            ctx.h_prev = [h0] + hs[:-1] if not reverse else hs[1:] + [h0]
        ctx.save_for_backward(x, w_ih, w_hh)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w_ih, w_hh = ctx.saved_arrays
        kernel, mask = ctx.kernel, ctx.hidden_mask
        T, N, H = grad.shape[0] - kernel.n_states + 1, grad.shape[1], grad.shape[2]
        GH = w_hh.shape[0]
        separate = kernel.separate_hidden_grad
        grad_h = np.ascontiguousarray(grad[:T].transpose(0, 2, 1))  # (T, H, N)
        dxp = np.empty((T, GH, N), dtype=grad.dtype)
        dhp = np.empty_like(dxp) if separate else dxp
        # Gradients flowing into the states at the current step from later steps.
        dstate = [None] + [np.ascontiguousarray(grad[T + k].T) for k in range(kernel.n_states - 1)]
        for t in reversed(ctx.steps):
            dstate[0] = grad_h[t] if dstate[0] is None else np.add(dstate[0], grad_h[t])
            dprev = kernel.backward(tuple(dstate), ctx.caches[t], dxp[t], dhp[t] if separate else None)
            dh_recurrent = w_hh.T @ dhp[t]
            if mask is not None:
                dh_recurrent *= mask
            dstate = [_add(dprev[0], dh_recurrent)] + [
                d if d is not None else np.zeros_like(dh_recurrent) for d in dprev[1:]
            ]
        needs = ctx.needs_input_grad
        # Time and batch side by side, (G*H, T*N): each weight gradient is one GEMM over all steps.
        dxp_2d = np.ascontiguousarray(dxp.transpose(1, 0, 2)).reshape(GH, T * N)
        dhp_2d = np.ascontiguousarray(dhp.transpose(1, 0, 2)).reshape(GH, T * N) if separate else dxp_2d
        dx = (dxp_2d.T @ w_ih).reshape(T, N, -1) if needs[0] else None
        dw_ih = dxp_2d @ x.reshape(T * N, -1) if needs[1] else None
        if needs[2]:
            h_in = np.stack(ctx.h_prev, axis=1)  # (H, T, N)
            if mask is not None:
                h_in *= mask[:, None, :]
            dw_hh = dhp_2d @ h_in.reshape(H, T * N).T
        else:
            dw_hh = None
        db_ih = dxp_2d.sum(axis=1) if needs[3] else None
        db_hh = dhp_2d.sum(axis=1) if needs[4] else None
        return (dx, dw_ih, dw_hh, db_ih, db_hh, *(d.T for d in dstate))
