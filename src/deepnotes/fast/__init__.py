"""Every speed shortcut of deepnotes, in one place, behind one switch.

The general code path is the readable reference: what the docs describe and what the
tests compare with PyTorch. A *fast path* computes the same result with fewer passes over
memory or less bookkeeping (a fused inference path, an operation done in place). Each one
lives in a module of this package and is registered here against the general path it
replaces; the general path asks for it by name and falls back to itself when it gets None::

    shortcut = fast.get("transformer_encoder_inference")
    if shortcut is not None: ...

Turn them all off to run only the reference paths (to read, debug, or compare)::

    import deepnotes as dn
    dn.set_fast_paths(False)              # or: with dn.fast.disabled(): ...
    DEEPNOTES_FAST_PATHS=0 python ...     # before import

The shortcut modules (`cross_entropy`, `optim`, `pooling`, `recurrent`, `sequential`, `transformer`)
use the layers they speed up, so `import deepnotes` loads them after `nn`; this module itself
imports nothing, so any general path may ask it.

`tests/fast/test_fast_paths.py` runs the benchmark workloads and claims-sized models both
ways and compares outputs and every gradient.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class FastPath:
    """A registered shortcut: its name, the general path it replaces, and its function."""

    name: str
    replaces: str
    function: Callable


_PATHS: dict[str, FastPath] = {}
_enabled = os.environ.get("DEEPNOTES_FAST_PATHS", "1").strip().lower() not in ("0", "false", "off", "no")


def register(name: str, replaces: str):
    """Decorator: register ``fn`` as the fast path ``name`` for the general path ``replaces``
    (a dotted name, for the docs and the equivalence test)."""
    def decorate(fn):
        if name in _PATHS and _PATHS[name].function is not fn:
            raise ValueError(f"fast.register: {name!r} is registered twice")
        _PATHS[name] = FastPath(name, replaces, fn)
        return fn
    return decorate


def get(name: str):
    """The fast path's function, or None when fast paths are off (or none is registered)."""
    if not _enabled:
        return None
    path = _PATHS.get(name)
    return None if path is None else path.function


def set_fast_paths(enabled: bool) -> None:
    """Turn every fast path on (the default) or off (only the reference paths run)."""
    global _enabled
    _enabled = bool(enabled)


def fast_paths_enabled() -> bool:
    return _enabled


@contextlib.contextmanager
def disabled():
    """``with fast.disabled():`` runs only the reference paths inside the block."""
    previous = _enabled
    set_fast_paths(False)
    try:
        yield
    finally:
        set_fast_paths(previous)


def load_shortcuts() -> None:
    """Import the shortcut modules, which register themselves (`import deepnotes` calls it, after `nn`)."""
    from . import cross_entropy, optim, pooling, recurrent, sequential, transformer  # noqa: F401


def registered() -> list[FastPath]:
    """The registered fast paths, by name."""
    return [_PATHS[k] for k in sorted(_PATHS)]
