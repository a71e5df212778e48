"""`deepnotes.accelerator`, as `torch.accelerator`: deepnotes has none (NumPy on the CPU)."""
from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator."""
    return None
