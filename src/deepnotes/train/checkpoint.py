"""Checkpoints in a safe format: one `.npz` file, no pickle, written atomically.

A training state is a nested structure: dicts (with str or int keys), lists,
tuples, arrays (NumPy or deepnotes Tensors), numbers, strings, None.  `save`
writes it as one NumPy `.npz` archive:

- every array under a key spelled after its path (`model/0.weight`,
  `optimizer/state/0/exp_avg`), readable with `np.load` alone;
- a JSON document under `__deepnotes__` (stored as a uint8 array) with a magic
  string, the format version and the nested structure, which names the
  array keys and records each array's dtype and shape.

Why not pickle (what `torch.save` used by default until 2.6): unpickling runs
arbitrary code, so a checkpoint downloaded from elsewhere is a program.  Here
`load` uses `np.load(allow_pickle=False)` and JSON, which only read data.

Atomic write: the archive goes to a temporary file in the target's
directory, is flushed and fsync'ed, then `os.replace`d onto the target, and
the directory is fsync'ed.  A crash at any moment leaves either the old
checkpoint or the new one, never a half-written file.

`resume_state` / `restore` gather and put back everything a resumed run needs
to continue exactly as an uninterrupted one (model, optimizer, scheduler,
global RNG, the loader's shuffling generator, epoch).
"""
from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor
from ..io import write_npz_atomically

MAGIC = "deepnotes-checkpoint"
MAX_DEPTH = 64  # nesting levels of the saved structure (a model's state dict uses 3 or 4)
VERSION = 1
_HEADER_KEY = "__deepnotes__"


class CheckpointError(ValueError):
    """A checkpoint file is missing, damaged, or not a deepnotes checkpoint."""


# ------------------------------------------------------------------ encoding


def _encode(obj, path, arrays, active=None):
    """The JSON node describing `obj`; arrays are moved into `arrays` under a path-derived key.

    `active` holds the ids of the containers being encoded (the path from the root): a container
    inside itself, or a nesting deeper than MAX_DEPTH, is refused (`load` could not read it back)."""
    active = set() if active is None else active
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(obj._data if isinstance(obj, Tensor) else obj)
        if array.dtype.hasobject or array.dtype.kind == "V":
            raise TypeError(
                f"checkpoint.save: {path or 'state'} has dtype {array.dtype}, which cannot be saved without pickle"
            )
        key = path or "value"
        while key in arrays or key == _HEADER_KEY:
            key += "_"
        arrays[key] = array
        node = {"array": key, "dtype": array.dtype.str, "shape": list(array.shape)}
        if isinstance(obj, np.generic):
            node["scalar"] = True
        return node
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in active:
            raise ValueError(f"checkpoint.save: {path or 'state'} contains itself (a self-referencing structure)")
        if len(active) >= MAX_DEPTH:
            raise ValueError(f"checkpoint.save: {path or 'state'} is nested deeper than {MAX_DEPTH} levels")
        active.add(id(obj))
        try:
            return _encode_container(obj, path, arrays, active)
        finally:
            active.discard(id(obj))
    raise TypeError(
        f"checkpoint.save: cannot save {type(obj).__name__} at {path or 'state'}; a checkpoint holds dicts, "
        "lists, tuples, arrays, tensors, numbers, strings and None"
    )


def _encode_container(obj, path, arrays, active):
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"checkpoint.save: dict keys must be str or int, got {k!r} at {path or 'state'}")
            k = k if isinstance(k, str) else int(k)
            items.append([k, _encode(v, f"{path}/{k}" if path else str(k), arrays, active)])
        return {"dict": items}
    kind = "tuple" if isinstance(obj, tuple) else "list"
    return {kind: [_encode(v, f"{path}/{i}" if path else str(i), arrays, active) for i, v in enumerate(obj)]}


