"""The global random generator: `manual_seed` makes every random draw reproducible.

deepnotes draws all its randomness (`randn`, `rand`, weight init, dropout
masks, shuffling unless a loader has its own generator) from one NumPy
`Generator`.  Its state is plain JSON-serializable data, so a checkpoint can
save and restore it and a resumed run continues exactly as an uninterrupted one.
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the global generator to `seed` and return it."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    return _generator


def get_rng_state() -> dict:
    """The global generator's state (a dict of ints and strings)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator.bit_generator.state = state
