"""Recurrent layers: RNNCell, LSTMCell, GRUCell and the multi-layer RNN, LSTM, GRU (inventory S1-S3).

Everything follows PyTorch: constructor arguments, parameter names and shapes
(`weight_ih_l{k}{_reverse}` of shape (G*H, H_in), `weight_hh_l{k}` (G*H, H),
`bias_ih_l{k}`, `bias_hh_l{k}` (G*H,), gate blocks i,f,g,o for the LSTM and
r,z,n for the GRU), the default init U(-1/sqrt(H), 1/sqrt(H)) for every
parameter, the input layouts ((T, N, H_in), (N, T, H_in) with batch_first,
unbatched (T, H_in)) and the returned `(output, h_n)` / `(output, (h_n, c_n))`.
A state dict therefore loads into the PyTorch module and back.

The step math of each cell is in `deepnotes.ops.recurrent_kernels` (`RNNKernel`,
`LSTMKernel`, `GRUKernel`, equations in their docstrings).  A layer runs one fused
`RecurrentSequence` node per layer and direction (one GEMM and one kernel call
per time step: the only Python loop); a cell runs the same node over a
sequence of length 1.

The recurrent regularizers (`nn.Zoneout`, `nn.RecurrentDropout`,
`nn.WeightDrop`) wrap these modules and reach the kernels through `_forward`.

Slightly over 400 lines on purpose: the cells and the layers share one parameter base and
checks, and PyTorch keeps them in one module (`torch.nn.modules.rnn`), as `nn.modules.rnn` does here.
"""
from __future__ import annotations

import math
import warnings
from numbers import Integral

import numpy as np

from ..._checks import check_nan
from ...autograd.tensor import Tensor, as_tensor
from ...errors import ShapeError
from ...ops import api as ops
from ...ops.dropout import check_probability
from ..functional.dropout import dropout
from ...ops.recurrent import RecurrentSequence
from ...ops.recurrent_kernels import GRUKernel, LSTMKernel, RNNKernel
from .. import init
from ..utils.rnn import PackedSequence, packed_forward
from ..module import Module, Parameter


def _check_dtype(name, what, tensor, weight):
    if tensor.dtype != weight.dtype:
        raise ValueError(
            f"{name}: {what} has dtype {tensor.dtype} but the parameters are {weight.dtype}; "
            f"cast the input or call .to({tensor.dtype}) on the module"
        )


def _constant_zeros(shape, dtype):
    return Tensor(np.zeros(shape, dtype=dtype))


class _RecurrentParameters(Module):
    """Shared by cells and layers: size checks, the uniform init, and the noise hook."""

    kernel = None

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def forward(self, input, hx=None):
        return self._forward(input, hx, None)

    def _step_noise(self, noise, shape, dtype):
        """The `StepNoise` a regularizer asks for (None without one); checks it applies here."""
        if noise is None:
            return None
        if noise.zoneout_c and not isinstance(self.kernel, LSTMKernel):
            raise ValueError(f"{self._name()}: zoneout of the cell state (p_c > 0) needs an LSTM")
        return noise.step_noise(shape, dtype, self.training)


# --------------------------------------------------------------------------- cells


