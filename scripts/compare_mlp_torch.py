"""Train the same MLPs with deepnotes and with PyTorch, same data, budget and seeds; compare test accuracy.

    .venv/bin/python scripts/compare_mlp_torch.py            # digits and MNIST-1D, 3 seeds each
    .venv/bin/python scripts/compare_mlp_torch.py --seeds 5 --tasks digits

Both frameworks get the same architecture, initialization scheme (PyTorch's
default for Linear), optimizer and hyperparameters, batch size, number of
epochs and train/test split; only the random draws differ.  The reported
number is the test accuracy after the last epoch (no early stopping on the
test set).  One BLAS/torch thread each, so the timings compare like with like.
PyTorch is needed only for this script (it is a test dependency).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.optim as optim
from deepnotes.data import DataLoader, get_dataset
from deepnotes.train import evaluate, fit


@dataclass
class Task:
    dataset: str
    widths: tuple  # layer sizes, input first
    optimizer: str  # "adam" or "adamw"
    lr: float
    weight_decay: float
    epochs: int
    batch_size: int


TASKS = {
    "digits": Task("digits", (64, 128, 128, 10), "adamw", 3e-3, 1e-2, 40, 64),
    "mnist1d": Task("mnist1d", (40, 512, 512, 10), "adam", 1e-3, 0.0, 100, 100),
}


def _deepnotes_mlp(widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _torch_mlp(widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def run_deepnotes(task, split, seed):
    dn.manual_seed(seed)
    model = _deepnotes_mlp(task.widths)
    make = optim.AdamW if task.optimizer == "adamw" else optim.Adam
    opt = make(model.parameters(), lr=task.lr, weight_decay=task.weight_decay)
    train_loader = DataLoader(split.train_dataset(), batch_size=task.batch_size, shuffle=True)
    test_loader = DataLoader(split.test_dataset(), batch_size=1000)
    fit(model, nn.functional.cross_entropy, opt, train_loader, epochs=task.epochs, progress=False)
    return evaluate(model, nn.functional.cross_entropy, test_loader)["accuracy"]


def run_torch(task, split, seed):
    torch.manual_seed(seed)
    model = _torch_mlp(task.widths)
    make = torch.optim.AdamW if task.optimizer == "adamw" else torch.optim.Adam
    opt = make(model.parameters(), lr=task.lr, weight_decay=task.weight_decay)
    data = torch.utils.data.TensorDataset(torch.from_numpy(split.x_train), torch.from_numpy(split.y_train))
    loader = torch.utils.data.DataLoader(data, batch_size=task.batch_size, shuffle=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(task.epochs):
        model.train()
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(split.x_test)).argmax(1).numpy()
    return float((pred == split.y_test).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{'task':<9} {'framework':<10} {'widths':<18} {'test accuracy (mean ± std)':<28} {'min..max':<15} s/run")
    with threadpool_limits(1):
        for name in args.tasks:
            task, split = TASKS[name], get_dataset(name)
            for framework, run in (("deepnotes", run_deepnotes), ("pytorch", run_torch)):
                accs, seconds = [], []
                for seed in range(args.seeds):
                    start = time.perf_counter()
                    accs.append(run(task, split, seed))
                    seconds.append(time.perf_counter() - start)
                a = 100 * np.array(accs)
                spread = f"{a.mean():6.2f} ± {a.std(ddof=1) if len(a) > 1 else 0.0:4.2f} %"
                print(f"{name:<9} {framework:<10} {'-'.join(map(str, task.widths)):<18} {spread:<28} "
                      f"{a.min():5.2f}..{a.max():5.2f}   {np.mean(seconds):6.1f}", flush=True)

if __name__ == "__main__":
    main()
