"""Tests for deepnotes.train.callbacks: EarlyStopping (R4) and ModelCheckpoint."""
import numpy as np
import pytest

import deepnotes.nn as nn
import deepnotes.optim as optim
from deepnotes import train
from deepnotes.data import DataLoader, TensorDataset
from deepnotes.train import EarlyStopping, ModelCheckpoint, checkpoint, fit


class Scalar(nn.Module):
    """A model with one parameter, set to the epoch number so we can tell which weights were restored."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.zeros(1, np.float32))


def _drive(callback, values, key="val_loss", model=None):
    """Feed `values` as one epoch each, as fit does; returns the epochs that ran."""
    model = model or Scalar()
    callback.set_run(model=model, optimizer=optim.SGD(model.parameters(), lr=0.1))
    callback.on_train_begin({})
    ran = []
    for epoch, value in enumerate(values):
        model.w.data[:] = epoch
        ran.append(epoch)
        callback.on_epoch_end(epoch, {"epoch": epoch, key: value})
        if callback.stop_training:
            break
    callback.on_train_end({})
    return ran, model


@pytest.mark.covers("R4")
@pytest.mark.parametrize("values, patience, ran, best_epoch", [
    ([1.0, 0.8, 0.9, 0.85, 0.81, 0.7], 3, [0, 1, 2, 3, 4], 1),  # 3 epochs without improvement: stop
    ([1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.8], 3, [0, 1, 2, 3, 4, 5, 6], 4),  # improvement resets the count
    ([1.0, 1.0, 1.0], 1, [0, 1], 0),  # equal is not better
    ([3.0, 2.0, 1.0], 1, [0, 1, 2], 2),  # always improving: never stops
    ([float("nan"), 1.0, float("nan"), float("nan"), 0.5], 2, [0, 1, 2, 3], 1),  # NaN is never an improvement
])
def test_early_stopping_stops_after_patience_epochs_without_improvement(values, patience, ran, best_epoch):
    stopper = EarlyStopping(patience=patience, restore_best_weights=True)
    epochs, model = _drive(stopper, values)
    assert epochs == ran
    assert stopper.best_epoch == best_epoch
    assert stopper.stopped_epoch == (ran[-1] if len(ran) < len(values) else None)
    assert model.w.numpy()[0] == best_epoch  # the best epoch's weights are back


@pytest.mark.covers("R4")
def test_early_stopping_min_delta_and_max_mode():
    stopper = EarlyStopping(monitor="val_acc", mode="max", patience=2, min_delta=0.05)
    epochs, model = _drive(stopper, [0.5, 0.54, 0.53, 0.7], key="val_acc")
    assert epochs == [0, 1, 2] and stopper.best == 0.5  # +0.04 is within min_delta: no improvement
    assert model.w.numpy()[0] == 2  # without restore_best_weights the last weights stay


def test_early_stopping_min_delta_counts_a_large_enough_gain():
    stopper = EarlyStopping(monitor="val_acc", mode="max", patience=2, min_delta=0.05)
    epochs, _ = _drive(stopper, [0.5, 0.56, 0.6, 0.6, 0.7], key="val_acc")
    assert epochs == [0, 1, 2, 3] and stopper.best_epoch == 1


@pytest.mark.covers("R4")
def test_early_stopping_restores_best_weights_inside_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4)).astype(np.float32)
    y = rng.integers(0, 2, 40)  # random labels: validation loss rises as the model memorizes
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 2))
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    snapshots = []

    class Snapshot(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append([p.numpy().copy() for p in self.model.parameters()])

    val = DataLoader(TensorDataset(x[30:], y[30:]), batch_size=10)
    history = fit(model, nn.functional.cross_entropy, optim.Adam(model.parameters(), lr=0.05),
                  DataLoader(TensorDataset(x[:30], y[:30]), batch_size=10), val_loader=val, epochs=100,
                  callbacks=[Snapshot(), stopper], progress=False)
    best = int(np.argmin(history.val_loss))
    assert len(history) == best + 3  # stopped two epochs after the best one
    assert stopper.best == history.val_loss[best]
    for p, saved in zip(model.parameters(), snapshots[best]):
        np.testing.assert_array_equal(p.numpy(), saved)
    assert train.evaluate(model, nn.functional.cross_entropy, val)["loss"] == pytest.approx(history.val_loss[best])


def test_monitoring_a_missing_quantity_explains_why():
    with pytest.raises(KeyError, match="pass a val_loader"):
        _drive(EarlyStopping(), [1.0], key="train_loss")
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="best")


def test_model_checkpoint_writes_only_on_improvement(tmp_path, monkeypatch):
    writes = []
    real_save = checkpoint.save
    monkeypatch.setattr(checkpoint, "save", lambda state, path: writes.append(state["epoch"]) or real_save(state, path))
    saver = ModelCheckpoint(tmp_path / "best.npz")
    _drive(saver, [1.0, 0.8, 0.9, 0.7, 0.7, 0.75])
    assert writes == [1, 2, 4]  # completed epochs at the improvements
    state = checkpoint.load(tmp_path / "best.npz")
    assert state["epoch"] == 4 and state["val_loss"] == 0.7
    np.testing.assert_array_equal(state["model"]["w"], [3.0])
    assert {"model", "optimizer", "rng", "epoch"} <= set(state)
    restored = Scalar()
    assert train.restore(state, restored) == 4 and restored.w.numpy()[0] == 3.0


def test_model_checkpoint_every_epoch_with_a_formatted_path(tmp_path):
    saver = ModelCheckpoint(tmp_path / "ckpt" / "e{epoch:02d}-{val_loss:.1f}.npz", save_best_only=False)
    _drive(saver, [1.0, 2.0, 3.0])
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["e01-1.0.npz", "e02-2.0.npz", "e03-3.0.npz"]
    assert saver.saved_paths[-1] == tmp_path / "ckpt" / "e03-3.0.npz"


def test_model_checkpoint_inside_fit_saves_a_resumable_state(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    saver = ModelCheckpoint(tmp_path / "best.npz", monitor="train_loss")
    history = fit(model, nn.functional.cross_entropy, opt, loader, epochs=3, callbacks=[saver], progress=False)
    state = checkpoint.load(tmp_path / "best.npz")
    assert state["epoch"] == int(np.argmin(history.train_loss)) + 1
    assert state["loader"]["generator"]["bit_generator"] == "PCG64"
    assert state["optimizer"]["param_groups"][0]["momentum"] == 0.9
