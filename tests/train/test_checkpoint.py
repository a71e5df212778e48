"""Tests for deepnotes.train.checkpoint: round trips, the file format, atomic writes, clear errors, exact resuming."""
import json
import os
import zipfile

import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.optim as optim
from deepnotes import train
from deepnotes.data import DataLoader, TensorDataset
from deepnotes.train import CheckpointError, checkpoint


def _nested_state():
    return {
        "weights": {"0.weight": dn.randn(3, 2), "0.bias": np.arange(3, dtype=np.float64)},
        "state": {0: {"step": 7, "exp_avg": np.ones((2, 2), np.float32)}, 1: {"step": np.int64(3)}},
        "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False, "name": None}],
        "dtypes": [np.zeros(0, np.int8), np.array(True), np.full((2,), np.nan, np.float16), np.array(["a", "bé"])],
        "scalars": (np.float32(1.5), np.bool_(True), 2**100, -0.0, float("inf"), "ünïcode"),
        "empty": {},
    }


def _assert_same(a, b, where="state"):
    if isinstance(a, dn.Tensor):
        a = a.numpy()
    if isinstance(a, (np.ndarray, np.generic)):
        assert type(b) is type(a) or isinstance(a, np.ndarray), f"{where}: {type(b)} != {type(a)}"
        assert np.asarray(b).dtype == np.asarray(a).dtype and np.shape(b) == np.shape(a), where
        np.testing.assert_array_equal(b, a, err_msg=where)
    elif isinstance(a, dict):
        assert list(b) == list(a), f"{where}: keys {list(b)} != {list(a)}"
        for k in a:
            _assert_same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert type(b) is type(a) and len(b) == len(a), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}/{i}")
    else:
        assert type(b) is type(a) and (b == a or (a != a and b != b)), f"{where}: {b!r} != {a!r}"


def test_nested_state_round_trips_exactly(tmp_path):
    state = _nested_state()
    checkpoint.save(state, tmp_path / "ckpt.npz")
    loaded = checkpoint.load(tmp_path / "ckpt.npz")
    _assert_same(state, loaded)
    assert isinstance(loaded["weights"]["0.weight"], np.ndarray)  # tensors come back as arrays
    assert list(loaded["state"]) == [0, 1]  # int keys stay ints


def test_file_is_one_plain_npz_with_readable_keys_and_a_json_header(tmp_path):
    path = tmp_path / "ckpt.npz"
    checkpoint.save(_nested_state(), path)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]
    with np.load(path, allow_pickle=False) as npz:
        assert {"weights/0.weight", "state/0/exp_avg", "__deepnotes__"} <= set(npz.files)
        header = json.loads(npz["__deepnotes__"].tobytes())
    assert header["magic"] == "deepnotes-checkpoint" and header["version"] == checkpoint.VERSION


def test_file_permissions_follow_the_umask(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    checkpoint.save({"a": 1}, tmp_path / "c.npz")
    assert (tmp_path / "c.npz").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("bad, message", [
    ({"x": {1, 2}}, "set at x"),
    ({"x": [np.array([object()])]}, "x/0 has dtype object"),
    ({(1, 2): 3}, "dict keys"),
    ({True: 3}, "dict keys"),
])
def test_unsupported_values_are_refused_by_path(tmp_path, bad, message):
    with pytest.raises(TypeError, match=message):
        checkpoint.save(bad, tmp_path / "c.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_crash_before_the_rename_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    checkpoint.save({"epoch": 1, "w": np.zeros(4)}, path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        checkpoint.save({"epoch": 2, "w": np.ones(4)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no partial temporary file left
    assert checkpoint.load(path)["epoch"] == 1


def test_a_crash_while_writing_leaves_no_partial_file(tmp_path, monkeypatch):
    def half_write(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", half_write)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save({"w": np.ones(4)}, tmp_path / "ckpt.npz")
    assert list(tmp_path.iterdir()) == []


def _valid_file(tmp_path):
    path = tmp_path / "good.npz"
    checkpoint.save({"w": np.arange(1000, dtype=np.float64), "epoch": 3}, path)
    return path


def _corrupt_middle(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 16] = b"\xff" * 16  # inside the array's bytes: a CRC mismatch
    path.write_bytes(bytes(data))


def _write_header(path, header):
    np.savez(path, __deepnotes__=np.frombuffer(json.dumps(header).encode(), np.uint8))


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(_valid_file(p.parent).read_bytes()[:700]), "truncated, corrupted"),
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)), "cannot be read"),
    (lambda p: p.write_bytes(b""), "cannot be read"),
    (lambda p: np.savez(p, w=np.zeros(3)), "without a deepnotes header"),
    (lambda p: np.save(p.with_suffix(".npy"), np.zeros(3)) or p.with_suffix(".npy").rename(p), "single .npy"),
    (lambda p: _write_header(p, {"magic": "something-else", "version": 1, "tree": {"value": 1}}), "wrong magic"),
    (lambda p: _write_header(p, {"magic": "deepnotes-checkpoint", "version": 99, "tree": {"value": 1}}), "newer"),
    (lambda p: _write_header(p, {"magic": "deepnotes-checkpoint", "version": 1,
                                 "tree": {"array": "w", "dtype": "<f8", "shape": [3]}}), "'w' named in the header"),
    (lambda p: p.mkdir(), "no such file"),
])
def test_bad_files_raise_a_clear_checkpoint_error(tmp_path, make, message):
    path = tmp_path / "target.npz"
    make(path)
    with pytest.raises(CheckpointError, match=message) as info:
        checkpoint.load(path)
    assert isinstance(info.value, ValueError)
    assert "target.npz" in str(info.value)