def _decode(node, read, where, depth=0):
    """The value the JSON `node` describes; `read(key)` gives an array of the archive (None if absent)."""
    if depth > MAX_DEPTH:
        raise CheckpointError(f"{where}: the structure is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict) or len(node) == 0:
        raise CheckpointError(f"{where}: malformed structure node {node!r:.80}")
    if "array" in node:
        key = node["array"]
        array = read(key) if isinstance(key, str) else None
        if array is None:
            raise CheckpointError(f"{where}: the array {key!r} named in the header is missing")
        if array.dtype.str != node.get("dtype") or list(array.shape) != node.get("shape"):
            raise CheckpointError(
                f"{where}: array {key!r} has dtype {array.dtype.str} and shape {list(array.shape)}, "
                f"the header says {node.get('dtype')} and {node.get('shape')}"
            )
        return array[()] if node.get("scalar") else array
    if "value" in node:
        return node["value"]
    if "dict" in node:
        return {k: _decode(v, read, where, depth + 1) for k, v in node["dict"]}
    if "list" in node:
        return [_decode(v, read, where, depth + 1) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, read, where, depth + 1) for v in node["tuple"])
    raise CheckpointError(f"{where}: unknown structure node with keys {sorted(node)}")


# ------------------------------------------------------------------ files


def save(state, path):
    """Write `state` (a nested structure of arrays and plain values) to `path` atomically.

    Args:
        state: e.g. `{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}`.
        path: the file to write (its directory is created if needed); the
            name is used as given (no `.npz` is appended).
    """
    path = Path(path)
    arrays = {}
    header = {"magic": MAGIC, "version": VERSION, "tree": _encode(state, "", arrays)}
    arrays[_HEADER_KEY] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    write_npz_atomically(path, arrays)


def load(path):
    """Read a checkpoint written by `save`.

    Arrays come back as NumPy arrays (`load_state_dict` accepts them), dicts
    keep their int keys, tuples stay tuples.

    Raises:
        CheckpointError: the file is missing, truncated or corrupted, or is not
            a deepnotes checkpoint (a plain `.npz`, another format).
    """
    import zipfile  # deferred: 18 modules (1.5 MB) that only reading a checkpoint needs

    path = Path(path)
    where = f"checkpoint {str(path)!r}"
    with _open_regular_file(path, where) as file:
        size = os.fstat(file.fileno()).st_size
        if file.read(6) == b"\x93NUMPY":
            raise CheckpointError(f"{where}: not a deepnotes checkpoint (a single .npy array, not an .npz archive)")
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                members = _checked_members(archive, size, where)
                if _HEADER_KEY not in members:
                    raise CheckpointError(
                        f"{where}: not a deepnotes checkpoint (an .npz archive without a deepnotes header)")
                header = json.loads(_read_member(archive, members[_HEADER_KEY], where).tobytes().decode("utf-8"))
                if not isinstance(header, dict) or header.get("magic") != MAGIC:
                    raise CheckpointError(f"{where}: not a deepnotes checkpoint (wrong magic string)")
                if not isinstance(header.get("version"), int) or header["version"] > VERSION:
                    raise CheckpointError(f"{where}: format version {header.get('version')!r} is newer than this "
                                          f"deepnotes reads ({VERSION})")
                # every array is read now: a damaged entry only shows when it is read (CRC check)
                return _decode(header.get("tree"), lambda key: _read_member(archive, members.get(key), where), where)
        except CheckpointError:
            raise
        except RecursionError:
            raise CheckpointError(f"{where}: the header's structure is nested too deeply to be a checkpoint") from None
        except Exception as exc:  # noqa: BLE001 - any failure to parse untrusted bytes is a damaged checkpoint
            raise _unreadable(where, exc) from None


