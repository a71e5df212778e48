"""`Module` and `Parameter`: the stateful side of `deepnotes.nn`, as in PyTorch.

A Module registers what is assigned to its attributes: a `Parameter` becomes
a learnable parameter, another Module a submodule, and `register_buffer`
adds state that is saved but not learned (BatchNorm's running mean).
Names are dotted paths (`"0.weight"`, `"encoder.norm.bias"`), the keys of
`state_dict()`, so a deepnotes model and the same PyTorch model share keys.
"""
from __future__ import annotations

import functools
import inspect
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..device import check_device, device
from . import hooks as _hooks
from .hooks import RemovableHandle


class StateDictKeysError(KeyError, RuntimeError):
    """Missing or unexpected keys in `load_state_dict(strict=True)` (a RuntimeError, as in PyTorch)."""


# What load_state_dict returns, as PyTorch's `_IncompatibleKeys` (unpacks as (missing, unexpected)).
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A leaf tensor that a Module registers as learnable; requires grad by default."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        super().__init__(data._data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models.  Subclasses define `forward`."""

    def __init_subclass__(cls, **kwargs):
        # deepnotes' layers take PyTorch's `device=` keyword (the CPU only), without each one saying so
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and cls.__module__.startswith("deepnotes."):
            cls.__init__ = _accepting_device(init)

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())  # id -> (hook, with_kwargs)
        object.__setattr__(self, "_forward_hooks", OrderedDict())  # id -> (hook, with_kwargs)
        object.__setattr__(self, "_backward_hooks", OrderedDict())  # id -> hook

    # ----------------------------------------------------------- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attribute {name!r}"
            )
        # PyTorch's rules: a Parameter or Module (re)registers the name; a name
        # already registered keeps its kind (a buffer takes a new tensor, a
        # parameter slot only a Parameter or None), so `self.running_mean = t`
        # updates the buffer instead of silently dropping it from state_dict.
        if isinstance(value, (Parameter, Module)):
            for store in (self._parameters, self._buffers, self._modules):
                store.pop(name, None)
            self.__dict__.pop(name, None)
            (self._parameters if isinstance(value, Parameter) else self._modules)[name] = value
            return
        for kind, store, ok in (
            ("parameter", self._parameters, value is None),
            ("submodule", self._modules, value is None),
            ("buffer", self._buffers, value is None or isinstance(value, Tensor)),
        ):
            if name in store:
                if not ok:
                    raise TypeError(
                        f"{type(self).__name__}: cannot assign {type(value).__name__} to {kind} {name!r}"
                    )
                store[name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(store)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param if isinstance(param, Parameter) else Parameter(param))

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """State that is saved in `state_dict()` but not learned; `None` reserves the name."""
        self.__dict__.pop(name, None)
        self._buffers[name] = None if tensor is None else (tensor if isinstance(tensor, Tensor) else Tensor(tensor))
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        setattr(self, name, module)

    # -------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and all below it; a module shared
        under several names is listed once unless `remove_duplicate=False`."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Training mode: dropout drops, BatchNorm uses and updates batch statistics."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (`train(False)`)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradient of every parameter (to None, or to zeros)."""
        for p in self.parameters():
            p.zero_grad_(set_to_none)

    # ------------------------------------------------------------------ dtype
    def to(self, *args, **kwargs) -> Module:
        """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(tensor)`: casts floating parameters and buffers
        (and their grads) to the dtype, in place; the device must be the CPU (PyTorch's signature)."""
        dtype = _module_dtype(args, kwargs)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        for t in list(self.parameters()) + list(self.buffers()):
            if t._data.dtype.kind == "f":
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor._from_op(t.grad._data.astype(dtype), None)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        check_device("cuda", "Module.cuda")

    # ------------------------------------------------------------------- call
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return _hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    @property
    def has_hooks(self):
        return bool(self._forward_pre_hooks or self._forward_hooks or self._backward_hooks)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every forward; a non-None result replaces the
        positional arguments (a non-tuple is wrapped in a 1-tuple). With ``with_kwargs=True``:
        ``hook(module, args, kwargs)`` returning None or ``(args, kwargs)``. Returns a handle."""
        return _hooks.add_hook(self._forward_pre_hooks, hook, prepend, (hook, bool(with_kwargs)))

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every forward; a non-None result replaces
        the output. With ``with_kwargs=True``: ``hook(module, args, kwargs, output)``."""
        return _hooks.add_hook(self._forward_hooks, hook, prepend, (hook, bool(with_kwargs)))

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` during backward, once the gradients
        w.r.t. the module's tensor inputs are computed; a non-None result replaces grad_input."""
        return _hooks.add_hook(self._backward_hooks, hook, prepend)

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first, as PyTorch) and on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ state dicts
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (detached tensors sharing memory)."""
        out = OrderedDict()
        for mod_name, module in self.named_modules(remove_duplicate=False):
            skip = module.__dict__.get("_non_persistent", set())
            for store in (module._parameters, module._buffers):
                for name, t in store.items():
                    if t is not None and name not in skip:
                        out[f"{mod_name}.{name}" if mod_name else name] = t.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> tuple[list[str], list[str]]:
        """Copy values into parameters and buffers by name.

        With `strict=True` (the default), missing or unexpected keys raise a
        KeyError that lists them; a shape mismatch always raises a ValueError
        naming the key and both shapes.  Returns (missing_keys, unexpected_keys).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise StateDictKeysError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        targets = dict(self._state_targets())
        with no_grad():
            for key, value in state_dict.items():
                if key not in targets:
                    continue
                array = np.asarray(value._data if isinstance(value, Tensor) else value)
                target = targets[key]
                if array.shape != target._data.shape:
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: shape mismatch for {key!r}: "
                        f"the checkpoint has {array.shape}, the model expects {target._data.shape}"
                    )
                target._data = array.astype(target._data.dtype, copy=True)
        return IncompatibleKeys(missing, unexpected)

    def _state_targets(self):
        for mod_name, module in self.named_modules(remove_duplicate=False):
            for store in (module._parameters, module._buffers):
                for name, t in store.items():
                    if t is not None:
                        yield (f"{mod_name}.{name}" if mod_name else name), t

    # ------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(m)) for name, m in self._modules.items()]
        if len(extra_lines) == 1 and not child_lines:  # the one-liner most layers use
            return f"{type(self).__name__}({extra_lines[0]})"
        lines = extra_lines + child_lines
        if not lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _accepting_device(init):
    """`init` taking PyTorch's factory keywords `device=None` (checked to be the CPU) and, where it has
    none of its own, `dtype=None` (the parameters and buffers are cast to it after construction)."""
    signature = inspect.signature(init)
    params = list(signature.parameters.values())
    if "device" in signature.parameters or any(p.kind is p.VAR_KEYWORD for p in params):
        return init
    own_dtype = "dtype" in signature.parameters

    @functools.wraps(init)
    def __init__(self, *args, device=None, **kwargs):
        check_device(device, type(self).__name__)
        dtype = None if own_dtype else kwargs.pop("dtype", None)
        init(self, *args, **kwargs)
        if dtype is not None and type(self).__init__ is __init__:  # the outermost layer casts once
            self.to(dtype)

    added = [inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default=None)]
    if not own_dtype:
        added.append(inspect.Parameter("dtype", inspect.Parameter.KEYWORD_ONLY, default=None))
    __init__.__signature__ = signature.replace(parameters=params + added)
    return __init__


def _module_dtype(args, kwargs):
    """The dtype among Module.to's arguments (None when only a device is given); the device must be the CPU."""
    dtype = kwargs.get("dtype")
    check_device(kwargs.get("device"), "Module.to")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, device)):
            check_device(arg, "Module.to")
        elif arg is not None:
            dtype = arg
    return dtype


def _indent(text):
    return text.replace("\n", "\n  ")
