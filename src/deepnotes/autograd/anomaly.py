"""Anomaly mode: find the op whose gradient first turns NaN or infinite, and the line that made it.

    with dn.autograd.detect_anomaly():
        loss = model(x).log().mean()     # forward: each op remembers the user's line that created it
        loss.backward()                  # backward: the first non-finite gradient raises AnomalyError

As PyTorch's `torch.autograd.detect_anomaly`: during the forward pass every recorded op keeps the
stack of its creation; during backward, the gradients each op returns are checked, and the first
that holds a NaN or an infinity raises `AnomalyError` naming the op, the input, and the source line
(outside deepnotes) where the op was created.  The walk runs from the loss back, so the first op to
produce a non-finite gradient from finite ones is the culprit: log at 0, sqrt at 0, x / 0, 0 * inf.

Cost: off (the default), one boolean test per recorded op in forward and per node in backward.
On, a stack capture per op (a few microseconds) and a scan of every gradient: for debugging only.
"""
from __future__ import annotations

import contextlib
import linecache
import os
import sys

import numpy as np

from ..errors import AnomalyError

ENABLED = False
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../deepnotes


def is_anomaly_enabled() -> bool:
    return ENABLED


def set_detect_anomaly(mode: bool) -> bool:
    """Turn anomaly mode on or off for the whole process; returns the previous setting."""
    global ENABLED
    previous, ENABLED = ENABLED, bool(mode)
    return previous


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager and decorator: anomaly mode on inside, the previous setting restored after."""

    def __enter__(self):
        self.previous = set_detect_anomaly(True)
        return self

    def __exit__(self, *exc):
        set_detect_anomaly(self.previous)
        return False


def creation_site(depth=4):
    """The user's frames that created an op: from the innermost frame outside the deepnotes package
    outwards, at most `depth` of them, as (file, line, function), outermost first (a traceback's order)."""
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE + os.sep):
        frame = frame.f_back
    frames = []
    while frame is not None and len(frames) < depth:
        frames.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return frames[::-1] or None


def check_gradients(node, in_grads):
    """Raise AnomalyError if a gradient `node` returned for one of its inputs holds NaN or inf."""
    for i, g in enumerate(in_grads):
        if g is None:
            continue
        array = g._data if hasattr(g, "grad_fn") else np.asarray(g)
        if array.dtype.kind != "f" or np.isfinite(array).all():
            continue
        nan, inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
        site = getattr(node, "creation_site", None)
        if site is None:
            where = "(its creation was not recorded: it was created before anomaly mode was turned on)"
        else:
            where = "created at (most recent call last)" + "".join(
                f'\n  File "{filename}", line {line}, in {function}\n    {linecache.getline(filename, line).strip()}'
                for filename, line, function in site)
        raise AnomalyError(
            f"backward: {node.name} returned a gradient for its input {i} with {nan} NaN and {inf} infinite "
            f"value(s) of {array.size}; {node.name} was {where}"
        )