def test_corrupted_array_bytes_are_detected(tmp_path):
    path = _valid_file(tmp_path)
    _corrupt_middle(path)
    with pytest.raises(CheckpointError):
        checkpoint.load(path)
    with pytest.raises(zipfile.BadZipFile):  # what the error replaces
        with np.load(path) as npz:
            npz["w"]


def test_the_first_half_of_a_valid_file_is_refused(tmp_path):
    path = _valid_file(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        checkpoint.load(path)


# ------------------------------------------------------------------ model, optimizer and exact resuming


def _mlp(dropout=0.0):
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def _data(n=96):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return TensorDataset(x, y)


def test_model_and_optimizer_state_round_trip_into_fresh_objects(tmp_path):
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    train.fit(model, nn.functional.cross_entropy, opt, DataLoader(_data(), batch_size=32), epochs=1, progress=False)
    checkpoint.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c.npz")
    state = checkpoint.load(tmp_path / "c.npz")
    fresh = _mlp()
    fresh_opt = optim.Adam(fresh.parameters(), lr=1.0)
    fresh.load_state_dict(state["model"])
    fresh_opt.load_state_dict(state["optimizer"])
    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
        assert q.dtype == np.float32
    _assert_same(opt.state_dict(), fresh_opt.state_dict())


@pytest.mark.covers("E5", "O1")
@pytest.mark.parametrize("make_optimizer", [
    lambda params: optim.SGD(params, lr=0.05, momentum=0.9),
    lambda params: optim.Adam(params, lr=1e-2),
], ids=["sgd_momentum", "adam"])
def test_resumed_run_repeats_the_uninterrupted_losses_exactly(tmp_path, make_optimizer):
    def build():
        model = _mlp(dropout=0.2)  # dropout masks draw from the global generator: it must be restored too
        opt = make_optimizer(model.parameters())
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        loader = DataLoader(_data(), batch_size=16, shuffle=True)
        return model, opt, sched, loader

    loss_fn = nn.functional.cross_entropy
    dn.manual_seed(0)
    model, opt, sched, loader = build()
    first = train.fit(model, loss_fn, opt, loader, epochs=2, scheduler=sched, progress=False)
    train.save(train.resume_state(model, opt, epoch=2, scheduler=sched, loader=loader), tmp_path / "run.npz")
    rest = train.fit(model, loss_fn, opt, loader, epochs=4, scheduler=sched, progress=False, start_epoch=2)

    dn.manual_seed(123)  # a different process: other initial weights, other shuffling seed
    model2, opt2, sched2, loader2 = build()
    start = train.restore(tmp_path / "run.npz", model2, opt2, sched2, loader2)
    assert start == 2
    resumed = train.fit(model2, loss_fn, opt2, loader2, epochs=4, scheduler=sched2, progress=False, start_epoch=start)

    assert len(first) == 2 and resumed.epoch == rest.epoch == [2, 3]
    assert resumed.train_loss == rest.train_loss  # exact equality
    assert resumed.lr == rest.lr
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_restore_reports_missing_parts(tmp_path):
    model = _mlp()
    train.save(train.resume_state(model, epoch=5), tmp_path / "c.npz")
    assert train.restore(tmp_path / "c.npz", _mlp()) == 5
    with pytest.raises(KeyError, match="no optimizer state"):
        train.restore(tmp_path / "c.npz", _mlp(), optimizer=optim.SGD(model.parameters(), lr=0.1))
