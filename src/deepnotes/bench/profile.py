"""Where a training step's time goes: ops, optimizer, framework overhead; and the overhead
against a hand-written NumPy step.

    deepnotes bench --profile --workloads W1        # the table below for each workload
    deepnotes bench --profile --workloads W1 --json

`profile_step` runs K training steps of a workload (SGD with momentum, as `deepnotes bench`)
with every `Function`'s `forward` and `backward` timed, and splits the step into

* each op's forward and backward (the kernels: NumPy and BLAS work, inclusive),
* the optimizer's `step` and `zero_grad`,
* **framework overhead**: the rest of the step. Module calls, the autograd bookkeeping
  (building `Tensor`s and nodes, the backward walk, gradient accumulation), the loss wrapper.

`numpy_overhead` compares the deepnotes W1 step with `numpy_mlp_step`, the same MLP
(784-512-512-10, ReLU, mean cross-entropy, SGD momentum 0.9) written by hand on NumPy with
the same GEMMs: the two alternate in one process, and the figure is the median of the
per-pair ratios minus 1 (the machine's drifts cancel within each pair). The timers add a
microsecond or so per op; the overhead comparison runs without them. `overhead_split` then
rebuilds the step from its fused kernels up, one framework layer at a time (module call, loss
function, backward walk, optimizer), to say what each layer adds.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import defaultdict

import numpy as np


def _function_classes():
    from ..autograd.function import Function

    seen, todo = [], [Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


class _OpTimers:
    """Times every Function subclass's own `forward` / `backward` while active (a context manager)."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self._depth = [0]
        self._saved = []

    def _wrap(self, cls, which):
        original = cls.__dict__[which].__func__
        key = (cls.__name__, which)
        seconds, calls, depth = self.seconds, self.calls, self._depth

        def timed(*args, **kwargs):
            if depth[0]:  # an op run inside another's kernel (a user's Function on Tensors): counted in that one
                return original(*args, **kwargs)
            depth[0] += 1
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[key] += time.process_time() - start
                calls[key] += 1
                depth[0] -= 1

        self._saved.append((cls, which, cls.__dict__[which]))
        setattr(cls, which, staticmethod(timed))

    def __enter__(self):
        for cls in _function_classes():
            for which in ("forward", "backward"):
                if isinstance(cls.__dict__.get(which), staticmethod):
                    self._wrap(cls, which)
        return self

    def __exit__(self, *exc):
        for cls, which, original in reversed(self._saved):
            setattr(cls, which, original)
        self._saved.clear()


def _deepnotes_step(name, scale=1.0):
    """(train_step, timing, model, x, y) for workload `name` in deepnotes, as `deepnotes bench` runs it."""
    import deepnotes as dn
    import deepnotes.nn.functional as F

    from .workloads import build

    dn.manual_seed(0)
    model, x, y, _ = build("deepnotes", name, scale)
    opt = dn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xt, yt = dn.from_numpy(x), dn.from_numpy(y)
    model.train()
    timing = {"optimizer": 0.0}

    def step():
        start = time.process_time()
        opt.zero_grad()
        timing["optimizer"] += time.process_time() - start
        F.cross_entropy(model(xt), yt).backward()
        start = time.process_time()
        opt.step()
        timing["optimizer"] += time.process_time() - start

    return step, timing, model, x, y


def profile_step(name, steps=20, scale=1.0):
    """{"step_ms", "ops": [(op, phase, ms per step, calls per step)], "optimizer_ms", "overhead_ms"}."""
    step, timing = _deepnotes_step(name, scale)[:2]
    for _ in range(3):
        step()
    timing["optimizer"] = 0.0
    with _OpTimers() as timers:
        start = time.process_time()
        for _ in range(steps):
            step()
        total = time.process_time() - start
    ops = sorted(((op, phase, s / steps * 1e3, timers.calls[(op, phase)] / steps)
                  for (op, phase), s in timers.seconds.items()), key=lambda r: -r[2])
    kernels = sum(r[2] for r in ops)
    optimizer = timing["optimizer"] / steps * 1e3
    step_ms = total / steps * 1e3
    return {"workload": name, "step_ms": step_ms, "ops": ops, "optimizer_ms": optimizer,
            "overhead_ms": step_ms - kernels - optimizer}


