"""`Optimizer`: the base class of every update rule, with PyTorch's param groups and state (E3, O1).

Backprop and gradient descent are separate steps (inventory E3):
`loss.backward()` only fills `p.grad`; `optimizer.step()` only reads those
gradients and moves `p._data`.  Between the two, a user may clip, inspect or
rescale the gradients.

An optimizer holds

* `param_groups`: a list of dicts, each with `"params"` (a list of tensors)
  and that group's hyperparameters (`"lr"`, `"momentum"`, ...), so layers
  can train with different learning rates;
* `state`: a dict keyed by the parameter tensor itself, holding what the
  rule remembers between steps (momentum buffers, moment estimates, step
  counts).

A subclass writes the rule for one parameter in `_update(p, grad, state,
group)`; the base class walks the groups, skips parameters whose gradient is
None, and runs the updates with gradient recording off.  Updates change
`p._data` in place and keep its dtype (float32 stays float32).

`state_dict()` uses PyTorch's layout: parameters are replaced by their index
in the order they appear across the groups,
`{"state": {0: {"step": 3, "exp_avg": array}, ...}, "param_groups": [{"lr":
..., "params": [0, 1]}, ...]}`, arrays as NumPy arrays (copies) and step
counts as Python numbers.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor


class _RequiredParameter:
    """Marks a hyperparameter that every param group must give (it has no default)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def check_hyperparameter(owner, name, value, ok, expected):
    """Raise ValueError naming the optimizer, the hyperparameter and its bad value unless `ok`."""
    if not ok:
        raise ValueError(f"{owner}: invalid {name}={value!r}, expected {expected}")


def _copy_value(value):
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else copy.deepcopy(value)


class Optimizer:
    """Base class of optimizers, as `torch.optim.Optimizer`.

    Args:
        params: an iterable of Tensors (or of `(name, Tensor)` pairs, such as
            `model.named_parameters()`) forming one group, or of dicts, each a
            param group with key `"params"` and optional per-group
            hyperparameters that override `defaults`.
        defaults: the hyperparameters of groups that do not set them.

    Example:
        >>> import numpy as np, deepnotes as dn
        >>> from deepnotes.optim import SGD
        >>> w = dn.tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = SGD([w], lr=0.5)
        >>> (w * w).sum().backward()          # grad = 2 w
        >>> opt.step()                        # w <- w - 0.5 * 2 w = 0
        >>> w.numpy()
        array([0., 0.])
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, got a single Tensor; "
                "wrap it in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(self._set_message())
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------ param groups
    def add_param_group(self, param_group):
        """Add a group (a dict with `"params"` and optional hyperparameters), e.g. when unfreezing layers."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(self._set_message())
        params = list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named):  # model.named_parameters(): keep the names, as PyTorch does
            if not all(named):
                raise ValueError(f"{name}: give either all parameters with names or none")
            group["param_names"] = [n for n, _ in params]
            params = [p for _, p in params]
        if any(("param_names" in g) != ("param_names" in group) for g in self.param_groups):
            raise ValueError(f"{name}: all param groups must be given with names, or all without")
        group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (one computed from others)")
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required hyperparameter {key!r}")
            group.setdefault(key, default)
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            warnings.warn(f"{name}: a parameter group contains the same parameter more than once", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if seen.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _set_message(self):
        return (f"{type(self).__name__}: parameters must come in an ordered collection (a list), not a set: "
                "a set's order changes between runs and the state_dict indexes parameters by position")

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all optimized parameters: to None (the default), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad_(set_to_none)

    # -------------------------------------------------------------------- step
    def step(self, closure=None):
        """Update every parameter that has a gradient; return the closure's loss, if any.

        Args:
            closure: optional callable that clears the gradients, recomputes the
                loss, calls `backward` and returns the loss; it runs (with
                gradient recording on) before the update.  Line-search methods
                such as L-BFGS call it several times.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p._grad is not None:  # the slot, not the property: this loop runs every step
                        self._update(p, p._grad._data, self.state[p], group)
        return loss

    def _update(self, p, grad, state, group):
        """Apply the rule to one parameter: read `grad`, update `state` and `p._data` in place."""
        raise NotImplementedError(f"{type(self).__name__} must define _update() or override step()")

    # ------------------------------------------------------------- state dict
    def state_dict(self):
        """A snapshot of the optimizer in PyTorch's layout (parameters replaced by their indices)."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _copy_value(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p) and index[id(p)] not in state:  # rules with nothing to remember save nothing
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a snapshot made by `state_dict()` of an optimizer over parameters of the same shapes.

        The hyperparameters of each group come from the snapshot; the
        parameters stay this optimizer's own.  Floating-point state arrays are
        cast to their parameter's dtype.

        Raises:
            ValueError: when the number of groups, of parameters in a group, or
                the shape of a state array does not match.
        """
        name = f"{type(self).__name__}.load_state_dict"
        missing = {"state", "param_groups"} - set(state_dict)
        if missing:
            raise KeyError(f"{name}: the state dict lacks {sorted(missing)}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved_groups)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}: parameter group {i} has {len(saved['params'])} parameters in the state dict, "
                    f"{len(group['params'])} in this optimizer"
                )
        by_index = {}
        for saved, group in zip(saved_groups, self.param_groups):
            by_index.update(zip(saved["params"], group["params"]))
        new_state = defaultdict(dict)
        for key, entry in state_dict["state"].items():
            if key not in by_index:
                raise ValueError(f"{name}: the state dict has state for parameter {key!r}, which no group lists")
            p = by_index[key]
            self._check_loaded_state(name, key, p, entry)
            new_state[p] = {k: self._cast_state(p, k, v) for k, v in entry.items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            restored = {k: _copy_value(v) for k, v in saved.items() if k != "params"}
            restored["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                restored["param_names"] = group["param_names"]
            new_groups.append(restored)
        self.state = new_state
        self.param_groups = new_groups

    def _check_loaded_state(self, where, index, p, entry):
        """Array-valued state must have the parameter's shape (override for rules whose state does not)."""
        for key, value in entry.items():
            if isinstance(value, np.ndarray) and value.shape != p._data.shape:
                raise ValueError(
                    f"{where}: state {key!r} of parameter {index} has shape {value.shape}, "
                    f"the parameter has shape {p._data.shape}"
                )

    @staticmethod
    def _cast_state(p, key, value):
        if isinstance(value, np.ndarray):
            dtype = p._data.dtype if value.dtype.kind == "f" and key != "step" else value.dtype
            return np.array(value, dtype=dtype, copy=True)
        return copy.deepcopy(value)

    # -------------------------------------------------------------------- repr
    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        lines.append(")")
        return "\n".join(lines)
