"""Grad mode: whether operations record the graph for backward.

`no_grad()` turns recording off (evaluation, optimizer updates);
`enable_grad()` turns it back on inside a `no_grad` block. Both work as
context managers and as decorators.
"""
from __future__ import annotations

import contextlib
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "enabled", True)


class set_grad_enabled(contextlib.ContextDecorator):
    """Set grad mode to `mode` on entry (and immediately), restore it on exit."""

    def __init__(self, mode: bool):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self):
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class no_grad(contextlib.ContextDecorator):
    """Context manager and decorator that disables graph recording."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = False
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class enable_grad(contextlib.ContextDecorator):
    """Context manager and decorator that enables graph recording."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = True
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False
