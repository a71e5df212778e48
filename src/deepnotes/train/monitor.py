"""`GradientMonitor`: per-layer gradient and activation norms during training (inventory I2, I6, O7).

Vanishing and exploding gradients are visible layer by layer: in a deep
sigmoid network the gradient reaching the first layer is orders of magnitude
smaller than the last layer's (each sigmoid multiplies it by at most 1/4),
and with badly scaled weights it grows instead.  The monitor records, for
every training step it sees,

* the L2 (Frobenius) norm of each parameter's gradient, by parameter name;
* the root-mean-square of each Linear / Conv layer's output (the size of
  the activations flowing forward), by module name,

as lists aligned with `steps`, for plots and for `train.diagnose`.

Outputs are captured with forward hooks (`Module.register_forward_hook`), removed when
the monitor detaches.
"""
from __future__ import annotations

import contextlib
import math
from collections import OrderedDict

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..nn.layers.conv import _ConvNd
from ..nn.layers.linear import Linear
from .callbacks import Callback

DEFAULT_LAYER_TYPES = (Linear, _ConvNd)


def _watch_output(module, record):
    """Call `record(output)` after every forward of `module`; returns a function that stops it."""
    handle = module.register_forward_hook(lambda _module, _args, out: record(out))
    return handle.remove


@contextlib.contextmanager
def capture_outputs(model, layer_types):
    """Collect the outputs of every submodule of `model` of one of `layer_types` during the `with` block.

    Yields:
        An OrderedDict {module name: [output arrays, one per call]}.
    """
    outputs = OrderedDict()
    undos = []
    for name, module in model.named_modules():
        if isinstance(module, layer_types):
            outputs[name] = []
            undos.append(_watch_output(module, lambda out, name=name: outputs[name].append(
                np.array(out._data if isinstance(out, Tensor) else out))))
    try:
        yield outputs
    finally:
        for undo in reversed(undos):
            undo()


class GradientMonitor(Callback):
    """Record per-parameter gradient norms and per-layer activation sizes at every `every`-th training step.

    Use it as a `fit` callback (it attaches at the start of training, records
    after each batch's optimizer step, when the gradients are still in
    `.grad`, and detaches at the end), or by hand:
    `monitor.attach(model)`, then `monitor.record()` after each `backward()`.

    Args:
        model: the model (optional for `fit`, which passes it).
        every: record every `every`-th step.
        activations: also record the RMS output of each layer of `layer_types`.
        layer_types: module classes whose outputs are recorded (default Linear and Conv).

    Attributes:
        steps: the step numbers recorded (0-based, counting every batch).
        grad_norms: OrderedDict {parameter name: [||grad||_2 per recorded step]}
            in `named_parameters` order (input to output); NaN where a
            parameter had no gradient.
        activation_norms: OrderedDict {module name: [RMS of its output per recorded step]}.
        shapes: {parameter name: shape}.

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        >>> monitor = GradientMonitor().attach(model)
        >>> model(dn.randn(16, 4)).pow(2).mean().backward()
        >>> monitor.record()
        >>> list(monitor.grad_norms), list(monitor.activation_norms)
        (['0.weight', '0.bias', '2.weight', '2.bias'], ['0', '2'])
        >>> monitor.detach()
    """

    def __init__(self, model=None, every=1, activations=True, layer_types=DEFAULT_LAYER_TYPES):
        if int(every) < 1:
            raise ValueError(f"GradientMonitor: every must be >= 1, got {every!r}")
        self.model, self.every, self.activations = model, int(every), activations
        self.layer_types = tuple(layer_types)
        self.steps, self.grad_norms, self.activation_norms, self.shapes = [], OrderedDict(), OrderedDict(), {}
        self._step, self._pending, self._undos = 0, {}, []

    # ------------------------------------------------------------- attaching
    def attach(self, model=None):
        """Start watching `model` (forward hooks on its layers); returns self."""
        self.detach()
        if model is not None:
            self.model = model
        if self.model is None:
            raise ValueError("GradientMonitor.attach: no model given")
        for name, p in self.model.named_parameters():
            self.grad_norms.setdefault(name, [math.nan] * len(self.steps))
            self.shapes[name] = tuple(p.shape)
        if self.activations:
            for name, module in self.model.named_modules():
                if isinstance(module, self.layer_types):
                    self.activation_norms.setdefault(name, [math.nan] * len(self.steps))
                    self._undos.append(_watch_output(
                        module, lambda out, name=name, module=module: self._remember(name, module, out)))
        return self

    def detach(self):
        """Remove the monitor's hooks."""
        for undo in reversed(self._undos):
            undo()
        self._undos = []

    def _remember(self, name, module, out):
        if module.training and is_grad_enabled():  # a training forward, not validation under no_grad
            data = out._data if isinstance(out, Tensor) else np.asarray(out)
            self._pending[name] = float(np.sqrt(np.mean(np.square(data, dtype=np.float64)))) if data.size else 0.0

    # -------------------------------------------------------------- recording
    def record(self):
        """Record the current gradients (call after backward) and the last training forward's activations."""
        self.steps.append(self._step)
        for name, p in self.model.named_parameters():
            norms = self.grad_norms.setdefault(name, [math.nan] * (len(self.steps) - 1))
            g = None if p.grad is None else p.grad._data
            norms.append(math.nan if g is None else float(np.linalg.norm(np.asarray(g, dtype=np.float64))))
        for name, norms in self.activation_norms.items():
            norms.append(self._pending.get(name, math.nan))
        self._pending = {}

    def latest(self, weights_only=True, last=1):
        """{parameter name: median gradient norm over the last `last` records}, input to output.

        Args:
            weights_only: keep only parameters with 2 or more dimensions (weights, not biases).
        """
        out = OrderedDict()
        for name, norms in self.grad_norms.items():
            if weights_only and len(self.shapes.get(name, ())) < 2:
                continue
            values = np.array(norms[-last:], dtype=float)
            values = values[~np.isnan(values)]
            if len(values):
                out[name] = float(np.median(values))
        return out

    # ------------------------------------------------------------- callbacks
    def set_run(self, model=None, optimizer=None, scheduler=None, train_loader=None, history=None):
        super().set_run(model=model if model is not None else self.model, optimizer=optimizer, scheduler=scheduler,
                        train_loader=train_loader, history=history)

    def on_train_begin(self, logs=None):
        self.attach()

    def on_batch_end(self, batch, logs=None):
        if self._step % self.every == 0:
            self.record()
        else:
            self._pending = {}
        self._step += 1

    def on_train_end(self, logs=None):
        self.detach()

    # ------------------------------------------------------------------ plots
    def plot(self, path, weights_only=True):
        """Gradient norms (and activation RMS) per layer against the step, log scale; saved to `path`."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        panels = 2 if self.activation_norms else 1
        fig = Figure(figsize=(6.0 * panels, 4.0))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, panels, 1)
        for name, norms in self.grad_norms.items():
            if not weights_only or len(self.shapes.get(name, ())) >= 2:
                ax.plot(self.steps, norms, label=name)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title("gradient norm per parameter")
        ax.legend(fontsize=7)
        if self.activation_norms:
            ax2 = fig.add_subplot(1, 2, 2)
            for name, norms in self.activation_norms.items():
                ax2.plot(self.steps, norms, label=name)
            ax2.set_yscale("log")
            ax2.set_xlabel("step")
            ax2.set_title("activation RMS per layer")
            ax2.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        return path
