"""Checkpoints that survive anything: malformed files of every kind raise CheckpointError, a fuzzer
mutates valid files, and writers are SIGKILLed mid-save (every file left behind must load)."""
import io
import json
import os
import signal
import struct
import time
import zipfile

import numpy as np
import pytest

from deepnotes import io as dn_io
from deepnotes.train import CheckpointError, checkpoint


def _state(step=0):
    rng = np.random.default_rng(step)
    return {"model": {"0.weight": rng.standard_normal((8, 4)).astype(np.float32), "0.bias": np.zeros(8)},
            "optimizer": {"state": {0: {"step": step, "exp_avg": rng.standard_normal(4)}}, "lr": 0.1},
            "names": np.array(["a", "bé"]), "epoch": step, "betas": (0.9, 0.999)}


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _header_file(path, header_bytes, **arrays):
    np.savez(path, __deepnotes__=np.frombuffer(header_bytes, np.uint8), **arrays)


def _central_directory_patch(path, offset, fmt, value):
    """Overwrite a field of every central-directory record (at `offset` from its signature)."""
    data = bytearray(path.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) >= 0:
        struct.pack_into(fmt, data, start + offset, value)
        start += 4
    path.write_bytes(bytes(data))


def _huge_declared_array(path):
    """A valid checkpoint whose array entry's .npy header claims (100000000000,) float64: 745 GiB."""
    header = {"magic": "deepnotes-checkpoint", "version": 1,
              "tree": {"array": "w", "dtype": "<f8", "shape": [100000000000]}}
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "<f8", "fortran_order": False, "shape": (100000000000,)})
    meta = io.BytesIO()
    np.save(meta, np.frombuffer(json.dumps(header).encode(), np.uint8))
    with zipfile.ZipFile(path, "w") as archive:  # correct CRCs: only the declared size is wrong
        archive.writestr("__deepnotes__.npy", meta.getvalue())
        archive.writestr("w.npy", npy.getvalue() + bytes(32))


def _fifo(path):
    os.mkfifo(path)


def _symlink_loop(path):
    os.symlink(path.name + ".b", path)
    os.symlink(path.name, str(path) + ".b")


