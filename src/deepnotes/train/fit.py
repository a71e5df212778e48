"""`fit` and `evaluate`: the standard supervised training loop, and accuracy.

One training step is the five lines every framework shares:
`optimizer.zero_grad(); out = model(x); loss = loss_fn(out, y);
loss.backward(); optimizer.step()`.  `fit` repeats it over the batches of
`train_loader` for each epoch, measures the validation set after each epoch,
steps the learning-rate scheduler once per epoch, runs the callbacks, and
returns a `History` of per-epoch numbers.
"""
from __future__ import annotations

import inspect
import time

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..errors import EmptyInputError
from .history import History


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(output, target):
    """The fraction of correct predictions in a batch.

    Conventions:
        - class scores `output: (N, C, ...)` with class indices `target: (N, ...)`:
          the prediction is the argmax over dim 1;
        - scores and one-hot or soft targets of the same shape `(N, C)`, C > 1:
          argmax of both;
        - binary logits `output: (N,)` or `(N, 1)` with `target: (N,)` or
          `(N, 1)` of 0/1: the prediction is `output > 0` (probability > 0.5)
          and the label is `target > 0.5`.
    """
    out, tgt = _array(output), _array(target)
    binary_shapes = {(out.shape[0],), (out.shape[0], 1)} if out.ndim else set()
    if out.ndim == tgt.ndim + 1 and out.shape[1] > 1 and out.shape[:1] + out.shape[2:] == tgt.shape:
        correct = out.argmax(axis=1) == tgt
    elif out.shape == tgt.shape and out.ndim >= 2 and out.shape[1] > 1:
        correct = out.argmax(axis=1) == tgt.argmax(axis=1)
    elif out.shape in binary_shapes and tgt.shape in binary_shapes:
        correct = (out.reshape(-1) > 0) == (tgt.reshape(-1) > 0.5)
    else:
        raise ValueError(
            f"accuracy: cannot match output of shape {out.shape} with target of shape {tgt.shape}; expected "
            "class scores (N, C) with labels (N,), or binary logits (N,) / (N, 1) with 0/1 labels"
        )
    return float(correct.mean())


def _resolve_metrics(metrics):
    """[(name, metric)]: 'accuracy' (or 'acc') is logged as *_acc; a streaming metric's name (see
    `deepnotes.metrics.streaming.NAMES`: 'f1_macro', 'auc', ...) gives a fresh `Metric`; a callable
    `(output, target) -> float` is averaged over batches and logged under its __name__."""
    from ..metrics import streaming

    resolved = []
    for metric in metrics or ():
        if metric in ("accuracy", "acc"):
            resolved.append(("acc", accuracy))
        elif isinstance(metric, str) and metric in streaming.NAMES:
            resolved.append((metric, streaming.Metric.from_name(metric)))
        elif callable(metric):
            resolved.append((metric.__name__, metric))
        else:
            raise ValueError(f"fit: unknown metric {metric!r}; use 'accuracy', one of "
                             f"{sorted(streaming.NAMES)} or a function (output, target) -> float")
    return resolved


def _unpack(batch):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    raise ValueError(
        f"fit: expected each batch to be a pair (inputs, targets), got {type(batch).__name__}"
        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
    )


class _Mean:
    """Sample-weighted means of the loss and the per-batch metrics over an epoch; streaming metrics
    (F1, AUC, ...) accumulate the whole epoch and are computed from it at the end."""

    def __init__(self, metric_fns):
        self.metric_fns, self.count, self.loss_sum = metric_fns, 0, 0.0
        self.metric_sums = {name: 0.0 for name, fn in metric_fns if not hasattr(fn, "compute")}
        for _, fn in metric_fns:
            if hasattr(fn, "compute"):
                fn.reset()

    def update(self, loss, output, target, n):
        self.count += n
        if loss is not None:
            self.loss_sum += loss * n
        for name, fn in self.metric_fns:
            if hasattr(fn, "compute"):
                fn.update(output, target)
            else:
                self.metric_sums[name] += fn(output, target) * n

    @property
    def loss(self):
        return self.loss_sum / max(self.count, 1)

    def metrics(self, running=False):
        """Every metric's value; with `running`, only those cheap to compute after every batch."""
        values = {}
        for name, fn in self.metric_fns:
            if not hasattr(fn, "compute"):
                values[name] = self.metric_sums[name] / max(self.count, 1)
            elif not running or fn.running:
                values[name] = fn.compute()
        return values


def evaluate(model, loss_fn, loader, metrics=("accuracy",)):
    """The mean loss and metrics of `model` over `loader`, without gradients, in eval mode.

    Every module's train/eval flag is put back afterwards.

    Returns:
        `{"loss": float, "accuracy": float}` (one key per metric; "loss" only with a `loss_fn`).
    """
    metric_fns = _resolve_metrics(metrics)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    meter = _Mean(metric_fns)
    try:
        with no_grad():
            for batch in loader:
                x, y = _unpack(batch)
                out = model(x)
                loss = loss_fn(out, y).item() if loss_fn is not None else None
                meter.update(loss, out, y, len(_array(y)))
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    if meter.count == 0:  # a mean over nothing would read as loss 0.0, a perfect model
        raise EmptyInputError(f"evaluate: the loader yielded no examples (loader {type(loader).__name__}, "
                              f"len {len(loader) if hasattr(loader, '__len__') else 'unknown'}); expected at least one")
    results = {"loss": meter.loss} if loss_fn is not None else {}
    for name, value in meter.metrics().items():
        results["accuracy" if name == "acc" else name] = value
    return results


