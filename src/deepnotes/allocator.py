"""Keep freed array memory in the process for reuse (glibc's malloc), instead of returning it to the OS.

Why.  A training step allocates tens of megabytes of large arrays (activations,
im2col columns, gradients) and frees them all by its end.  With glibc's default
settings, freed blocks at the top of the heap beyond a small threshold are
returned to the kernel (trimmed), and blocks above a size threshold are `mmap`ed
and unmapped one by one.  The next step asks for the same memory again, and the
kernel has to map and zero every page once more: `deepnotes bench` measured
about 8,000 page faults and 30-40 ms of system time per W2 training step (half
of the step).  PyTorch has the same allocator but makes fewer, fused temporaries.

What.  `keep_freed_memory()` raises two `mallopt` thresholds, the way CPU
frameworks are commonly tuned (or run under jemalloc / tcmalloc): arrays up to
`mmap_threshold` come from the heap, and up to `trim_threshold` bytes of free
heap are kept for the next allocation.  The peak resident memory does not grow;
the process simply does not give memory back between steps.  `import deepnotes`
calls it once.  It does nothing outside Linux/glibc, when the environment
already sets glibc's malloc tunables (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES), or when DEEPNOTES_KEEP_FREED_MEMORY=0.
"""
from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")


def keep_freed_memory(mmap_threshold=256 << 20, trim_threshold=1 << 30):
    """Ask glibc's malloc to keep freed memory for reuse; return whether the settings were applied.

    Args:
        mmap_threshold: bytes; smaller allocations come from the heap, not from `mmap`.
        trim_threshold: bytes of free memory at the top of the heap kept instead of returned.
    """
    if not sys.platform.startswith("linux") or os.environ.get("DEEPNOTES_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if any(name in os.environ for name in _USER_SETTINGS):
        return False  # the user tuned the allocator already
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(mallopt(_M_TRIM_THRESHOLD,
                                                                                   int(trim_threshold)))