class _CellBase(_RecurrentParameters):
    num_gates = 1

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        if self.input_size < 0 or self.hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: hidden_size must be positive and input_size >= 0, "
                             f"got input_size={input_size}, hidden_size={hidden_size}")
        gates = self.num_gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((gates, self.input_size), dtype=np.float32))
        self.weight_hh = Parameter(np.empty((gates, self.hidden_size), dtype=np.float32))
        if self.bias:
            self.bias_ih = Parameter(np.empty(gates, dtype=np.float32))
            self.bias_hh = Parameter(np.empty(gates, dtype=np.float32))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def _name(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        return s

    def _prepare(self, input, states):
        """x: (N, H_in) or (H_in,); states: None or tensors (N, H) / (H,).  Returns batched versions."""
        x = as_tensor(input)
        name = self._name()
        if x.ndim not in (1, 2):
            raise ShapeError(f"{name}: expected input to be 1D or 2D, got {x.ndim}D (shape {x.shape})")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input with last dimension {self.input_size}, got shape {x.shape}")
        _check_dtype(name, "input", x, self.weight_ih)
        check_nan(name, x._data)
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        n = x.shape[0]
        if states is None:
            states = [_constant_zeros((n, self.hidden_size), x.dtype)] * self.kernel.n_states
        else:
            states = [as_tensor(s) for s in states]
            for s in states:
                expected = (n, self.hidden_size) if batched else (self.hidden_size,)
                if s.shape != expected:
                    raise ValueError(f"{name}: expected hidden state of shape {expected}, got {s.shape}")
                _check_dtype(name, "hidden state", s, self.weight_ih)
            states = states if batched else [s.unsqueeze(0) for s in states]
        return x, states, batched

    def _cell(self, input, states, noise):
        """One step: returns the new states as a list of (N, H) or unbatched (H,) tensors."""
        if noise is not None and noise.hidden_dropout:
            raise ValueError(
                f"{self._name()}: variational recurrent dropout needs one mask for a whole sequence; "
                "wrap the RNN/LSTM/GRU layer instead of the cell"
            )
        x, states, batched = self._prepare(input, states)
        b_ih, b_hh = self.bias_ih, self.bias_hh
        if b_ih is None:
            b_ih = b_hh = _constant_zeros(self.weight_hh.shape[0], x.dtype)
        # One step is a sequence of length 1: the same fused node as the layers.
        step_noise = self._step_noise(noise, (1,) + states[0].shape, x.dtype)
        out = RecurrentSequence.apply(x.unsqueeze(0), self.weight_ih, self.weight_hh, b_ih, b_hh, *states,
                                      kernel=self.kernel, noise=step_noise)
        new = [out[k] for k in range(self.kernel.n_states)]
        return new if batched else [s.squeeze(0) for s in new]


class RNNCell(_CellBase):
    """Elman RNN cell (Elman 1990):  h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.

    Shapes: input (N, H_in) or (H_in,); hx (N, H) or (H,), zeros when omitted;
    returns h' of hx's shape.  Parameters: weight_ih (H, H_in), weight_hh (H, H),
    bias_ih (H,), bias_hh (H,).

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> cell = nn.RNNCell(3, 5)
        >>> cell(dn.randn(2, 3)).shape
        (2, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        kernel = RNNKernel(nonlinearity)  # validates nonlinearity before anything is built
        super().__init__(input_size, hidden_size, bias)
        self.kernel, self.nonlinearity = kernel, nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")

    def _forward(self, input, hx, noise):
        return self._cell(input, None if hx is None else [hx], noise)[0]


class LSTMCell(_CellBase):
    """LSTM cell (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000).

        i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the blocks of x W_ih^T + b_ih + h W_hh^T + b_hh
        c' = f * c + i * g,    h' = o * tanh(c')

    Shapes: input (N, H_in) or (H_in,); hx = (h, c), each (N, H) or (H,), zeros
    when omitted; returns (h', c').  weight_ih (4H, H_in), weight_hh (4H, H),
    biases (4H,), gate blocks in the order i, f, g, o.
    """

    num_gates = 4
    kernel = LSTMKernel()

    def _forward(self, input, hx, noise):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"{self._name()}: hx must be a tuple (h, c), got {type(hx).__name__}")
        return tuple(self._cell(input, hx, noise))


class GRUCell(_CellBase):
    """GRU cell (Cho et al. 2014), PyTorch's form:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)     z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h

    Shapes: input (N, H_in) or (H_in,); hx (N, H) or (H,), zeros when omitted;
    weight_ih (3H, H_in), weight_hh (3H, H), biases (3H,), blocks r, z, n.
    """

    num_gates = 3
    kernel = GRUKernel()

    def _forward(self, input, hx, noise):
        return self._cell(input, None if hx is None else [hx], noise)[0]


# -------------------------------------------------------------------------- layers


class _RNNBase(_RecurrentParameters):
    """Multi-layer, optionally bidirectional recurrent layer over a whole sequence.

    Layer k > 0 reads the concatenated outputs of both directions of layer k-1
    (dropout `dropout` between layers in training, none after the last).
    """

    num_gates = 1

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):  # variable lengths: nn.utils.rnn
            return packed_forward(self, input, hx)
        return self._forward(input, hx, None)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, Integral) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, Integral) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        check_probability(name, dropout)
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size > 0 (LSTM projections) is not implemented")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} and num_layers=1: dropout acts only between layers, so it "
                "does nothing here", UserWarning, stacklevel=3,
            )
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), 0
        directions = 2 if self.bidirectional else 1
        gates = self.num_gates * hidden_size
        for layer in range(num_layers):
            layer_input = self.input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                setattr(self, f"weight_ih_l{layer}{suffix}", Parameter(np.empty((gates, layer_input), np.float32)))
                setattr(self, f"weight_hh_l{layer}{suffix}", Parameter(np.empty((gates, hidden_size), np.float32)))
                if self.bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", Parameter(np.empty(gates, np.float32)))
                    setattr(self, f"bias_hh_l{layer}{suffix}", Parameter(np.empty(gates, np.float32)))
        self.reset_parameters()

    def _name(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}, num_layers={self.num_layers})"

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _weights(self, layer, suffix):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer and direction; biases None without bias."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")[: 4 if self.bias else 2]
        found = tuple(getattr(self, f"{n}_l{layer}{suffix}") for n in names)
        return found + (None,) * (4 - len(found))

    def _initial_states(self, hx, batch, batched, dtype):
        """hx -> per (layer, direction) a list of (N, H) tensors (h, and c for the LSTM)."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        name = self._name()
        if hx is None:
            zeros = _constant_zeros((batch, self.hidden_size), dtype)
            return [[zeros] * self.kernel.n_states for _ in range(count)]
        parts = [as_tensor(h) for h in (hx if self.kernel.n_states > 1 else (hx,))]
        expected = (count, batch, self.hidden_size) if batched else (count, self.hidden_size)
        for h in parts:
            if h.shape != expected:
                raise ValueError(
                    f"{name}: expected initial state of shape {expected} "
                    f"(num_layers * num_directions, {'N, ' if batched else ''}hidden_size), got {h.shape}"
                )
            _check_dtype(name, "initial state", h, self.weight_ih_l0)
        if not batched:
            parts = [h.unsqueeze(1) for h in parts]
        return [[h[k] for h in parts] for k in range(count)]

    def _forward(self, input, hx, noise):
        x = as_tensor(input)
        name = self._name()
        if x.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected input to be 2D (unbatched) or 3D, got {x.ndim}D (shape {x.shape})")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input with last dimension {self.input_size}, got shape {x.shape}")
        _check_dtype(name, "input", x, self.weight_ih_l0)
        check_nan(name, x._data)
        if self.kernel.n_states > 1 and hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        T, N = x.shape[:2]
        if T == 0:
            raise ValueError(f"{name}: expected a sequence of length >= 1, got shape {tuple(input.shape)}")
        states = self._initial_states(hx, N, batched, x.dtype)
        finals = []  # per (layer, direction): the final states
        layer_input = x
        directions = ("", "_reverse") if self.bidirectional else ("",)
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, suffix)
                if b_ih is None:
                    b_ih = b_hh = _constant_zeros(w_hh.shape[0], x.dtype)
                step_noise = self._step_noise(noise, (T, N, self.hidden_size), x.dtype)
                hidden_mask = None if noise is None else noise.hidden_mask((N, self.hidden_size), x.dtype,
                                                                           self.training)
                index = layer * len(directions) + d
                y = RecurrentSequence.apply(
                    layer_input, w_ih, w_hh, b_ih, b_hh, *states[index], kernel=self.kernel, reverse=bool(d),
                    noise=step_noise, hidden_mask=hidden_mask,
                )
                outputs.append(y if self.kernel.n_states == 1 else y[:T])
                last = 0 if d else T - 1
                finals.append([y[last]] + [y[T + k] for k in range(self.kernel.n_states - 1)])
            layer_input = outputs[0] if len(outputs) == 1 else ops.cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = dropout(layer_input, self.dropout, True)
        output = layer_input
        final = [ops.stack([f[k] for f in finals], dim=0) for k in range(self.kernel.n_states)]
        if not batched:
            output, final = output.squeeze(1), [h.squeeze(1) for h in final]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (final[0] if self.kernel.n_states == 1 else tuple(final))


