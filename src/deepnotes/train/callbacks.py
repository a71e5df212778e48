"""Callbacks: code that `fit` runs at fixed points of training (early stopping R4, checkpoints).

`fit` gives each callback the objects of the run (`model`, `optimizer`,
`scheduler`, `train_loader`, `history`) before `on_train_begin`, then calls
the hooks.  A callback stops training by setting `self.stop_training = True`;
`fit` checks the flag after every `on_epoch_end`.

The epoch logs passed to `on_epoch_end` hold the `History` keys of that
epoch: `epoch`, `train_loss`, `train_acc`, `val_loss`, `val_acc`, `lr`, `seconds`.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import checkpoint


class Callback:
    """Base class: every hook does nothing."""

    model = optimizer = scheduler = train_loader = history = None
    stop_training = False

    def set_run(self, model=None, optimizer=None, scheduler=None, train_loader=None, history=None):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.train_loader, self.history = train_loader, history

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        """`logs`: `loss` (the batch's loss) and `size` (its number of samples)."""

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class _Monitor:
    """Tracks the best value of one logged quantity: `current` improves on `best` by more than `min_delta`."""

    def __init__(self, owner, monitor, mode, min_delta):
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', got {mode!r}")
        self.owner, self.monitor, self.mode, self.min_delta = owner, monitor, mode, abs(float(min_delta))
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs):
        if logs is None or self.monitor not in logs:
            available = sorted(logs or {})
            raise KeyError(f"{self.owner}: monitored quantity {self.monitor!r} is not in the epoch logs {available}"
                           + (" (pass a val_loader to fit to get val_*)" if self.monitor.startswith("val_") else ""))
        return float(logs[self.monitor])

    def improved(self, current):
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs (inventory R4).

    Early stopping uses the validation curve as a regularizer: the weights
    at the epoch with the best validation score generalize better than those
    after training to convergence on the training set.

    Args:
        monitor: the logged quantity to watch (`val_loss`, `val_acc`, ...).
        mode: `'min'` (a loss) or `'max'` (an accuracy).
        patience: epochs without improvement tolerated before stopping.
        min_delta: an improvement must beat the best value by more than this.
        restore_best_weights: at the end of training, load the weights of the
            best epoch back into the model (whether training stopped early or
            ran all its epochs).

    Attributes:
        best, best_epoch: the best value and its epoch.
        stopped_epoch: the epoch after which training stopped (None if it did not).
    """

    def __init__(self, monitor="val_loss", mode="min", patience=5, min_delta=0.0, restore_best_weights=False):
        self._tracker = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.monitor, self.mode, self.patience = monitor, mode, int(patience)
        self.restore_best_weights = restore_best_weights
        self._reset()

    def _reset(self):
        self._tracker.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.best_epoch, self.stopped_epoch, self.best_weights = 0, None, None, None
        self.stop_training = False

    @property
    def best(self):
        return self._tracker.best

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = self._tracker.value(logs)
        if self._tracker.improved(current):
            self._tracker.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: np.array(v._data, copy=True) for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch, self.stop_training = epoch, True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the training state (`checkpoint.resume_state`) after an epoch, by default only when `monitor` improves.

    Args:
        path: the checkpoint file; may contain `{epoch}` (1-based, the number
            of completed epochs) and log keys, e.g. `"ckpt/e{epoch:03d}.npz"`.
        monitor, mode: the quantity that decides what is best (as `EarlyStopping`).
        save_best_only: write only on improvement; with `False`, every epoch.

    The file holds `model`, `optimizer`, `scheduler`, `loader`, `rng` and `epoch`
    (completed epochs) and the monitored value; `checkpoint.restore` reads it back.

    Attributes:
        best: the best monitored value so far; saved_paths: every file written.
    """

    def __init__(self, path, monitor="val_loss", mode="min", save_best_only=True):
        self._tracker = _Monitor("ModelCheckpoint", monitor, mode, 0.0)
        self.path, self.monitor, self.save_best_only = str(path), monitor, save_best_only
        self.saved_paths = []

    @property
    def best(self):
        return self._tracker.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = self._tracker.value(logs)
            if not self._tracker.improved(current):
                return
            self._tracker.best = current
        path = Path(self.path.format(**{**logs, "epoch": epoch + 1}))
        loader = self.train_loader if hasattr(self.train_loader, "state_dict") else None
        state = checkpoint.resume_state(
            self.model, self.optimizer, epoch=epoch + 1, scheduler=self.scheduler, loader=loader,
        )
        if self.monitor in logs:
            state[self.monitor] = float(logs[self.monitor])
        checkpoint.save(state, path)
        self.saved_paths.append(path)