def _open_regular_file(path, where):
    """`path` opened for reading, or CheckpointError saying why not (missing, a directory, a symlink loop,
    no permission, not a regular file)."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise CheckpointError(f"{where}: no such file (the path is a directory)")
        if not stat.S_ISREG(mode):
            raise CheckpointError(f"{where}: not a regular file (a device, socket or pipe)")
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's `with`
    except FileNotFoundError:
        raise CheckpointError(f"{where}: no such file") from None
    except OSError as exc:  # a symlink loop (ELOOP), no permission (EACCES), ...
        raise CheckpointError(f"{where}: cannot be opened ({exc.strerror or exc})") from None


def _checked_members(archive, size, where):
    """{array key: ZipInfo} of an archive as `save` writes it: stored (uncompressed), unencrypted `.npy`
    entries whose declared sizes fit inside the file, so that nothing read can exceed the file's size."""
    from zipfile import ZIP_STORED  # deferred, as in load

    members = {}
    for info in archive.infolist():
        name = info.filename
        if info.flag_bits & 0x1:
            raise CheckpointError(f"{where}: entry {name!r} is encrypted; a checkpoint never is")
        if info.compress_type != ZIP_STORED:
            raise CheckpointError(f"{where}: entry {name!r} uses compression method {info.compress_type}; "
                                  "a checkpoint stores its entries uncompressed")
        if info.file_size != info.compress_size or info.header_offset + info.compress_size > size:
            raise CheckpointError(f"{where}: entry {name!r} declares {info.file_size} bytes, more than the "
                                  f"{size}-byte file holds (truncated or corrupted)")
        if not name.endswith(".npy") or name[:-4] in members:
            raise CheckpointError(f"{where}: entry {name!r} is not one .npy array of an .npz archive")
        members[name[:-4]] = info
    return members


def _read_member(archive, info, where):
    """The array in entry `info` (None when absent), read only after its declared shape and dtype are
    checked against the entry's size: a header claiming 745 GiB is refused before any allocation."""
    if info is None:
        return None
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise CheckpointError(f"{where}: array {info.filename!r} uses .npy format {version}, not 1.0 or 2.0")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(member)
        if dtype.hasobject:
            raise CheckpointError(f"{where}: array {info.filename!r} holds Python objects (needs pickle)")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > info.file_size:
            raise CheckpointError(f"{where}: array {info.filename!r} declares shape {shape} of {dtype} ({nbytes} "
                                  f"bytes), but its entry holds {info.file_size} bytes")
        array = np.empty(shape, dtype, order="F" if fortran else "C")
        view = array.ravel(order="K").view(np.uint8) if nbytes else bytearray()
        if member.readinto(view) != nbytes or member.read(1):
            raise CheckpointError(f"{where}: array {info.filename!r} does not hold the {nbytes} bytes its header "
                                  "declares (truncated or corrupted)")
        member.read()  # the entry's end: where zipfile checks its CRC
    return array


def _unreadable(where, exc):
    return CheckpointError(
        f"{where}: cannot be read, the file is truncated, corrupted or not a deepnotes checkpoint "
        f"({type(exc).__name__}: {exc})"
    )


# ------------------------------------------------------------------ resuming


def resume_state(model, optimizer=None, epoch=0, scheduler=None, loader=None, **extra):
    """Everything a run needs to resume exactly: weights, optimizer, scheduler, RNGs, epoch.

    Args:
        model: the `Module` being trained.
        optimizer, scheduler: saved through their `state_dict()` when given.
        epoch: the number of epochs completed.
        loader: the training `DataLoader`; its shuffling generator is saved.
        **extra: more entries to store (e.g. `history=history.to_dict()`).

    Returns:
        A dict for `save`, read back by `restore`.
    """
    state = {"model": model.state_dict(), "epoch": int(epoch), "rng": _random.get_rng_state()}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if loader is not None:
        state["loader"] = loader.state_dict()
    state.update(extra)
    return state


def restore(state, model, optimizer=None, scheduler=None, loader=None):
    """Put a `resume_state` dict (or a checkpoint path) back into freshly built objects.

    Build the model, optimizer, scheduler and loader first, then restore:
    building them draws from the global generator, and `restore` sets that
    generator last.  Returns the number of completed epochs (`start_epoch`
    for `fit`).
    """
    if isinstance(state, (str, os.PathLike)):
        state = load(state)
    model.load_state_dict(state["model"])
    for name, target in (("optimizer", optimizer), ("scheduler", scheduler), ("loader", loader)):
        if target is not None:
            if name not in state:
                raise KeyError(f"restore: the checkpoint has no {name} state (it has {sorted(state)})")
            target.load_state_dict(state[name])
    if "rng" in state:
        _random.set_rng_state(state["rng"])
    return int(state.get("epoch", 0))