MALFORMED = {
    "missing": (lambda p: None, "no such file"),
    "a directory": (lambda p: p.mkdir(), "directory"),
    "a symlink loop": (_symlink_loop, "cannot be opened"),
    "a fifo": (_fifo, "not a regular file"),
    "empty": (lambda p: p.write_bytes(b""), "cannot be read"),
    "random bytes": (lambda p: p.write_bytes(np.random.default_rng(1).bytes(3000)), "cannot be read"),
    "json nested 100000 deep": (lambda p: _header_file(p, b"[" * 100000 + b"]" * 100000), "nested"),
    "tree nested 200 deep": (lambda p: _header_file(p, json.dumps(
        {"magic": "deepnotes-checkpoint", "version": 1,
         "tree": json.loads('{"list": [' * 200 + '{"value": 1}' + "]}" * 200)}).encode()), "nested deeper than"),
    "header claims 745 GiB": (_huge_declared_array, "declares shape"),
    "compressed entries": (lambda p: np.savez_compressed(p, __deepnotes__=np.zeros(100, np.uint8)),
                           "compression method 8"),
    "unknown compression": (lambda p: (checkpoint.save({"a": 1}, p),
                                       _central_directory_patch(p, 10, "<H", 99)), "compression method 99"),
    "encrypted flag": (lambda p: (checkpoint.save({"a": 1}, p), _central_directory_patch(p, 8, "<H", 1)),
                       "encrypted"),
    "entry larger than the file": (lambda p: (checkpoint.save({"a": 1}, p),
                                              _central_directory_patch(p, 24, "<I", 2**31)), "declares"),
    "object array": (lambda p: np.savez(p, __deepnotes__=np.array([None], dtype=object)), "Python objects"),
    "tree not a node": (lambda p: _header_file(p, json.dumps(
        {"magic": "deepnotes-checkpoint", "version": 1, "tree": [1, 2]}).encode()), "malformed structure"),
    "dict items not pairs": (lambda p: _header_file(p, json.dumps(
        {"magic": "deepnotes-checkpoint", "version": 1, "tree": {"dict": [1]}}).encode()), "cannot be read"),
    "array key not a string": (lambda p: _header_file(p, json.dumps(
        {"magic": "deepnotes-checkpoint", "version": 1, "tree": {"array": [1]}}).encode()), "missing"),
    "header not utf-8": (lambda p: _header_file(p, b"\xff\xfe"), "cannot be read"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_every_malformed_file_raises_checkpoint_error_with_the_path(tmp_path, case):
    make, message = MALFORMED[case]
    path = tmp_path / "target.npz"
    make(path)
    with pytest.raises(CheckpointError, match=message) as info:
        checkpoint.load(path)
    assert "target.npz" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_raises_checkpoint_error(tmp_path):
    path = tmp_path / "target.npz"
    checkpoint.save({"a": 1}, path)
    path.chmod(0)
    with pytest.raises(CheckpointError, match="cannot be opened"):
        checkpoint.load(path)


def test_a_self_referencing_or_too_deep_state_is_refused_on_save(tmp_path):
    loop = {"a": [1]}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match="a/1 contains itself"):
        checkpoint.save(loop, tmp_path / "c.npz")
    deep = 0
    for _ in range(checkpoint.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        checkpoint.save(deep, tmp_path / "c.npz")
    shared = [1, 2]  # the same list twice is not a cycle
    assert checkpoint.save({"x": shared, "y": shared}, tmp_path / "c.npz") is None
    assert not list(tmp_path.iterdir()) or [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def _mutations(data, rng, count):
    """`count` damaged copies of `data`: byte flips, truncations, inserted and deleted bytes."""
    for _ in range(count):
        kind = rng.integers(4)
        damaged = bytearray(data)
        if kind == 0:
            for i in rng.integers(0, len(data), size=rng.integers(1, 4)):
                damaged[i] ^= 1 << int(rng.integers(8))
        elif kind == 1:
            del damaged[int(rng.integers(0, len(data))):]
        elif kind == 2:
            at = int(rng.integers(0, len(data)))
            damaged[at:at] = rng.bytes(int(rng.integers(1, 9)))
        else:
            at = int(rng.integers(0, len(data) - 1))
            del damaged[at:at + int(rng.integers(1, 9))]
        yield kind, bytes(damaged)


def _fuzz(tmp_path, cases, seed):
    state = _state(3)
    path = tmp_path / "fuzz.npz"
    checkpoint.save(state, path)
    data = path.read_bytes()
    outcomes = {"CheckpointError": 0, "loaded equal": 0}
    for kind, damaged in _mutations(data, np.random.default_rng(seed), cases):
        path.write_bytes(damaged)
        try:
            loaded = checkpoint.load(path)
        except CheckpointError:
            outcomes["CheckpointError"] += 1
            continue
        # a flip the format cannot see (e.g. in an unused zip field) must leave the content intact
        assert _same(state, loaded), f"mutation kind {kind} loaded a different state"
        outcomes["loaded equal"] += 1
    return outcomes


def test_fuzzed_checkpoints_raise_checkpoint_error_or_load_correctly(tmp_path):
    outcomes = _fuzz(tmp_path, 400, seed=15)
    assert sum(outcomes.values()) == 400 and outcomes["CheckpointError"] > 200


@pytest.mark.slow
def test_fuzzed_checkpoints_long(tmp_path):
    outcomes = _fuzz(tmp_path, 20000, seed=1515)
    assert sum(outcomes.values()) == 20000


def test_stale_temporaries_of_a_killed_writer_are_removed_on_the_next_save(tmp_path):
    target = tmp_path / "run.npz"
    stale = tmp_path / f".run.npz.{'a' * 32}.tmp"
    fresh = tmp_path / f".run.npz.{'b' * 32}.tmp"  # a live writer's, still being written
    other = tmp_path / f".other.npz.{'c' * 32}.tmp"  # another target's
    unrelated = tmp_path / ".run.npz.notes.tmp"  # not the writer's pattern
    for p in (stale, fresh, other, unrelated):
        p.write_bytes(b"partial")
    hour_ago = time.time() - 3600
    for p in (stale, other, unrelated):
        os.utime(p, (hour_ago, hour_ago))
    checkpoint.save({"a": 1}, target)
    assert not stale.exists() and fresh.exists() and other.exists() and unrelated.exists()
    assert checkpoint.load(target) == {"a": 1}


def _save_forever(path, first):
    """The child: save states first, first + 1, ... to `path` until killed."""
    step = first
    while True:
        checkpoint.save(_state(step), path)
        step += 1


@pytest.mark.parametrize("kills", [30])
def test_sigkill_during_saves_never_leaves_an_unloadable_file(tmp_path, kills):
    path = tmp_path / "ckpt.npz"
    rng = np.random.default_rng(7)
    last_epoch = -1
    for k in range(kills):
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            try:
                _save_forever(path, first=1000 * k)
            finally:
                os._exit(0)
        time.sleep(float(rng.uniform(0.0, 0.05)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if path.exists():
            loaded = checkpoint.load(path)  # never a half-written file
            assert _same(_state(loaded["epoch"]), loaded)
            last_epoch = loaded["epoch"]
    assert last_epoch >= 0
    leftovers = [p for p in tmp_path.iterdir() if p.name != "ckpt.npz"]
    checkpoint.save(_state(0), path)  # the next save clears temporaries older than a minute, not these young ones
    assert all(p.exists() for p in leftovers)
    assert all(dn_io._TEMPORARY.fullmatch(p.name) for p in leftovers)
