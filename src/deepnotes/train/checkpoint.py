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
import os
import zipfile
from pathlib import Path

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor
from ..io import write_npz_atomically

MAGIC = "deepnotes-checkpoint"
VERSION = 1
_HEADER_KEY = "__deepnotes__"


class CheckpointError(ValueError):
    """A checkpoint file is missing, damaged, or not a deepnotes checkpoint."""


# ------------------------------------------------------------------ encoding


def _encode(obj, path, arrays):
    """The JSON node describing `obj`; arrays are moved into `arrays` under a path-derived key."""
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
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
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"checkpoint.save: dict keys must be str or int, got {k!r} at {path or 'state'}")
            k = k if isinstance(k, str) else int(k)
            items.append([k, _encode(v, f"{path}/{k}" if path else str(k), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(v, f"{path}/{i}" if path else str(i), arrays) for i, v in enumerate(obj)]}
    raise TypeError(
        f"checkpoint.save: cannot save {type(obj).__name__} at {path or 'state'}; a checkpoint holds dicts, "
        "lists, tuples, arrays, tensors, numbers, strings and None"
    )


def _decode(node, npz, where):
    if not isinstance(node, dict) or len(node) == 0:
        raise CheckpointError(f"{where}: malformed structure node {node!r:.80}")
    if "array" in node:
        key = node["array"]
        if key not in npz.files:
            raise CheckpointError(f"{where}: the array {key!r} named in the header is missing")
        array = npz[key]
        if array.dtype.str != node.get("dtype") or list(array.shape) != node.get("shape"):
            raise CheckpointError(
                f"{where}: array {key!r} has dtype {array.dtype.str} and shape {list(array.shape)}, "
                f"the header says {node.get('dtype')} and {node.get('shape')}"
            )
        return array[()] if node.get("scalar") else array
    if "value" in node:
        return node["value"]
    if "dict" in node:
        return {k: _decode(v, npz, where) for k, v in node["dict"]}
    if "list" in node:
        return [_decode(v, npz, where) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, npz, where) for v in node["tuple"])
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
    path = Path(path)
    where = f"checkpoint {str(path)!r}"
    if not path.is_file():
        raise CheckpointError(f"{where}: no such file")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise _unreadable(where, exc) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{where}: not a deepnotes checkpoint (a single .npy array, not an .npz archive)")
    with npz:
        if _HEADER_KEY not in npz.files:
            raise CheckpointError(f"{where}: not a deepnotes checkpoint (an .npz archive without a deepnotes header)")
        try:
            header = json.loads(npz[_HEADER_KEY].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("magic") != MAGIC:
                raise CheckpointError(f"{where}: not a deepnotes checkpoint (wrong magic string)")
            if not isinstance(header.get("version"), int) or header["version"] > VERSION:
                raise CheckpointError(
                    f"{where}: format version {header.get('version')!r} is newer than this deepnotes reads ({VERSION})"
                )
            # read every array now: a damaged member only shows when it is read (CRC check)
            return _decode(header.get("tree"), npz, where)
        except CheckpointError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise _unreadable(where, exc) from None


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
