"""`deepnotes.save` / `deepnotes.load`, as `torch.save` / `torch.load`, on a format without pickle.

What can be saved: tensors (and `Parameter`s), NumPy arrays, numbers, strings, None, and dicts,
lists and tuples of them (a `state_dict()`, an optimizer's `state_dict()`, the usual checkpoint
`{"epoch": e, "model": model.state_dict(), "optim": opt.state_dict()}`), and also a whole `Module`
or another object of an allow-listed class.  The file is the safe checkpoint format of
`deepnotes.train.checkpoint` (an `.npz` archive plus a JSON description, written atomically):
loading it never runs code from the file.

Objects (a whole model) are stored as their class's qualified name and their attributes.
Loading one rebuilds it *only* if its class is allowed, PyTorch's `weights_only=True` semantics:
deepnotes' own classes are allowed, others must be registered with
`deepnotes.serialization.add_safe_globals([Net])` or inside `with safe_globals([Net]):`.  The
class is then created without calling `__init__` (`cls.__new__`) and its attributes are set, as
unpickling does.  `weights_only=False` also allows any class the file names by importing its
module: only use it on files you trust, as with PyTorch.
"""
from __future__ import annotations

import contextlib
import importlib
import os
from collections import OrderedDict
from pathlib import Path
from types import FunctionType

import numpy as np

from .autograd.tensor import Tensor
from .device import check_device
from .nn.module import Parameter
from .train import checkpoint as _checkpoint

_TENSOR, _OBJECT, _FUNCTION, _DTYPE, _ORDERED, _SET = ("__tensor__", "__object__", "__function__", "__dtype__",
                                                       "__ordered__", "__set__")
_safe_globals: dict[str, type] = {}


def _qualified(obj) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


def add_safe_globals(safe_globals) -> None:
    """Allow `load` to rebuild objects of these classes (and call these functions by name)."""
    for obj in safe_globals:
        obj = obj[0] if isinstance(obj, tuple) else obj
        _safe_globals[_qualified(obj)] = obj


def clear_safe_globals() -> None:
    _safe_globals.clear()


def get_safe_globals() -> list:
    return list(_safe_globals.values())


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Within the block, `load` may also rebuild objects of the listed classes."""
    saved = dict(_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_globals.clear()
        _safe_globals.update(saved)


# ------------------------------------------------------------------ encoding
def _encode(obj, where):
    """`obj` as the plain structure the checkpoint format stores (arrays, dicts, lists, numbers)."""
    if isinstance(obj, Tensor):
        kind = "parameter" if isinstance(obj, Parameter) else "tensor"
        return {_TENSOR: obj._data, "requires_grad": bool(obj.requires_grad), "kind": kind}
    if isinstance(obj, (np.ndarray, np.generic)) or obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        plain = {k: _encode(v, f"{where}[{k!r}]") for k, v in obj.items()}
        return {_ORDERED: plain} if isinstance(obj, OrderedDict) and type(obj) is OrderedDict else plain
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return type(obj)(_encode(v, f"{where}[{i}]") for i, v in enumerate(obj))
    if isinstance(obj, (set, frozenset)):
        return {_SET: [_encode(v, where) for v in obj]}
    if isinstance(obj, type) and issubclass(obj, np.generic):
        return {_DTYPE: np.dtype(obj).str}
    if isinstance(obj, np.dtype):
        return {_DTYPE: obj.str}
    if isinstance(obj, (FunctionType, type)) and "<" not in obj.__qualname__:
        return {_FUNCTION: _qualified(obj)}
    state = getattr(obj, "__dict__", None)
    if state is None or "<" in type(obj).__qualname__ or isinstance(obj, FunctionType):
        raise TypeError(
            f"deepnotes.save: cannot save {type(obj).__name__} at {where}: deepnotes saves tensors, arrays, "
            "numbers, strings, None, dicts, lists and tuples of them, and objects of importable classes "
            "(not lambdas, local classes, open files or generators)"
        )
    return {_OBJECT: _qualified(type(obj)), "state": {k: _encode(v, f"{where}.{k}") for k, v in state.items()}}


def _resolve(name: str, weights_only: bool, where: str):
    """The class or function `module:qualname`, if allowed."""
    if name in _safe_globals:
        return _safe_globals[name]
    module, _, qualname = name.partition(":")
    if not (module == "deepnotes" or module.startswith("deepnotes.")) and weights_only:
        raise RuntimeError(
            f"deepnotes.load: {where} holds an object of class {qualname} from module {module!r}, which is not "
            f"allow-listed. If you trust this file, allow the class with "
            f"`deepnotes.serialization.add_safe_globals([{qualname}])` (or `with "
            f"deepnotes.serialization.safe_globals([{qualname}]):`), or pass weights_only=False"
        )
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _decode(node, weights_only, where="file"):
    if isinstance(node, dict):
        if _TENSOR in node:
            cls = Parameter if node.get("kind") == "parameter" else Tensor
            array = np.asarray(node[_TENSOR])
            return cls(array, requires_grad=bool(node.get("requires_grad")))
        if _ORDERED in node:
            return OrderedDict((k, _decode(v, weights_only, where)) for k, v in node[_ORDERED].items())
        if _SET in node:
            return {_decode(v, weights_only, where) for v in node[_SET]}
        if _DTYPE in node:
            return np.dtype(node[_DTYPE]).type
        if _FUNCTION in node:
            return _resolve(node[_FUNCTION], weights_only, where)
        if _OBJECT in node:
            cls = _resolve(node[_OBJECT], weights_only, where)
            obj = cls.__new__(cls)
            for key, value in node["state"].items():
                object.__setattr__(obj, key, _decode(value, weights_only, f"{where}.{key}"))
            return obj
        return {k: _decode(v, weights_only, f"{where}[{k!r}]") for k, v in node.items()}
    if isinstance(node, list):
        return [_decode(v, weights_only, where) for v in node]
    if isinstance(node, tuple):
        return tuple(_decode(v, weights_only, where) for v in node)
    return node


# ------------------------------------------------------------------ files
def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True) -> None:
    """Write `obj` to `f` (a path or a binary file object) in the safe checkpoint format."""
    if pickle_module is not None:
        raise NotImplementedError("deepnotes.save: pickle_module is not supported (deepnotes never pickles)")
    tree = _encode(obj, "obj")
    if isinstance(f, (str, os.PathLike)):
        _checkpoint.save(tree, Path(f))
        return
    import tempfile  # deferred: only a file object (not a path) goes through a temporary directory

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.npz"
        _checkpoint.save(tree, path)
        f.write(path.read_bytes())


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Read what `save` wrote, from a path or a binary file object.

    `map_location` may be None, "cpu", a `deepnotes.device` or a dict/callable mapping to the CPU
    (everything loads on the CPU).  Objects are rebuilt only for allowed classes (see the module).
    """
    if isinstance(map_location, (str, type(None))) or type(map_location).__name__ == "device":
        check_device(map_location, "deepnotes.load(map_location=...)")
    if pickle_module is not None:
        raise NotImplementedError("deepnotes.load: pickle_module is not supported (deepnotes never unpickles)")
    if isinstance(f, (str, os.PathLike)):
        tree = _checkpoint.load(Path(f))
    else:
        data = f.read() if hasattr(f, "read") else bytes(f)
        import tempfile  # deferred, as in save

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "checkpoint.npz"
            path.write_bytes(data)
            tree = _checkpoint.load(path)
    return _decode(tree, bool(weights_only if weights_only is not None else True))

