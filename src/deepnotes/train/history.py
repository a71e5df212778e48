"""`History`: what `fit` measured, one value per epoch for each quantity."""
from __future__ import annotations

import math
from collections import namedtuple

Best = namedtuple("Best", ["epoch", "value"])
# quantities where larger is better (`best` maximizes them); everything else (losses) is minimized
HIGHER_IS_BETTER = ("acc", "f1", "auc", "precision", "recall", "average_precision")


class History:
    """Per-epoch lists: `epoch`, `train_loss`, `train_acc`, `val_loss`, `val_acc`, `lr`, `seconds`,
    and `train_<name>` / `val_<name>` for every further metric given to `fit` (`val_f1_macro`, `val_auc`).

    A quantity that was not measured (no validation loader, no accuracy
    metric) has an empty list.  Read them as attributes (`history.val_loss`)
    or items (`history["val_loss"]`).

    Example:
        >>> h = History()
        >>> h.append({"epoch": 0, "val_loss": 0.9}); h.append({"epoch": 1, "val_loss": 0.7})
        >>> h.val_loss, h.best("val_loss")
        ([0.9, 0.7], Best(epoch=1, value=0.7))
    """

    KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")

    def __init__(self):
        self.data = {key: [] for key in self.KEYS}

    def append(self, logs):
        """Record one epoch's logs (a dict of numbers)."""
        for key, value in logs.items():
            self.data.setdefault(key, []).append(value)

    def __getattr__(self, name):
        data = self.__dict__.get("data")
        if data is not None and name in data:
            return data[name]
        measured = sorted(k for k, v in (data or {}).items() if v)
        raise AttributeError(f"History has no quantity {name!r}; it has {measured}")

    def __getitem__(self, key):
        return self.data[key]

    def __contains__(self, key):
        return bool(self.data.get(key))

    def __len__(self):
        return len(self.data["epoch"])

    def to_dict(self):
        """A plain dict of lists (JSON-serializable)."""
        return {key: list(values) for key, values in self.data.items()}

    @classmethod
    def from_dict(cls, data):
        history = cls()
        for key, values in data.items():
            history.data[key] = list(values)
        return history

    def best(self, key, mode=None):
        """The epoch and value of the best `key`: the largest for accuracies, F1, AUC, precision and
        recall (`mode='max'`), else the smallest."""
        values = self.data.get(key)
        if not values:
            raise KeyError(f"History.best: no values recorded for {key!r}")
        if mode is None:
            mode = "max" if any(word in key for word in HIGHER_IS_BETTER) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"History.best: mode must be 'min' or 'max', got {mode!r}")
        sign = 1.0 if mode == "min" else -1.0
        # NaN (a diverged epoch) never counts as best
        i = min(range(len(values)), key=lambda j: math.inf if math.isnan(values[j]) else sign * values[j])
        epochs = self.data["epoch"]
        return Best(epochs[i] if i < len(epochs) else i, values[i])

    def __repr__(self):
        measured = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.data.items() if v and k != "epoch")
        return f"History(epochs={len(self)}{', last: ' + measured if measured else ''})"
