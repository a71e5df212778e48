"""`deepnotes.cuda`, as `torch.cuda` on a machine without a GPU: nothing is available.

`is_available()` is False and `device_count()` 0, so a script's `"cuda" if torch.cuda.is_available()
else "cpu"` picks the CPU; seeding calls are no-ops (as PyTorch's are without CUDA).  Anything that
would need a GPU raises `NotImplementedError` naming what to use instead.
"""
from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """A no-op: there is no CUDA generator to seed (`deepnotes.manual_seed` seeds the CPU's)."""


def manual_seed_all(seed: int) -> None:
    """A no-op, as `manual_seed`."""


def is_initialized() -> bool:
    return False


def empty_cache() -> None:
    """A no-op: there is no CUDA cache."""


def synchronize(device=None) -> None:
    """A no-op: NumPy computes synchronously."""


def _no_cuda(name):
    def unavailable(*args, **kwargs):
        raise NotImplementedError(
            f"deepnotes.cuda.{name}: deepnotes has no CUDA backend (it computes with NumPy on the CPU); "
            "guard GPU code with `if torch.cuda.is_available():`"
        )

    unavailable.__name__ = name
    return unavailable


current_device = _no_cuda("current_device")
get_device_name = _no_cuda("get_device_name")
set_device = _no_cuda("set_device")
memory_allocated = _no_cuda("memory_allocated")
max_memory_allocated = _no_cuda("max_memory_allocated")
