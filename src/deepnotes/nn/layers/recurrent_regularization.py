"""Regularizers for recurrent networks: Zoneout, recurrent dropout, WeightDrop (inventory R2).

Plain dropout on h_t with a fresh mask per step erases the memory an RNN is
trying to carry (Zaremba et al. 2014 therefore dropped only the non-recurrent
connections).  The remedies here all leave the recurrent path usable:

* `Zoneout` (Krueger et al. 2017): each unit keeps its previous value with
  probability p instead of being zeroed; the identity path carries gradients.
* `RecurrentDropout`, two variants:
  "semeniuta" (Semeniuta et al. 2016, "recurrent dropout without memory
  loss"): drop the candidate *update* (LSTM's g, GRU's n, the RNN's new h),
  a fresh mask every step; the old memory is never zeroed.
  "gal" (Gal & Ghahramani 2016, variational, tied gates): drop h_{t-1} where
  it enters the recurrent product h_{t-1} W_hh^T, the same mask at every step
  of a sequence.  Pair it with `nn.LockedDropout` on inputs and outputs for
  the full variational RNN.
* `WeightDrop` (Merity et al. 2018, AWD-LSTM): DropConnect (Wan et al. 2013)
  on the hidden-to-hidden weights, one mask per forward call shared by every
  step, so the fused kernels run unchanged.

All wrap a recurrent module (`RNN`/`LSTM`/`GRU`, the cells for Zoneout and
"semeniuta"; or another wrapper) and are called like it; in evaluation mode
dropout is off and zoneout uses its expectation, h_t = p h_{t-1} + (1-p) h~_t.
PyTorch has none of them.  Masks come from `deepnotes.random.default_generator()`.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

from ...ops.dropout import MaskMultiply, check_probability, keep_mask, scaled_keep_mask
from ...ops.recurrent_kernels import StepNoise
from ..module import Module


@dataclass(frozen=True)
class RecurrentNoise:
    """What the wrappers ask the recurrent kernels to do; turned into masks per call.

    zoneout_h, zoneout_c: probability that a unit of h (of the LSTM's c) keeps its previous value.
    update_dropout: drop probability of the candidate update (Semeniuta et al. 2016).
    hidden_dropout: drop probability of h_{t-1} in the recurrent product (Gal & Ghahramani 2016).
    """

    zoneout_h: float = 0.0
    zoneout_c: float = 0.0
    update_dropout: float = 0.0
    hidden_dropout: float = 0.0

    def step_noise(self, shape, dtype, training):
        """A `StepNoise` for states of `shape` ((T, N, H) for a sequence, (N, H) for one step).

        Zoneout: a Bernoulli(p) keep mask in training, the scalar p in evaluation.
        Update dropout: the inverted-dropout mask keep / (1 - p) in training, nothing in evaluation.
        """

        def zoneout(p):
            if not p:
                return None
            return keep_mask(shape, 1.0 - p, dtype) if training else float(p)

        update = scaled_keep_mask(shape, self.update_dropout, dtype) if training and self.update_dropout else None
        return StepNoise(zoneout(self.zoneout_h), zoneout(self.zoneout_c), update)

    def hidden_mask(self, shape, dtype, training):
        """The (N, H) mask on h_{t-1} for a whole sequence, or None."""
        if not (training and self.hidden_dropout):
            return None
        return scaled_keep_mask(shape, self.hidden_dropout, dtype)


def _call_recurrent(module, input, hx, noise):
    forward = getattr(module, "_forward", None)
    if forward is None:
        raise TypeError(
            f"recurrent regularizers wrap RNN/LSTM/GRU layers or cells (or another wrapper), "
            f"got {type(module).__name__}"
        )
    return forward(input, hx, noise)


class _RecurrentWrapper(Module):
    """Holds the wrapped module; merges its own noise into what outer wrappers ask for."""

    def __init__(self, module):
        super().__init__()
        if not hasattr(module, "_forward"):
            raise TypeError(
                f"{type(self).__name__}: expected an RNN/LSTM/GRU layer or cell, got {type(module).__name__}"
            )
        self.module = module

    def forward(self, input, hx=None):
        return self._forward(input, hx, None)

    def _forward(self, input, hx, noise):
        return _call_recurrent(self.module, input, hx, self._merge(noise or RecurrentNoise()))


class Zoneout(_RecurrentWrapper):
    """Zoneout (Krueger et al. 2017): units randomly keep their previous value.

    Training, per unit and step, m ~ Bernoulli(p):
        h_t = m * h_{t-1} + (1 - m) * h~_t          (and c_t likewise with p_c for an LSTM)
    where h~_t, c~_t are the cell's ordinary outputs (for the LSTM,
    h~_t = o * tanh(c~_t) uses the candidate cell state, as in the paper).
    Evaluation: the expectation h_t = p * h_{t-1} + (1 - p) * h~_t.

    Unlike dropout, a zoned-out unit passes its value *and its gradient* through
    unchanged (dh_{t-1} = m * dh_t + ...), a stochastic identity connection.

    Args:
        module: an `RNN`, `LSTM`, `GRU`, their cells, or another recurrent wrapper.
        p_h: probability that a unit of h keeps its previous value.
        p_c: the same for the LSTM's cell state (0 for the others). Krueger et al.
            found p_c = 0.5, p_h = 0.05 good for character-level LSTMs.

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> model = nn.Zoneout(nn.LSTM(4, 8), p_h=0.1, p_c=0.5)
        >>> out, (h, c) = model(dn.randn(6, 2, 4))
        >>> out.shape
        (6, 2, 8)
    """

    def __init__(self, module, p_h, p_c=0.0):
        super().__init__(module)
        check_probability("Zoneout", p_h)
        check_probability("Zoneout", p_c)
        self.p_h, self.p_c = float(p_h), float(p_c)

    def _merge(self, noise):
        return replace(noise, zoneout_h=self.p_h or noise.zoneout_h, zoneout_c=self.p_c or noise.zoneout_c)

    def extra_repr(self):
        return f"p_h={self.p_h}, p_c={self.p_c}"


class RecurrentDropout(_RecurrentWrapper):
    """Dropout inside the recurrence that does not erase the memory.

    variant="semeniuta" (Semeniuta et al. 2016), fresh mask d every step, d = keep / (1 - p):
        LSTM  c_t = f * c_{t-1} + i * (d * g)
        GRU   h_t = (1 - z) * (d * n) + z * h_{t-1}
        RNN   h_t = d * act(...)                     (here the update is the whole state)
    variant="gal" (Gal & Ghahramani 2016, tied gates), one mask d per sequence:
        every gate reads (d * h_{t-1}) W_hh^T.  Layers only: a cell cannot know
        where a sequence starts.
    Evaluation: no dropout.

    Args:
        module: an `RNN`, `LSTM`, `GRU` (or a cell for "semeniuta"), or another recurrent wrapper.
        p: probability to drop.
        variant: "semeniuta" or "gal".
    """

    def __init__(self, module, p=0.25, variant="semeniuta"):
        super().__init__(module)
        check_probability("RecurrentDropout", p)
        if variant not in ("semeniuta", "gal"):
            raise ValueError(f"RecurrentDropout: variant must be 'semeniuta' or 'gal', got {variant!r}")
        self.p, self.variant = float(p), variant

    def _merge(self, noise):
        if self.variant == "semeniuta":
            return replace(noise, update_dropout=self.p or noise.update_dropout)
        return replace(noise, hidden_dropout=self.p or noise.hidden_dropout)

    def extra_repr(self):
        return f"p={self.p}, variant={self.variant!r}"


@contextmanager
def substituted_parameters(module, values):
    """Temporarily replace parameters of `module` (dotted names) by other tensors.

    Inside the block, the submodules read the given tensors where their
    parameters were (Module attribute lookup goes through `_parameters`), so a
    tensor computed from a parameter keeps the graph back to it.  The
    parameters are restored on exit, even after an exception.
    """
    saved = []
    try:
        for name, value in values.items():
            owner = module
            *path, leaf = name.split(".")
            for part in path:
                owner = owner._modules[part]
            if owner._parameters.get(leaf) is None:
                raise KeyError(f"substituted_parameters: {type(module).__name__} has no parameter {name!r}")
            saved.append((owner, leaf, owner._parameters[leaf]))
            owner._parameters[leaf] = value
        yield module
    finally:
        for owner, leaf, param in reversed(saved):
            owner._parameters[leaf] = param


class WeightDrop(Module):
    """DropConnect on chosen weights of a module (Merity et al. 2018's WeightDrop).

    Training, every forward call: W' = W * M / (1 - p), M ~ Bernoulli(1 - p)
    per weight, one M per call shared by the whole batch and every time step
    (so the dropped hidden-to-hidden matrix is the same along the sequence and
    the fused kernels are used unchanged).  The gradient reaches W through the
    mask: dW = dW' * M / (1 - p).  Evaluation: the full W.

    Args:
        module: the wrapped module (an `LSTM`, or anything that reads its weights as attributes).
        weights: parameter names (dotted for submodules); default: every `weight_hh*`.
        dropout: probability to drop a weight.

    The state dict keeps the wrapped module's names under "module.".

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> model = nn.WeightDrop(nn.LSTM(4, 8, num_layers=2), dropout=0.5)
        >>> model.weights
        ['weight_hh_l0', 'weight_hh_l1']
    """

    def __init__(self, module, weights=None, dropout=0.5):
        super().__init__()
        check_probability("WeightDrop", dropout)
        names = [n for n, _ in module.named_parameters()]
        if weights is None:
            weights = [n for n in names if n.split(".")[-1].startswith("weight_hh")]
            if not weights:
                raise ValueError(f"WeightDrop: {type(module).__name__} has no weight_hh* parameter; pass weights=")
        unknown = [w for w in weights if w not in names]
        if unknown:
            raise ValueError(f"WeightDrop: {type(module).__name__} has no parameters {unknown}; it has {names}")
        self.module, self.weights, self.dropout = module, list(weights), float(dropout)

    def _dropped(self):
        if not (self.training and self.dropout):
            return {}
        params = dict(self.module.named_parameters())
        return {
            name: MaskMultiply.apply(params[name], mask=scaled_keep_mask(params[name].shape, self.dropout,
                                                                         params[name].dtype))
            for name in self.weights
        }

    def forward(self, *args, **kwargs):
        with substituted_parameters(self.module, self._dropped()):
            return self.module(*args, **kwargs)

    def _forward(self, input, hx, noise):
        with substituted_parameters(self.module, self._dropped()):
            return _call_recurrent(self.module, input, hx, noise)

    def extra_repr(self):
        return f"weights={self.weights}, dropout={self.dropout}"