def _step_scheduler(scheduler, logs):
    """`scheduler.step()`, or `step(metric)` for a scheduler that needs one (ReduceLROnPlateau)."""
    required = [p for p in inspect.signature(scheduler.step).parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if required:
        scheduler.step(logs.get("val_loss", logs["train_loss"]))
    else:
        scheduler.step()


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=1, callbacks=(), metrics=("accuracy",),
        scheduler=None, progress=True, start_epoch=0):
    """Train `model` for epochs `start_epoch, ..., epochs - 1`.

    Args:
        model: a `Module` mapping a batch of inputs to outputs.
        loss_fn: `(output, target) -> scalar Tensor` with mean reduction
            (e.g. `nn.CrossEntropyLoss()`).
        optimizer: an optimizer over `model.parameters()`.
        train_loader: yields `(inputs, targets)` batches (a `DataLoader`).
        val_loader: measured with `evaluate` after every epoch, if given.
        epochs: the epoch to stop at: the total length of the run, counting
            the `start_epoch` epochs already done (as Keras' `epochs` and
            `initial_epoch`).
        callbacks: `Callback`s (`EarlyStopping`, `ModelCheckpoint`, ...).
        metrics: `"accuracy"`, streaming metrics by name (`"f1_macro"`,
            `"auc"`, `"balanced_accuracy"`, `"minority_recall"`, ...; computed
            on the whole epoch, see `deepnotes.metrics.streaming`), and/or
            functions `(output, target) -> float` (averaged over batches).
        scheduler: a learning-rate scheduler, stepped once after every epoch
            (with the validation loss, else the training loss, if its `step`
            needs a metric).
        progress: a tqdm progress bar per epoch with loss, accuracy and items/s.
        start_epoch: the number of epochs already done (when resuming).

    Returns:
        A `History`: per epoch `train_loss` and `train_acc` (means over the
        epoch's batches, weighted by batch size, measured while the weights
        change), `val_loss` and `val_acc`, `lr` (the learning rate of the first
        parameter group during the epoch) and `seconds`; each further metric
        as `train_<name>` and `val_<name>` (e.g. `val_f1_macro`, `val_auc`).

    Resuming a run exactly::

        # every few epochs (or with ModelCheckpoint):
        train.save(train.resume_state(model, optimizer, epoch, scheduler, loader), "run.npz")
        # later, in a new process: build model, optimizer, scheduler and loader as before, then
        start = train.restore("run.npz", model, optimizer, scheduler, loader)
        fit(model, loss_fn, optimizer, loader, epochs=total_epochs, start_epoch=start)

    The global RNG (init, dropout) and the loader's shuffling generator are
    restored with the weights, so the resumed epochs repeat the uninterrupted
    run's losses exactly.
    """
    metric_fns = _resolve_metrics(metrics)
    history = History()
    callbacks = list(callbacks)
    for cb in callbacks:
        cb.set_run(model=model, optimizer=optimizer, scheduler=scheduler, train_loader=train_loader, history=history)
        cb.on_train_begin({})
    for epoch in range(start_epoch, epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        logs = _train_epoch(model, loss_fn, optimizer, train_loader, metric_fns, callbacks, epoch, epochs,
                            val_loader, metrics, progress)
        history.append(logs)
        if scheduler is not None:
            _step_scheduler(scheduler, logs)
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        if any(cb.stop_training for cb in callbacks):
            break
    for cb in callbacks:
        cb.on_train_end({"history": history})
    return history


def _train_epoch(model, loss_fn, optimizer, loader, metric_fns, callbacks, epoch, epochs, val_loader, metrics,
                 progress):
    """One pass over `loader` with an optimizer step per batch, then validation; returns the epoch's logs."""
    model.train()
    lr = float(optimizer.param_groups[0]["lr"])
    meter = _Mean(metric_fns)
    start = time.perf_counter()
    total = len(loader) if hasattr(loader, "__len__") else None
    from tqdm import tqdm  # deferred: tqdm loads ~80 modules (5 MB), only a fit() call draws bars

    bar = tqdm(total=total, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", disable=not progress,
               dynamic_ncols=True)
    with bar:
        for i, batch in enumerate(loader):
            x, y = _unpack(batch)
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            value, n = loss.item(), len(_array(y))
            meter.update(value, out, y, n)
            if not bar.disable:
                postfix = {"loss": f"{meter.loss:.4f}",
                           **{k: f"{v:.3f}" for k, v in meter.metrics(running=True).items()},
                           "items/s": f"{meter.count / (time.perf_counter() - start):.0f}"}
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
            for cb in callbacks:
                cb.on_batch_end(i, {"loss": value, "size": n})
        if meter.count == 0:
            raise EmptyInputError(f"fit: train_loader yielded no examples in epoch {epoch + 1} (loader "
                                  f"{type(loader).__name__}, len {total}); expected at least one batch")
        logs = {"epoch": epoch, "train_loss": meter.loss}
        logs.update({f"train_{name}": value for name, value in meter.metrics().items()})
        if val_loader is not None:
            results = evaluate(model, loss_fn, val_loader, metrics)
            logs.update({f"val_{'acc' if k == 'accuracy' else k}": v for k, v in results.items()})
        logs["lr"] = lr
        logs["seconds"] = time.perf_counter() - start
        if not bar.disable:
            postfix = {k: f"{v:.4f}" for k, v in logs.items() if k.startswith(("train_", "val_"))}
            bar.set_postfix({**postfix, "items/s": f"{meter.count / logs['seconds']:.0f}"})
    return logs
