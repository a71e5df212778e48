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


class Generator(np.random.Generator):
    """`deepnotes.Generator()`, as `torch.Generator()`: a NumPy generator with PyTorch's seeding methods.

    It *is* a `numpy.random.Generator`, so it goes wherever deepnotes takes one (`randn(...,
    generator=g)`, `random_split(..., generator=g)`, `DataLoader(generator=g)`).  The numbers
    differ from PyTorch's (another algorithm, PCG64), the reproducibility is the same.
    """

    def __init__(self, device="cpu"):
        super().__init__(np.random.PCG64())
        self._initial_seed = None

    def manual_seed(self, seed: int) -> Generator:
        """Reseed and return self (so `Generator().manual_seed(42)` is a seeded generator)."""
        self.bit_generator.state = np.random.PCG64(int(seed)).state
        self._initial_seed = int(seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the seed."""
        return self.manual_seed(int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1))._initial_seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self) -> dict:
        return self.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.bit_generator.state = state
        return self


def initial_seed():
    """The seed of the global generator's current stream is not kept by NumPy; this raises."""
    raise NotImplementedError("deepnotes.initial_seed: the global generator does not record its seed; call "
                              "deepnotes.manual_seed(s) and keep s")


def seed() -> int:
    """Reseed the global generator from fresh entropy and return the seed."""
    s = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    manual_seed(s)
    return s