def format_profile(report, top=12):
    step = report["step_ms"]
    lines = [f"{report['workload']} training step: {step:.2f} ms (timers on)",
             f"  {'op':<28} {'phase':<9} {'ms/step':>8} {'share':>6} {'calls':>6}"]
    for op, phase, ms, calls in report["ops"][:top]:
        lines.append(f"  {op:<28} {phase:<9} {ms:>8.3f} {ms / step:>6.1%} {calls:>6.0f}")
    rest = sum(r[2] for r in report["ops"][top:])
    lines.append(f"  {'(other ops)':<28} {'':<9} {rest:>8.3f} {rest / step:>6.1%}")
    lines.append(f"  {'optimizer step + zero_grad':<38} {report['optimizer_ms']:>8.3f} {report['optimizer_ms'] / step:>6.1%}")
    lines.append(f"  {'framework overhead (the rest)':<38} {report['overhead_ms']:>8.3f} "
                 f"{report['overhead_ms'] / step:>6.1%}")
    return "\n".join(lines)


def numpy_mlp_step(params, x, y, lr=0.01, momentum=0.9):
    """A hand-written W1 training step on NumPy: forward, backward, SGD with momentum, updating
    `params` = [W1, b1, W2, b2, W3, b3] (W: (out, in)) in place. Returns step().

    The MLP x -> ReLU(x W1^T + b1) -> ReLU(. W2^T + b2) -> . W3^T + b3, mean cross-entropy on
    labels y: the same GEMMs as deepnotes' Linear and its two gradients, nothing else."""
    velocity = [np.zeros_like(p) for p in params]
    batch = len(x)
    rows = np.arange(batch)

    def step():
        acts = [x]
        for i in range(3):
            z = acts[-1] @ params[2 * i].T
            z += params[2 * i + 1]
            if i < 2:
                np.maximum(z, 0, out=z)
            acts.append(z)
        z = acts[-1]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        g = e / e.sum(axis=1, keepdims=True)
        g[rows, y] -= 1
        g /= batch
        grads = [None] * 6
        for i in (2, 1, 0):
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = g @ params[2 * i]
                g *= acts[i] > 0
        for p, v, d in zip(params, velocity, grads):
            v *= momentum
            v += d
            p -= lr * v

    return step


def numpy_overhead(pairs=60, steps=3):
    """deepnotes' W1 step time over the hand-written NumPy step's, minus 1: median of paired ratios.
    Returns {"overhead", "pairs", "deepnotes_ms", "numpy_ms", "iqr"}."""
    dn_step, _, model, x, y = _deepnotes_step("W1")
    np_step = numpy_mlp_step([p.detach().numpy().copy() for p in model.parameters()], x, y)
    for _ in range(3):
        dn_step()
        np_step()
    ratios, dn_ms, np_ms = [], [], []
    for i in range(pairs):
        times = {}
        for which in (("dn", "np") if i % 2 == 0 else ("np", "dn")):
            fn = dn_step if which == "dn" else np_step
            start = time.process_time()
            for _ in range(steps):
                fn()
            times[which] = (time.process_time() - start) / steps
        ratios.append(times["dn"] / times["np"])
        dn_ms.append(times["dn"] * 1e3)
        np_ms.append(times["np"] * 1e3)
    q = statistics.quantiles(ratios, n=4)
    return {"overhead": statistics.median(ratios) - 1, "iqr": [q[0] - 1, q[2] - 1], "pairs": pairs,
            "deepnotes_ms": statistics.median(dn_ms), "numpy_ms": statistics.median(np_ms)}


LAYERS = {"kernels": (0, 0, 0, 0), "+ module call": (1, 0, 0, 0), "+ loss function": (0, 1, 0, 0),
          "+ backward walk": (0, 0, 1, 0), "+ optimizer": (0, 0, 0, 1)}


def overhead_split(rounds=100, steps=3, scale=1.0, seed=0):
    """Where the W1 step's overhead over the hand-written NumPy step goes, layer by layer.

    The same training step is rebuilt from its fused kernels up. "kernels": `LinearChain` and
    `MeanCrossEntropy` through `Function.apply`, their backwards called by hand, the SGD update
    written out. Each "+ layer" variant puts one layer of the framework back: the model called as
    a module (Module.__call__, the Sequential fast path and its checks), `F.cross_entropy` (its
    checks), `loss.backward()` (the engine's walk and leaf accumulation), `opt.step()` /
    `zero_grad()`; "all" is deepnotes' own step. Each round runs every variant and the NumPy step
    in a shuffled (seeded) order, `steps` steps each, in CPU time. Returns {variant: median over
    rounds of (its time / the NumPy step's) - 1}, or None when the fast paths are off (the
    kernels variant is the fused step)."""
    from .. import fast

    if not fast.fast_paths_enabled():
        return None
    steps_by_name = split_steps(scale)[0]
    for fn in steps_by_name.values():
        fn()
    order, ratios = list(steps_by_name), {name: [] for name in steps_by_name if name != "numpy"}
    shuffle = random.Random(seed).shuffle
    for _ in range(rounds):
        shuffle(order)
        seconds = {}
        for name in order:
            start = time.process_time()
            for _ in range(steps):
                steps_by_name[name]()
            seconds[name] = time.process_time() - start
        for name in ratios:
            ratios[name].append(seconds[name] / seconds["numpy"])
    return {name: statistics.median(r) - 1 for name, r in ratios.items()}


