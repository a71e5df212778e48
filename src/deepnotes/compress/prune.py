"""Pruning with `torch.nn.utils.prune`'s model: a mask over a parameter, applied by a forward pre-hook.

Pruning ``module.weight`` replaces the parameter by two tensors:

* ``weight_orig`` — a Parameter holding the dense values (the optimizer keeps training it);
* ``weight_mask`` — a buffer of 0s and 1s (saved by ``state_dict``, so a pruned model round-trips);

and a forward pre-hook sets the plain attribute ``weight = weight_orig * weight_mask`` before every
forward. The product is a graph op, so the gradient reaching ``weight_orig`` is zero where the mask
is zero: pruned weights never take part. An optimizer's momentum or weight decay may still move
``weight_orig`` there (as in PyTorch); the mask multiplies it away, and `remove` keeps the zeros.

Pruning again acts on the survivors only (PyTorch's ``PruningContainer``): ``amount`` is a
fraction of the entries (or channels) still alive, or a count of them, and the new mask is the
old one with more zeros. The survivors are ranked by their current values (``<name>_orig``);
PyTorch ranks the attribute ``module.<name>`` as the last forward (or pruning call) left it, so
after an optimizer step with no forward in between it ranks the values before that step, and
the two can pick different weights. ``remove`` makes it permanent: ``weight`` becomes a Parameter again,
holding ``weight_orig * weight_mask``, and the hook is gone.

Which entries go: ``l1_unstructured`` the ``round(amount * n)`` smallest |w| (Han et al. 2015,
"Learning both Weights and Connections for Efficient Neural Networks"); ``ln_structured`` whole
slices along ``dim`` with the smallest L_n norm (Li et al. 2017, "Pruning Filters for Efficient
ConvNets"); ``global_unstructured`` the smallest |w| over several tensors pooled, so layers
lose different fractions. Ties among equal magnitudes are broken by position here (a stable sort);
PyTorch's ``topk`` may pick another member of a tie, never a different count.

Prune-then-fine-tune (`iterative_pruning`, Han et al. 2015) prunes to a target, retrains with the
mask fixed, and repeats with higher targets. Gradual pruning (Zhu & Gupta 2017, "To prune, or not
to prune") prunes while training, raising the sparsity along
``s_t = s_f + (s_i - s_f) (1 - (t - t_0) / (n dt))^3``: fast at first, when many weights are
redundant, slowly near the end.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn.module import Module, Parameter
from ..random import default_generator

__all__ = ["l1_unstructured", "random_unstructured", "ln_structured", "global_unstructured", "identity",
           "remove", "is_pruned", "cubic_sparsity", "GradualPruner", "prune_to_sparsity", "iterative_pruning",
           "sparsity_report", "format_sparsity_report"]


class PruningHook:
    """The forward pre-hook of one pruned tensor: ``module.<name> = <name>_orig * <name>_mask``."""

    def __init__(self, name):
        self.name = name
        self.handle = None

    def __call__(self, module, inputs):
        apply_mask(module, self.name)


def apply_mask(module, name):
    """Set the plain attribute ``module.<name>`` to ``<name>_orig * <name>_mask`` (a graph op)."""
    object.__setattr__(module, name, getattr(module, name + "_orig") * getattr(module, name + "_mask"))


def _hook_of(module, name):
    for entry in module._forward_pre_hooks.values():
        hook = entry[0] if isinstance(entry, tuple) else entry
        if isinstance(hook, PruningHook) and hook.name == name:
            return hook
    return None


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any module below it carries a pruning hook (as PyTorch's ``prune.is_pruned``)."""
    return any(isinstance(entry[0] if isinstance(entry, tuple) else entry, PruningHook)
               for m in module.modules() for entry in m._forward_pre_hooks.values())


