"""`RecurrentSequence`: a recurrent cell kernel over a whole sequence, forward and BPTT (inventory S1-S3, R2).

The cells' step math is in `ops.recurrent_kernels` (`RNNKernel`, `LSTMKernel`,
`GRUKernel`).  One `Function`, `RecurrentSequence`, drives a kernel over a
sequence: a loop over time forward, backpropagation through time (BPTT) over
the saved per-step caches backward.  A layer-direction is one node of the
graph however long the sequence, and a cell (`nn.LSTMCell`, ...) is the same
node over a sequence of length 1.

One GEMM per step.  The kernel packs the four weights into one matrix
W = [W_h | W_x | b] (`pack`) acting on z_t = [h_{t-1}; x_t; 1], so a step's
pre-activations are a single product W z_t: no separate input projection, no
bias or projection added per step.  The weight gradients then come out of
one GEMM over all steps, dW = sum_t da_t z_t^T, which `unpack` splits back.

Layout.  Inside the kernels every array is *feature-major*: pre-activations
are (rows, N) and states (H, N), with N the batch.  A gate block is then one
contiguous slab; in the batch-major (N, G*H) layout it is a strided column
block, and NumPy's elementwise ops on it cost 2-4x more.  The recurrent GEMM
W (G*H, K) @ z (K, N) also splits better over BLAS threads than z^T W^T when N
is small.  The Function transposes at its edges.

Inference (nothing to differentiate, no noise) may take a fast path
(`deepnotes.fast.recurrent`): a step that caches nothing and writes h_t straight
into the next step's z.
"""
from __future__ import annotations

import numpy as np

from .. import fast
from ..backends import blas
from ..autograd.function import Function
from .recurrent_kernels import _NO_NOISE, StepNoise, _add


def _scale_rows(kernel, array):
    """array * the kernel's gate scale, repeated over each gate block's rows (the array itself without one)."""
    if kernel.gate_scale is None:
        return array
    H = array.shape[0] // kernel.n_gates
    return array * np.repeat(kernel.gate_scale.astype(array.dtype), H)[:, None]


def _feature_major(noise):
    """Each (T, N, H) noise array as a contiguous (T, H, N) one; floats and None pass through."""
    if noise is None:
        return _NO_NOISE
    return StepNoise(*(np.ascontiguousarray(np.swapaxes(v, -1, -2)) if isinstance(v, np.ndarray) else v
                       for v in noise))


def _noise_at(noise, t):
    """Step t of each (T, H, N) noise array; scalars and None pass through."""
    if noise is _NO_NOISE:
        return noise
    return StepNoise(*(v[t] if isinstance(v, np.ndarray) else v for v in noise))


class RecurrentSequence(Function):
    """A cell kernel over a whole sequence: one GEMM and the kernel per step, and BPTT.

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

    Forward: per step a_t = W z_t with z_t = [h_{t-1}; x_t; 1] and W the
    kernel's packed weights (see the module docstring).  Backward: per step
    one GEMM for dh_{t-1} = W_h^T da_t; then dW = sum_t da_t z_t^T and dx as
    one GEMM each over all steps.
    """

    once_differentiable = True  # fused kernel: its backward runs on arrays only

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, *state, kernel=None, reverse=False, noise=None,
                hidden_mask=None):
        T, N, H_in = x.shape
        H = w_hh.shape[1]
        w = kernel.pack(w_ih, w_hh, b_ih, b_hh)
        w_scaled = _scale_rows(kernel, w)  # exact: the scales are powers of two
        # z_t = [h_{t-1}; x_t; 1] for every step; the h rows are filled as the loop reaches them.
        z = np.empty((T, H + H_in + 1, N), dtype=x.dtype)
        z[:, H : H + H_in] = x.transpose(0, 2, 1)
        z[:, -1] = 1
        noise = _feature_major(noise)
        mask = None if hidden_mask is None else np.ascontiguousarray(hidden_mask.T)
        steps = range(T - 1, -1, -1) if reverse else range(T)
        caches = [None] * T  # per step, the kernel's cache (when tracked)
        out = np.empty((T + kernel.n_states - 1, N, H), dtype=x.dtype)
        state = tuple(s.T for s in state)
        lean = not ctx.tracked and mask is None and all(v is None for v in noise)
        inference = fast.get("recurrent_inference") if lean else None
        with np.errstate(over="ignore"):
            if inference is not None:  # nothing to differentiate, no noise: nothing cached
                state = inference(kernel, w_scaled, z, state, steps, out)
            else:
                for t in steps:
                    if mask is None:
                        z[t, :H] = state[0]
                    else:
                        np.multiply(state[0], mask, out=z[t, :H])
                    state, cache = kernel.forward(blas.gemm(w_scaled, z[t]), state, _noise_at(noise, t))
                    if ctx.tracked:
                        caches[t] = cache
                    out[t] = state[0].T
        for k, extra in enumerate(state[1:]):
            out[T + k] = extra.T
        if ctx.tracked:
            ctx.kernel, ctx.steps, ctx.caches, ctx.hidden_mask = kernel, steps, caches, mask
            ctx.save_for_backward(w, z)
        return out

    @staticmethod
    def backward(ctx, grad):
        w, z = ctx.saved_arrays
        kernel, mask = ctx.kernel, ctx.hidden_mask
        T, K, N = z.shape
        H = grad.shape[2]
        H_in = K - H - 1
        w_h = w[:, :H].T  # (H, rows), a view (the seam passes it as a transpose): dh_{t-1} = W_h^T da_t
        grad_h = np.ascontiguousarray(grad[:T].transpose(0, 2, 1))  # (T, H, N)
        da = np.empty((T, w.shape[0], N), dtype=grad.dtype)
        # Gradients flowing into the states at the current step from later steps.
        dstate = [None] + [np.ascontiguousarray(grad[T + k].T) for k in range(kernel.n_states - 1)]
        for t in reversed(ctx.steps):
            dstate[0] = grad_h[t] if dstate[0] is None else np.add(dstate[0], grad_h[t])
            dprev = kernel.backward(tuple(dstate), ctx.caches[t], da[t])
            dh_recurrent = blas.gemm(w_h, da[t])
            if mask is not None:
                dh_recurrent *= mask
            dstate = [_add(dprev[0], dh_recurrent)] + [
                d if d is not None else np.zeros_like(dh_recurrent) for d in dprev[1:]
            ]
        needs = ctx.needs_input_grad
        # Time and batch side by side, (rows, T*N): each gradient is one GEMM over all steps.
        da_2d = np.ascontiguousarray(da.transpose(1, 0, 2)).reshape(-1, T * N)
        dx = blas.gemm(da_2d, w[:, H : H + H_in], trans_a=True).reshape(T, N, H_in) if needs[0] else None
        weights = (None,) * 4
        if any(needs[1:5]):
            dw = blas.gemm(da_2d, np.ascontiguousarray(z.transpose(1, 0, 2)).reshape(K, T * N), trans_b=True)
            weights = kernel.unpack(dw, H, H_in)
        return (dx, *(g if need else None for g, need in zip(weights, needs[1:5])), *(d.T for d in dstate))
