"""CNNs on MNIST-1D and digits, in deepnotes and in PyTorch with the same budget.

Prints test accuracy (mean and spread over seeds) and seconds per epoch for both
frameworks, interleaved seed by seed, one BLAS / torch thread each.

    .venv/bin/python scripts/cnn_results.py [--seeds 3] [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import data, optim

# Training budget per task, the same for both frameworks.
TASKS = {
    "mnist1d": dict(epochs=150, lr=1e-2, batch=100),
    "digits": dict(epochs=40, lr=2e-3, batch=64),
}


def mnist1d_cnn(nn):
    """The MNIST-1D paper's CNN shape: three strided 1-d convs (25 channels) and a linear head."""
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(125, 10),
    )


def digits_cnn(nn):
    """Two 3x3 convs, one 2x2 max pool, a 128-unit dense layer with dropout."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10),
    )


def load(task):
    if task == "mnist1d":
        split = data.load_mnist1d()
        return (split.x_train[:, None, :], split.y_train, split.x_test[:, None, :], split.y_test)
    split = data.load_digits(flatten=False)
    return split.x_train, split.y_train, split.x_test, split.y_test


def run_deepnotes(task, seed, cfg, arrays):
    x_train, y_train, x_test, y_test = arrays
    dn.manual_seed(seed)
    model = (mnist1d_cnn if task == "mnist1d" else digits_cnn)(nn)
    opt = optim.Adam(model.parameters(), lr=cfg["lr"])
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["epochs"])
    loader = data.DataLoader(data.TensorDataset(x_train, y_train), batch_size=cfg["batch"], shuffle=True)
    start = time.perf_counter()
    for _ in range(cfg["epochs"]):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        schedule.step()
    seconds = (time.perf_counter() - start) / cfg["epochs"]
    model.eval()
    with dn.no_grad():
        acc = float((model(dn.tensor(x_test)).argmax(1).numpy() == y_test).mean())
    return acc, seconds


def run_torch(task, seed, cfg, arrays):
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in arrays)
    torch.manual_seed(seed)
    model = (mnist1d_cnn if task == "mnist1d" else digits_cnn)(torch.nn)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["epochs"])
    gen = torch.Generator().manual_seed(seed)
    n = len(x_train)
    start = time.perf_counter()
    for _ in range(cfg["epochs"]):
        model.train()
        for idx in torch.randperm(n, generator=gen).split(cfg["batch"]):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
        schedule.step()
    seconds = (time.perf_counter() - start) / cfg["epochs"]
    model.eval()
    with torch.no_grad():
        acc = float((model(x_test).argmax(1) == y_test).float().mean())
    return acc, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a few epochs only (smoke test)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    threadpool_limits(1)
    for task, cfg in TASKS.items():
        cfg = dict(cfg, epochs=2) if args.quick else cfg
        arrays = load(task)
        results = {"deepnotes": [], "torch": []}
        for seed in range(args.seeds):
            results["deepnotes"].append(run_deepnotes(task, seed, cfg, arrays))
            results["torch"].append(run_torch(task, seed, cfg, arrays))
        line = [f"{task:<8} {cfg['epochs']} epochs, Adam lr {cfg['lr']} cosine, batch {cfg['batch']}:"]
        for fw, rows in results.items():
            accs = [100 * a for a, _ in rows]
            secs = [s for _, s in rows]
            line.append(f"  {fw:<9} test acc {statistics.mean(accs):.2f} +- {np.std(accs):.2f} % "
                        f"(min {min(accs):.2f}), {statistics.median(secs):.3f} s/epoch")
        ratio = statistics.median(s for _, s in results["torch"]) / statistics.median(s for _, s in results["deepnotes"])
        line.append(f"  speed ratio deepnotes/PyTorch (epochs per second): {ratio:.2f}")
        print("\n".join(line), flush=True)


if __name__ == "__main__":
    main()