def split_steps(scale=1.0):
    """({variant: step()} for `overhead_split`, the model's parameters, the NumPy step's arrays):
    the variants train the model's parameters, the "numpy" step its own copies of them."""
    from ..autograd.tensor import Tensor
    from ..fast.cross_entropy import MeanCrossEntropy
    from ..fast.sequential import LinearChain
    from ..nn import functional as F
    from ..optim import SGD

    own_step, _, model, x, y = _deepnotes_step("W1", scale)
    params = list(model.parameters())
    opt = SGD(params, lr=0.01, momentum=0.9)
    xt, yt = Tensor(x), Tensor(y)
    velocity = [np.zeros_like(p._data) for p in params]
    seed_grad = np.ones((), dtype=x.dtype)

    def variant(module, loss_fn, walk, optimizer):
        def step():
            if optimizer:
                opt.zero_grad()
            else:
                for p in params:
                    p._grad = None
            out = model(xt) if module else LinearChain.apply(xt, *params, has_bias=(True,) * 3)
            loss = F.cross_entropy(out, yt) if loss_fn else MeanCrossEntropy.apply(out, labels=y)
            if walk:
                loss.backward()
            else:  # the two nodes' backwards by hand, as the engine would call them
                dz = loss.grad_fn.backward(loss.grad_fn, seed_grad)
                grads = out.grad_fn.backward(out.grad_fn, dz)[1:]
                loss.grad_fn.release(), out.grad_fn.release()
                for p, g in zip(params, grads):
                    p._grad = Tensor._from_op(g, None)
            if optimizer:
                opt.step()
            else:
                for p, v in zip(params, velocity):
                    v *= 0.9
                    v += p._grad._data
                    p._data -= 0.01 * v
        return step

    steps_by_name = {name: variant(*flags) for name, flags in LAYERS.items()}
    steps_by_name["all"] = own_step
    copies = [p.detach().numpy().copy() for p in params]
    steps_by_name["numpy"] = numpy_mlp_step(copies, x, y)
    return steps_by_name, params, copies


def format_split(split, rounds):
    """One line per variant; the layers also as their increment over the kernels alone."""
    base = split["kernels"]
    lines = [f"W1 overhead by layer (median of {rounds} shuffled rounds against the NumPy step, CPU time):"]
    for name, value in split.items():
        extra = f"  ({value - base:+.1%} over the kernels)" if name.startswith("+") else ""
        lines.append(f"  {name:<18} {value:+.1%}{extra}")
    return "\n".join(lines)


def run(names, quick=False, as_json=False, out=sys.stdout):
    """`deepnotes bench --profile`: the split of each workload's step, then (W1, not quick) the
    overhead against the hand-written NumPy step; ``as_json``: one JSON line at the end."""
    reports = [profile_step(name, steps=5 if quick else 20, scale=0.25 if quick else 1.0) for name in names]
    print("\n\n".join(format_profile(r) for r in reports), file=out)
    overhead = None
    if not quick and "W1" in names:
        overhead = numpy_overhead()
        print(f"\nW1 framework overhead against a hand-written NumPy step (CPU time, median of {overhead['pairs']} "
              f"paired ratios): {overhead['overhead']:+.1%} (IQR {overhead['iqr'][0]:+.1%} to {overhead['iqr'][1]:+.1%}; "
              f"deepnotes {overhead['deepnotes_ms']:.2f} ms, NumPy {overhead['numpy_ms']:.2f} ms per step)", file=out)
        split = overhead_split(rounds=200)
        if split is not None:
            print("\n" + format_split(split, 200), file=out)
            overhead["by_layer"] = split
    if as_json:
        print(json.dumps({"profiles": reports, "numpy_overhead": overhead}), file=out)
    return reports, overhead
