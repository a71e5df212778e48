"""Fast path: a recurrent layer's forward in inference (nothing to differentiate, no noise).

The general loop (`ops.recurrent.RecurrentSequence.forward`) calls the kernel's `forward`,
which also returns the step's cache and handles noise and zoneout, and copies each h_t into
the next step's z_t and into the output. Here a step caches nothing, and each h_t is written
by the kernel straight into the h rows of the next step's z_t, so the hidden states are
copied out once at the end rather than twice per step. For the LSTM the step is `forward`'s
arithmetic, bit for bit, done in place on the pre-activations.
"""
from __future__ import annotations

import numpy as np

from ..backends import blas
from ..ops.recurrent_kernels import LSTMKernel
from . import register


def lstm_step(a, state, h_out=None):
    """One LSTM step on the pre-activations `a` (4H, N), scaled as `LSTMKernel.forward` gets them
    (i, f, o rows by 1, g rows by 2: one exp gives sigmoid and, as 2 sigmoid(2x) - 1, tanh).
    Returns (h, c); h written into `h_out` when given. `a` is overwritten."""
    h_prev, c_prev = state
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    H = len(c_prev)
    g = a[2 * H : 3 * H]
    g *= 2
    g -= 1
    c = a[H : 2 * H] * c_prev
    c += a[:H] * g
    h = np.tanh(c, out=h_out)
    h *= a[3 * H :]
    return h, c


def step(kernel, a, state, h_out):
    """The new state of `kernel` for pre-activations `a`, h written into `h_out` when given."""
    if type(kernel) is LSTMKernel:
        return lstm_step(a, state, h_out)
    state = kernel.forward(a, state)[0]  # the RNN and GRU steps cost little beyond their math
    if h_out is not None:
        np.copyto(h_out, state[0])
        state = (h_out,) + tuple(state[1:])
    return state


@register("recurrent_inference", replaces="deepnotes.ops.recurrent.RecurrentSequence.forward (inference)")
def infer_sequence(kernel, w_scaled, z, state, steps, out):
    """The loop over time for inference: fills out[:T] (time order), returns the final state.

    z: (T, H + H_in + 1, N), the steps' [h_{t-1}; x_t; 1] with x and the ones filled in.
    """
    H, T = out.shape[2], len(steps)
    z[steps[0], :H] = state[0]
    for k, t in enumerate(steps):
        state = step(kernel, blas.gemm(w_scaled, z[t]), state, z[steps[k + 1], :H] if k + 1 < T else None)
    # h_t sits in the z of the step processed after t; the last one only in `state`.
    if steps[0] == 0:
        out[: T - 1] = z[1:, :H].transpose(0, 2, 1)
        out[T - 1] = state[0].T
    else:
        out[1:T] = z[: T - 1, :H].transpose(0, 2, 1)
        out[0] = state[0].T
    return state
