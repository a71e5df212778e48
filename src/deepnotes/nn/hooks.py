"""Module hooks, as PyTorch's: functions a Module calls around its forward and backward.

* forward pre-hook  ``hook(module, args) -> None | new args``
  (with ``with_kwargs=True``: ``hook(module, args, kwargs) -> None | (args, kwargs)``);
* forward hook      ``hook(module, args, output) -> None | new output``
  (with ``with_kwargs=True``: ``hook(module, args, kwargs, output)``);
* full backward hook ``hook(module, grad_input, grad_output) -> None | new grad_input``,
  called once the gradients w.r.t. the module's tensor inputs are known (``grad_input`` holds
  ``None`` for an input that does not require grad; when none does, the hook runs as soon as
  ``grad_output`` is known).

Each ``register_*`` returns a `RemovableHandle`; hooks run in registration order (``prepend=True``
puts one first). A forward hook sees the output *after* the forward pre-hooks changed the input.
The backward hook is built from two identity nodes put around the forward: one on each tensor
output records ``grad_output``, one on each tensor input receives ``grad_input`` and calls the hook.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor

_next_id = itertools.count()


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook (also as a
    context manager: the hook is removed on exit)."""

    def __init__(self, store: OrderedDict):
        self.id = next(_next_id)
        self._store = store

    def remove(self):
        self._store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _as_grad_tensor(g):
    return g if g is None or isinstance(g, Tensor) else Tensor._from_op(g, None)


def add_hook(store: OrderedDict, hook, prepend: bool, entry=None) -> RemovableHandle:
    """Register ``hook`` in ``store`` (as ``entry`` when the store keeps more than the function)."""
    if not callable(hook):
        raise TypeError(f"register hook: expected a callable, got {type(hook).__name__}")
    handle = RemovableHandle(store)
    store[handle.id] = hook if entry is None else entry
    if prepend:
        store.move_to_end(handle.id, last=False)
    return handle


class _BackwardState:
    """What one forward call's backward hooks share: the module, its hooks, the gradients so far."""

    def __init__(self, module, hooks, n_inputs, n_outputs):
        self.module = module
        self.hooks = hooks
        self.grad_input = [None] * n_inputs
        self.grad_output = [None] * n_outputs
        self.pending = n_inputs  # input nodes that have not received their gradient yet
        self.called = False

    def call_hooks(self):
        self.called = True
        # the hooks see Tensors, as PyTorch's do; the engine gets back what it gave (arrays stay arrays)
        arrays = [g is not None and not isinstance(g, Tensor) for g in self.grad_input]
        grad_input = tuple(_as_grad_tensor(g) for g in self.grad_input)
        grad_output = tuple(_as_grad_tensor(g) for g in self.grad_output)
        for hook in self.hooks:
            result = hook(self.module, grad_input, grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grad_input):
                raise ValueError(f"{type(self.module).__name__} backward hook returned {len(result)} "
                                 f"gradients, expected {len(grad_input)} (one per tensor input)")
            grad_input = result
        return tuple(g._data if is_array and isinstance(g, Tensor) else g for g, is_array in zip(grad_input, arrays))


class _GradTap(Function):
    """Identity on one tensor of a hooked forward call; backward sees the tensor's gradient."""

    @staticmethod
    def forward(ctx, a, state=None, index=0):
        ctx.state, ctx.index = state, index
        return a


class _OutputGrad(_GradTap):
    """On one output tensor: its backward records that output's gradient."""

    @staticmethod
    def backward(ctx, grad):
        state = ctx.state
        state.grad_output[ctx.index] = grad
        if state.pending == 0 and not state.called:  # no input requires grad: call the hooks now
            state.call_hooks()
        return grad



class _InputGrad(_GradTap):
    """On one input tensor: the last one to receive its gradient calls the hooks."""

    @staticmethod
    def backward(ctx, grad):
        state = ctx.state
        state.grad_input[ctx.index] = grad
        state.pending -= 1
        if state.pending > 0:
            return grad
        replaced = state.call_hooks()
        for i, (new, old) in enumerate(zip(replaced, state.grad_input)):
            if i != ctx.index and new is not old:  # that input's gradient has already gone on
                raise NotImplementedError(
                    f"{type(state.module).__name__} backward hook: with several tensor inputs only the "
                    "gradient of the input reached last can be replaced")
        return replaced[ctx.index]



def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its hooks (`Module.__call__` comes here only when it has some)."""
    for hook, with_kwargs in list(module._forward_pre_hooks.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise TypeError(f"{type(module).__name__} forward pre-hook with kwargs must return "
                                    f"None or (args, kwargs), got {type(result).__name__}")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)

    state = None
    backward_hooks = list(module._backward_hooks.values())
    if backward_hooks and is_grad_enabled():
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        needs = [i for i in positions if args[i].requires_grad]
        state = _BackwardState(module, backward_hooks, len(positions), 0)
        state.pending = len(needs)
        args = list(args)
        for slot, i in enumerate(positions):
            if args[i].requires_grad:
                args[i] = _InputGrad.apply(args[i], state=state, index=slot)
        args = tuple(args)

    output = module.forward(*args, **kwargs)

    for hook, with_kwargs in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result

    if state is not None:
        output = _wrap_outputs(output, state)
    return output


def _wrap_outputs(output, state):
    """Put an `_OutputGrad` node on every tensor in `output` (a tensor or a nested tuple/list)."""
    tensors = []

    def wrap(obj):
        if isinstance(obj, Tensor):
            if not obj.requires_grad:
                return obj
            tensors.append(None)
            return _OutputGrad.apply(obj, state=state, index=len(tensors) - 1)
        if isinstance(obj, (tuple, list)):
            return type(obj)(wrap(o) for o in obj)
        return obj

    wrapped = wrap(output)
    state.grad_output = [None] * len(tensors)
    return wrapped