def _n_to_prune(fn, amount, size):
    """How many of ``size`` entries ``amount`` means: an int is a count, a float a fraction (rounded half to even)."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"{fn}: amount must be an int (a count) or a float in [0, 1] (a fraction), got {amount!r}")
    if isinstance(amount, numbers.Integral):
        if amount < 0 or amount > size:
            raise ValueError(f"{fn}: amount={amount} must be between 0 and the number of entries left ({size})")
        return int(amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"{fn}: a fractional amount must be in [0, 1], got {amount}")
    return int(round(amount * size))


def _current(module, name, fn):
    """(dense values, current mask) of ``module.<name>``, pruned or not."""
    if not isinstance(module, Module):
        raise TypeError(f"{fn}: expected a deepnotes Module, got {type(module).__name__}")
    if _hook_of(module, name) is not None:
        return getattr(module, name + "_orig")._data, getattr(module, name + "_mask")._data
    param = module._parameters.get(name)
    if param is None:
        raise ValueError(f"{fn}: {type(module).__name__} has no parameter {name!r} to prune "
                         f"(parameters: {sorted(k for k, v in module._parameters.items() if v is not None)})")
    return param._data, np.ones_like(param._data)


def _install(module, name, mask):
    """Register ``<name>_orig``/``<name>_mask`` and the hook on first pruning, else update the mask."""
    if _hook_of(module, name) is None:
        param = module._parameters[name]
        del module._parameters[name]
        module.register_parameter(name + "_orig", param)  # the same Parameter object: optimizers keep it
        module.register_buffer(name + "_mask", Tensor(mask.astype(param._data.dtype)))
        hook = PruningHook(name)
        hook.handle = module.register_forward_pre_hook(hook)
    else:
        getattr(module, name + "_mask")._data = mask.astype(getattr(module, name + "_orig")._data.dtype)
    apply_mask(module, name)
    return module


def _smallest(scores, k):
    """Indices of the k smallest entries of a 1-d array (ties broken by position)."""
    return np.argsort(scores, kind="stable")[:k]


def _scores(module, name, importance_scores, values, fn):
    scores = values if importance_scores is None else np.asarray(
        importance_scores._data if isinstance(importance_scores, Tensor) else importance_scores)
    if scores.shape != values.shape:
        raise ValueError(f"{fn}: importance_scores must have the parameter's shape {values.shape}, got {scores.shape}")
    return scores


def _unstructured(module, name, amount, importance_scores, fn, score_of):
    values, mask = _current(module, name, fn)
    scores = _scores(module, name, importance_scores, values, fn)
    alive = np.flatnonzero(mask.ravel() == 1)
    k = _n_to_prune(fn, amount, alive.size)
    new = mask.copy().ravel()
    new[alive[_smallest(score_of(scores.ravel()[alive]), k)]] = 0
    return _install(module, name, new.reshape(mask.shape))


def identity(module: Module, name: str) -> Module:
    """Reparametrize ``module.<name>`` with an all-ones mask (prunes nothing; as PyTorch's)."""
    return _unstructured(module, name, 0, None, "identity", np.abs)


def l1_unstructured(module: Module, name: str, amount, importance_scores=None) -> Module:
    """Zero the ``amount`` entries of ``module.<name>`` with the smallest |w| (among those still alive).

    Args:
        amount: a float in [0, 1] (fraction of the surviving entries, ``round(amount * n)``) or an int (a count).
        importance_scores: optional array of the parameter's shape; |score| is ranked instead of |w|.

    >>> import deepnotes.nn as nn
    >>> layer = l1_unstructured(nn.Linear(4, 3), "weight", amount=0.5)
    >>> int(layer.weight_mask.numpy().sum()), sorted(k for k, _ in layer.named_parameters())
    (6, ['bias', 'weight_orig'])
    """
    return _unstructured(module, name, amount, importance_scores, "l1_unstructured", np.abs)


def random_unstructured(module: Module, name: str, amount, generator=None) -> Module:
    """Zero ``amount`` surviving entries of ``module.<name>`` chosen uniformly at random.

    ``generator``: a ``np.random.Generator`` (default: deepnotes' global one, seeded by ``dn.manual_seed``).
    """
    values, _ = _current(module, name, "random_unstructured")
    rng = generator if generator is not None else default_generator()
    noise = rng.random(values.shape)
    return _unstructured(module, name, amount, noise, "random_unstructured", lambda s: s)


def _norms(values, n, dim):
    """The L_n norm of each slice ``values.take(i, dim)`` (PyTorch's ``torch.norm(t, p=n, dim=other dims)``)."""
    other = tuple(d for d in range(values.ndim) if d != dim)
    a = np.abs(values.astype(np.float64))
    if n == "fro" or n == 2:
        return np.sqrt((a * a).sum(axis=other))
    if n == math.inf:
        return a.max(axis=other)
    if n == -math.inf:
        return a.min(axis=other)
    if n == 0:
        return (a != 0).sum(axis=other).astype(np.float64)
    return (a ** n).sum(axis=other) ** (1.0 / n)


def ln_structured(module: Module, name: str, amount, n, dim: int, importance_scores=None) -> Module:
    """Zero whole slices of ``module.<name>`` along ``dim``: those with the smallest L_n norm.

    ``dim=0`` on a Conv2d weight (out, in, kH, kW) removes output channels (filters); on a Linear
    weight (out, in) it removes output units (rows). ``amount`` counts the slices still alive.
    ``n``: a positive number, ``inf``, ``-inf`` or ``'fro'``.
    """
    fn = "ln_structured"
    values, mask = _current(module, name, fn)
    scores = _scores(module, name, importance_scores, values, fn)
    if not isinstance(n, (numbers.Real, str)) or (isinstance(n, str) and n != "fro") or (
            isinstance(n, numbers.Real) and not (n > 0 or n == -math.inf)):
        raise ValueError(f"{fn}: n must be a positive number, inf, -inf or 'fro', got {n!r}")
    if not isinstance(dim, numbers.Integral) or not -values.ndim <= dim < values.ndim:
        raise ValueError(f"{fn}: dim must be in [{-values.ndim}, {values.ndim - 1}] for a {values.ndim}-d "
                         f"parameter, got {dim!r}")
    dim = dim % values.ndim
    other = tuple(d for d in range(values.ndim) if d != dim)
    alive = np.flatnonzero(mask.sum(axis=other) != 0) if other else np.flatnonzero(mask != 0)
    k = _n_to_prune(fn, amount, alive.size)
    # the norms of the live slices, as PyTorch computes them on t[slice] (the dense values there)
    norms = _norms(np.take(scores, alive, axis=dim), n, dim)
    # PyTorch keeps the largest norms (topk, largest=True): prune the complement, ties by position
    order = np.argsort(-norms, kind="stable")
    dropped = alive[order[alive.size - k:]] if k else np.array([], dtype=np.int64)
    new = mask.copy()
    index = [slice(None)] * values.ndim
    index[dim] = dropped
    new[tuple(index)] = 0
    return _install(module, name, new)


def global_unstructured(parameters, pruning_method="l1_unstructured", importance_scores=None, amount=None):
    """Prune the ``amount`` smallest |w| over several tensors pooled: one threshold for all.

    Args:
        parameters: iterable of (module, name) pairs.
        pruning_method: ``"l1_unstructured"`` or the function `l1_unstructured` (the only global
            method; PyTorch passes the class ``prune.L1Unstructured``).
        importance_scores: optional dict (module, name) -> array; |score| is ranked instead of |w| (as PyTorch).
        amount: fraction of all surviving entries together, or a count.
    """
    fn = "global_unstructured"
    if pruning_method not in ("l1_unstructured", l1_unstructured):
        raise ValueError(f"{fn}: pruning_method must be 'l1_unstructured', got {pruning_method!r}")
    if amount is None:
        raise TypeError(f"{fn}: amount is required (a fraction in [0, 1] or a count)")
    pairs = list(parameters)
    if not pairs:
        raise ValueError(f"{fn}: parameters is empty; expected (module, name) pairs")
    values, masks, scores = [], [], []
    for module, name in pairs:
        v, m = _current(module, name, fn)
        given = None if importance_scores is None else importance_scores.get((module, name))
        s = np.abs(v * m) if given is None else _scores(module, name, given, v, fn)  # PyTorch ranks the pruned weight
        values.append(v)
        masks.append(m.ravel())
        scores.append(np.abs(s).ravel())
    mask, score = np.concatenate(masks), np.concatenate(scores)
    alive = np.flatnonzero(mask == 1)
    k = _n_to_prune(fn, amount, alive.size)
    mask = mask.copy()
    mask[alive[_smallest(score[alive], k)]] = 0
    start = 0
    for (module, name), v in zip(pairs, values):
        _install(module, name, mask[start:start + v.size].reshape(v.shape))
        start += v.size
    return pairs


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent: a Parameter ``<name>`` = orig * mask, no hook."""
    hook = _hook_of(module, name)
    if hook is None:
        raise ValueError(f"remove: parameter {name!r} of {type(module).__name__} is not pruned")
    with no_grad():
        dense = getattr(module, name + "_orig")._data * getattr(module, name + "_mask")._data
    hook.handle.remove()
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_mask"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(dense.astype(dense.dtype)))
    return module


# ----------------------------------------------------------------------------------- gradual pruning
def cubic_sparsity(step: int, final_sparsity: float, begin_step: int, end_step: int,
                   initial_sparsity: float = 0.0, frequency: int = 1) -> float:
    """Zhu & Gupta's schedule: ``s_t = s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3``.

    Constant ``s_i`` before ``begin_step``, ``s_f`` after ``end_step``; ``t`` is rounded down to a
    multiple of ``frequency`` steps after ``begin_step`` (masks change every ``frequency`` steps).
    """
    if not 0.0 <= initial_sparsity <= final_sparsity < 1.0:
        raise ValueError(f"cubic_sparsity: need 0 <= initial_sparsity <= final_sparsity < 1, got "
                         f"{initial_sparsity} and {final_sparsity}")
    if end_step <= begin_step or frequency < 1:
        raise ValueError(f"cubic_sparsity: need end_step > begin_step and frequency >= 1, got "
                         f"begin_step={begin_step}, end_step={end_step}, frequency={frequency}")
    if step <= begin_step:
        return float(initial_sparsity)
    if step >= end_step:
        return float(final_sparsity)
    t = begin_step + (step - begin_step) // frequency * frequency
    progress = (t - begin_step) / (end_step - begin_step)
    return float(final_sparsity + (initial_sparsity - final_sparsity) * (1.0 - progress) ** 3)


class GradualPruner:
    """Raise the global sparsity of ``parameters`` along `cubic_sparsity`, one ``step()`` per training step.

    Each ``step()`` prunes (globally, by magnitude) just enough surviving weights to reach the
    schedule's sparsity; training in between lets the network recover (Zhu & Gupta 2017).
    """

    def __init__(self, parameters, final_sparsity, begin_step, end_step, initial_sparsity=0.0, frequency=1):
        self.parameters = list(parameters)
        self.schedule = dict(final_sparsity=final_sparsity, begin_step=begin_step, end_step=end_step,
                             initial_sparsity=initial_sparsity, frequency=frequency)
        cubic_sparsity(begin_step, **self.schedule)  # validates the schedule
        self.step_count = 0

    def target(self, step=None) -> float:
        return cubic_sparsity(self.step_count if step is None else step, **self.schedule)

    def step(self) -> float:
        """Advance one step and prune to the schedule's sparsity; returns the sparsity reached."""
        self.step_count += 1
        return prune_to_sparsity(self.parameters, self.target(), "GradualPruner.step")


def prune_to_sparsity(parameters, sparsity: float, fn: str = "prune_to_sparsity") -> float:
    """Globally prune the smallest surviving |w| of ``parameters`` until ``round(sparsity * total)`` entries
    are masked (nothing when that many already are); returns the sparsity reached (masked / total)."""
    pairs = list(parameters)
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"{fn}: sparsity must be in [0, 1], got {sparsity}")
    total = sum(_current(m, n, fn)[0].size for m, n in pairs)
    pruned = sum(int((_current(m, n, fn)[1] == 0).sum()) for m, n in pairs)
    more = int(round(sparsity * total)) - pruned
    if more > 0:
        global_unstructured(pairs, amount=more)
    return (pruned + max(more, 0)) / total