class RNN(_RNNBase):
    """Multi-layer Elman RNN (Elman 1990):  h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Args (PyTorch's): input_size, hidden_size, num_layers=1, nonlinearity='tanh' or 'relu',
    bias=True, batch_first=False, dropout=0.0 (between layers), bidirectional=False.

    Shapes: input (T, N, H_in), (N, T, H_in) with batch_first, or unbatched (T, H_in);
    h_0 (num_layers * D, N, H) or (num_layers * D, H), zeros when omitted (D = 2 if
    bidirectional else 1).  Returns (output, h_n): output (T, N, D*H) (batch first
    when asked), h_n (num_layers * D, N, H).

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> rnn = nn.RNN(4, 8, num_layers=2, batch_first=True)
        >>> out, h_n = rnn(dn.randn(3, 5, 4))
        >>> out.shape, h_n.shape
        ((3, 5, 8), (2, 3, 8))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False):
        kernel = RNNKernel(nonlinearity)  # validates nonlinearity before anything is built
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.kernel, self.nonlinearity = kernel, nonlinearity

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class LSTM(_RNNBase):
    """Multi-layer LSTM (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000).

    Per step, with gate blocks i, f, g, o of a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh:
    c_t = sigmoid(a_f) * c_{t-1} + sigmoid(a_i) * tanh(a_g),  h_t = sigmoid(a_o) * tanh(c_t).

    Args as PyTorch's (proj_size must be 0).  Shapes as `RNN`; hx = (h_0, c_0) and
    the result is (output, (h_n, c_n)).

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> lstm = nn.LSTM(4, 8, bidirectional=True)
        >>> out, (h_n, c_n) = lstm(dn.randn(5, 3, 4))
        >>> out.shape, h_n.shape, c_n.shape
        ((5, 3, 16), (2, 3, 8), (2, 3, 8))
    """

    num_gates = 4
    kernel = LSTMKernel()


class GRU(_RNNBase):
    """Multi-layer GRU (Cho et al. 2014), PyTorch's form (see `GRUCell` for the equations).

    Args and shapes as `RNN` (no nonlinearity argument); returns (output, h_n).
    """

    num_gates = 3
    kernel = GRUKernel()
