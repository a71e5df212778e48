"""Crash-safe file writing shared by checkpoints and data caches.

A file is written to a temporary name in the same directory, flushed and
fsync'ed, then renamed onto its target with `os.replace` (atomic on POSIX),
and the directory is fsync'ed so the rename itself survives a crash.  A
reader therefore sees either the old complete file or the new complete file,
never half of one.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np


def fsync_directory(directory) -> None:
    """Make a rename inside `directory` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# A writer's temporary file: `.<target name>.<32 hex digits>.tmp` (see `_write_atomically`).
_TEMPORARY = re.compile(r"\.(?P<target>.+)\.[0-9a-f]{32}\.tmp")
# A temporary file this much older than a new write is a killed writer's, not a live one's (a live
# writer's file changes with each block written; the margin covers its final fsync).
STALE_AFTER_SECONDS = 60.0


def remove_stale_temporaries(path, now=None) -> list[Path]:
    """Delete the temporary files a writer of `path` left behind when killed mid-write.

    Only files of the writer's own pattern for this target (`.<name>.<hex>.tmp`) are touched, and only
    those last modified more than STALE_AFTER_SECONDS before `now` (the start of the write in progress).
    Returns the paths removed.
    """
    path = Path(path)
    now = time.time() if now is None else now
    removed = []
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        match = _TEMPORARY.fullmatch(candidate.name)
        if not match or match["target"] != path.name:
            continue
        try:
            if candidate.stat().st_mtime < now - STALE_AFTER_SECONDS:
                candidate.unlink()
                removed.append(candidate)
        except OSError:  # removed meanwhile by another writer, or not ours to remove
            continue
    return removed


def _write_atomically(path, write) -> Path:
    """Call ``write(f)`` on a binary file that becomes `path` only once complete; temporaries of
    earlier writers of `path` that were killed mid-write are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    import uuid  # deferred: only a write needs a unique temporary name

    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        # os.open honours the umask (mkstemp would make the file private, mode 0600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_directory(path.parent)
    return path


def write_npz_atomically(path, arrays: dict) -> Path:
    """`np.savez(path, **arrays)` so that a crash never leaves a partial file at `path`."""
    return _write_atomically(path, lambda f: np.savez(f, **arrays))


def write_text_atomically(path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` (JSON, HTML, ...) so that a crash never leaves a partial file."""
    return _write_atomically(path, lambda f: f.write(text.encode(encoding)))
