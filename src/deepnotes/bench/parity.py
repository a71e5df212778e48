"""Accuracy parity: the same model, data, optimizer and budget in deepnotes and in PyTorch.

    deepnotes parity                       # the four tasks, 3 seeds each (several minutes)
    deepnotes parity --tasks mlp-digits --seeds 5 --json

`deepnotes bench` compares speed per step; this compares the end of training. Each task
builds one architecture from either framework's ``nn`` module (deepnotes follows PyTorch's
API, so one builder serves both), trains it with the same optimizer, schedule, batch size and
number of epochs on the same train/test split, and reports the test accuracy after the last
epoch (no early stopping on the test set) and the seconds per epoch, one BLAS / torch thread
each. Only the random draws (initialization, batch order) differ between the frameworks, so
the runs are not paired: the difference of the mean accuracies gets Welch's 95% interval.
An interval that contains 0 says the two implementations train alike at this budget.

Tasks (the MNIST-1D CNN is the shape of Greydanus 2020, "Scaling down deep learning"):

=============  ==============================  ===========================  ======  =====
task           model                           optimizer                    epochs  batch
=============  ==============================  ===========================  ======  =====
mlp-digits     MLP 64-128-128-10, ReLU         AdamW lr 3e-3, wd 1e-2       40      64
mlp-mnist1d    MLP 40-512-512-10, ReLU         Adam lr 1e-3                 100     100
cnn-digits     2 conv 3x3, max pool, dense     Adam lr 2e-3, cosine         40      64
cnn-mnist1d    3 strided conv1d (25 ch), dense Adam lr 1e-2, cosine         150     100
=============  ==============================  ===========================  ======  =====

PyTorch is a test / benchmark dependency: ``pip install 'deepnotes[bench]'``.
"""
from __future__ import annotations

import math
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ParityTask:
    dataset: str
    model: str  # a key of BUILDERS
    optimizer: str  # "adam" or "adamw"
    lr: float
    weight_decay: float
    epochs: int
    batch_size: int
    cosine: bool = False


TASKS = {
    "mlp-digits": ParityTask("digits", "mlp-digits", "adamw", 3e-3, 1e-2, 40, 64),
    "mlp-mnist1d": ParityTask("mnist1d", "mlp-mnist1d", "adam", 1e-3, 0.0, 100, 100),
    "cnn-digits": ParityTask("digits", "cnn-digits", "adam", 2e-3, 0.0, 40, 64, cosine=True),
    "cnn-mnist1d": ParityTask("mnist1d", "cnn-mnist1d", "adam", 1e-2, 0.0, 150, 100, cosine=True),
}


def _mlp(nn, widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


BUILDERS = {
    "mlp-digits": lambda nn: _mlp(nn, (64, 128, 128, 10)),
    "mlp-mnist1d": lambda nn: _mlp(nn, (40, 512, 512, 10)),
    "cnn-digits": lambda nn: nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10)),
    "cnn-mnist1d": lambda nn: nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(), nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(125, 10)),
}


def load_arrays(task: ParityTask, n_train: int | None = None):
    """(x_train, y_train, x_test, y_test) shaped for the task's model (images for the CNNs)."""
    from .. import data

    if task.dataset == "digits":
        split = data.load_digits(flatten=not task.model.startswith("cnn"))
        arrays = (split.x_train, split.y_train, split.x_test, split.y_test)
    else:
        split = data.load_mnist1d()
        x_train, x_test = split.x_train, split.x_test
        if task.model.startswith("cnn"):
            x_train, x_test = x_train[:, None, :], x_test[:, None, :]
        arrays = (x_train, split.y_train, x_test, split.y_test)
    if n_train is not None:
        arrays = (arrays[0][:n_train], arrays[1][:n_train], arrays[2], arrays[3])
    return arrays