def iterative_pruning(parameters, sparsities, fine_tune) -> list:
    """Han et al. (2015)'s prune-then-fine-tune: for each target in ``sparsities`` (increasing, in [0, 1]),
    globally prune ``parameters`` to it by magnitude, then call ``fine_tune()``, which retrains with the
    masks fixed (the pruned weights get no gradient). One target is one-shot pruning plus retraining.

    Returns ``[(sparsity reached, fine_tune's return value), ...]``, one pair per round.
    """
    pairs, targets = list(parameters), [float(s) for s in sparsities]
    if not targets or any(b < a for a, b in zip(targets, targets[1:])):
        raise ValueError(f"iterative_pruning: sparsities must be a non-empty increasing sequence, got {sparsities!r}")
    return [(prune_to_sparsity(pairs, s, "iterative_pruning"), fine_tune()) for s in targets]


# ----------------------------------------------------------------------------------- report
def sparsity_report(model: Module) -> list[dict]:
    """One row per weight tensor (dense or pruned): name, shape, entries, zeros, sparsity, empty_outputs;
    then a total row.

    Zeros are counted in the effective tensor (``orig * mask`` for a pruned one). ``empty_outputs``
    counts the slices along dim 0 (output units or channels) that are entirely zero: such a unit
    outputs its bias alone, whatever the input. Global pruning of a small network can empty whole
    units while every layer keeps some weights (for the last layer: a class whose logit is a constant).
    """
    rows = []
    for mod_name, module in model.named_modules():
        names = [k for k, v in module._parameters.items() if v is not None and not k.endswith("_orig")]
        names += [k[:-len("_orig")] for k in module._parameters if k.endswith("_orig") and _hook_of(module, k[:-5])]
        for name in names:
            values, mask = _current(module, name, "sparsity_report")
            effective = values * mask
            empty = int(np.all(effective.reshape(len(effective), -1) == 0, axis=1).sum()) if values.ndim > 1 else 0
            rows.append({"name": f"{mod_name}.{name}" if mod_name else name, "shape": tuple(values.shape),
                         "numel": int(values.size), "zeros": int((effective == 0).sum()),
                         "sparsity": float((effective == 0).mean()) if values.size else 0.0, "empty_outputs": empty})
    total, zeros = sum(r["numel"] for r in rows), sum(r["zeros"] for r in rows)
    rows.append({"name": "total", "shape": (), "numel": total, "zeros": zeros,
                 "sparsity": zeros / total if total else 0.0, "empty_outputs": sum(r["empty_outputs"] for r in rows)})
    return rows


def format_sparsity_report(model: Module) -> str:
    """`sparsity_report` as an aligned text table."""
    rows = sparsity_report(model)
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'tensor':<{width}}  {'shape':>16}  {'entries':>9}  {'zeros':>9}  sparsity  empty outputs"]
    for r in rows:
        shape = "x".join(map(str, r["shape"])) if r["shape"] else ""
        lines.append(f"{r['name']:<{width}}  {shape:>16}  {r['numel']:>9}  {r['zeros']:>9}  {r['sparsity']:8.2%}  "
                     f"{r['empty_outputs']:>13}")
    return "\n".join(lines)