def train_deepnotes(task: ParityTask, arrays, seed: int, epochs: int) -> tuple[float, float]:
    """Test accuracy after ``epochs`` and seconds per epoch, in deepnotes."""
    import deepnotes as dn
    from deepnotes import data, nn, optim

    x_train, y_train, x_test, y_test = arrays
    dn.manual_seed(seed)
    model = BUILDERS[task.model](nn)
    make = optim.AdamW if task.optimizer == "adamw" else optim.Adam
    opt = make(model.parameters(), lr=task.lr, weight_decay=task.weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if task.cosine else None
    loader = data.DataLoader(data.TensorDataset(x_train, y_train), batch_size=task.batch_size, shuffle=True)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        if schedule is not None:
            schedule.step()
    seconds = (time.perf_counter() - start) / epochs
    model.eval()
    with dn.no_grad():
        accuracy = float((model(dn.tensor(x_test)).argmax(1).numpy() == y_test).mean())
    return accuracy, seconds


def train_torch(task: ParityTask, arrays, seed: int, epochs: int) -> tuple[float, float]:
    """The same in PyTorch (its own shuffling generator, seeded with ``seed``)."""
    import torch

    x_train, y_train, x_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)
    torch.manual_seed(seed)
    model = BUILDERS[task.model](torch.nn)
    make = torch.optim.AdamW if task.optimizer == "adamw" else torch.optim.Adam
    opt = make(model.parameters(), lr=task.lr, weight_decay=task.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if task.cosine else None
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x_train), generator=generator).split(task.batch_size):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
        if schedule is not None:
            schedule.step()
    seconds = (time.perf_counter() - start) / epochs
    model.eval()
    with torch.no_grad():
        accuracy = float((model(x_test).argmax(1) == y_test).float().mean())
    return accuracy, seconds


def welch(a, b) -> tuple[float, float, float]:
    """mean(a) - mean(b) with Welch's 95% interval (unbounded with fewer than 2 runs per side)."""
    diff = float(np.mean(a) - np.mean(b))
    if len(a) < 2 or len(b) < 2:
        return diff, -math.inf, math.inf
    from scipy import stats

    if np.var(a) == 0 and np.var(b) == 0:
        return diff, diff, diff
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    return diff, float(ci.low), float(ci.high)


def run(names=None, seeds: int = 3, quick: bool = False, out=None) -> dict:
    """Train every task ``seeds`` times per framework, interleaved; print a table, return it.

    quick: 2 epochs on at most 500 training examples (a smoke run, not a comparison).
    """
    try:
        import torch
    except ImportError as exc:
        raise ImportError("deepnotes parity compares with PyTorch: pip install 'deepnotes[bench]'") from exc
    from threadpoolctl import threadpool_limits

    names = list(TASKS) if names is None else list(names)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ValueError(f"parity: unknown task {', '.join(unknown)}; available: {', '.join(TASKS)}")
    if seeds < 1:
        raise ValueError(f"parity: seeds must be >= 1, got {seeds}")
    out = sys.stdout if out is None else out
    torch.set_num_threads(1)
    results = {}
    print(f"{'task':<12} {'framework':<10} {'test accuracy % (mean ± sd)':<28} {'min..max':<14} s/epoch", file=out)
    with threadpool_limits(1):
        for name in names:
            task = TASKS[name]
            epochs = 2 if quick else task.epochs
            arrays = load_arrays(task, 500 if quick else None)
            runs = {"deepnotes": [], "pytorch": []}
            for seed in range(seeds):  # interleaved: a slow spell of the machine hits both
                runs["deepnotes"].append(train_deepnotes(task, arrays, seed, epochs))
                runs["pytorch"].append(train_torch(task, arrays, seed, epochs))
            row = {"epochs": epochs, "seeds": seeds}
            for framework, pairs in runs.items():
                acc = [100 * a for a, _ in pairs]
                row[framework] = {"accuracy": acc, "seconds_per_epoch": [s for _, s in pairs]}
                sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
                spread = f"{statistics.mean(acc):6.2f} ± {sd:5.2f}"
                print(f"{name:<12} {framework:<10} {spread:<28} {min(acc):5.2f}..{max(acc):5.2f}   "
                      f"{statistics.median(s for _, s in pairs):.3f}", file=out)
            diff, lo, hi = welch(row["deepnotes"]["accuracy"], row["pytorch"]["accuracy"])
            speed = (statistics.median(row["pytorch"]["seconds_per_epoch"])
                     / statistics.median(row["deepnotes"]["seconds_per_epoch"]))
            row.update(difference=diff, lo=lo if math.isfinite(lo) else None, hi=hi if math.isfinite(hi) else None,
                       speed_ratio=speed)
            print(f"{name:<12} deepnotes - PyTorch: {diff:+.2f} points [{lo:.2f}, {hi:.2f}] (Welch 95%); "
                  f"speed deepnotes / PyTorch {speed:.2f}", file=out, flush=True)
            results[name] = row
    return results
