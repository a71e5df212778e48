"""Sequence-model results with deepnotes alone (inventory S1-S3, context for claim K27).

    .venv/bin/python scripts/sequence_results.py [--task adding|mnist1d|all] [--quick]

1. Adding problem, T = 50: an LSTM and a tanh RNN of the same size, trained
   the same way (Adam, gradient clipping), predict the sum of the two marked
   values from the last hidden state.  Solved = test MSE below 5% of the
   predict-the-mean baseline 1/6, i.e. < 0.0083.
2. MNIST-1D as a sequence: x (N, 40) read as 40 steps of 1 feature by a GRU,
   class from the last hidden state.  Target: >= 80% test accuracy (the
   MNIST-1D paper reports ~91% for its GRU).

Everything (layers, Adam, clipping, losses) is deepnotes; the script prints
per-epoch time and a summary, and is not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import optim
from deepnotes.data import load_mnist1d
from deepnotes.data.sequences import ADDING_BASELINE_MSE, adding_problem

RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class LastStateHead(nn.Module):
    """A recurrent layer (batch first) whose last hidden state feeds a Linear head."""

    def __init__(self, kind, input_size, hidden_size, out_features):
        super().__init__()
        self.rnn = RECURRENT[kind](input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, out_features)

    def forward(self, x):
        _, final = self.rnn(x)
        h_n = final[0] if isinstance(final, tuple) else final
        return self.head(h_n[-1])


def train(model, x, y, x_test, loss_fn, metric, *, epochs, batch_size, lr, clip, seed, log_every=1, stop=None):
    """Adam + gradient-norm clipping; returns per-epoch (train loss, test metric, seconds)."""
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        start, losses = time.perf_counter(), []
        order = rng.permutation(len(x))
        for i in range(0, len(x) - batch_size + 1, batch_size):
            idx = order[i : i + batch_size]
            loss = loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
        seconds = time.perf_counter() - start
        model.eval()
        with dn.no_grad():
            score = metric(model(dn.tensor(x_test)).data)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "test": float(score),
                        "seconds": seconds})
        if epoch % log_every == 0 or epoch == epochs:
            print(f"  epoch {epoch:3d}  train loss {np.mean(losses):.5f}  test {score:.5f}  {seconds:.2f} s",
                  flush=True)
        if stop is not None and stop(score):
            break
    return history


def adding(quick):
    T, hidden = 50, 64
    n_train, n_test = (2000, 500) if quick else (20000, 2000)
    epochs = 2 if quick else 15
    x, y = adding_problem(n_train, T, seed=0)
    x_test, y_test = adding_problem(n_test, T, seed=1)
    results = {}
    for kind in ("lstm", "rnn"):
        print(f"adding problem T={T}: {kind.upper()} hidden {hidden}", flush=True)
        dn.manual_seed(0)
        model = LastStateHead(kind, 2, hidden, 1)
        history = train(
            model, x, y[:, None], x_test,
            loss_fn=F.mse_loss,
            metric=lambda pred: np.mean((pred[:, 0] - y_test) ** 2),
            epochs=epochs, batch_size=50, lr=1e-3, clip=1.0, seed=0,
        )
        best = min(h["test"] for h in history)
        results[kind] = {
            "test_mse_final": history[-1]["test"], "test_mse_best": best,
            "fraction_of_baseline": history[-1]["test"] / ADDING_BASELINE_MSE,
            "solved": history[-1]["test"] < 0.05 * ADDING_BASELINE_MSE,
            "epochs": len(history), "steps": len(history) * (n_train // 50),
            "seconds_per_epoch": float(np.mean([h["seconds"] for h in history])),
            "history": history,
        }
    return results


def mnist1d(quick):
    data = load_mnist1d()
    x, x_test = data.x_train[:, :, None], data.x_test[:, :, None]
    if quick:
        x, y = x[:800], data.y_train[:800]
    else:
        y = data.y_train
    hidden, epochs = 128, (2 if quick else 60)
    print(f"MNIST-1D as a sequence: GRU hidden {hidden}, {len(x)} train, {len(x_test)} test", flush=True)
    dn.manual_seed(0)
    model = LastStateHead("gru", 1, hidden, 10)
    history = train(
        model, x, y, x_test,
        loss_fn=F.cross_entropy,
        metric=lambda logits: np.mean(logits.argmax(1) == data.y_test),
        epochs=epochs, batch_size=100, lr=3e-3, clip=1.0, seed=0, log_every=5,
    )
    return {"gru": {
        "test_accuracy_final": history[-1]["test"], "test_accuracy_best": max(h["test"] for h in history),
        "epochs": len(history), "seconds_per_epoch": float(np.mean([h["seconds"] for h in history])),
        "history": history,
    }}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=["adding", "mnist1d", "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny data, two epochs")
    parser.add_argument("--json", help="write the results (with per-epoch histories) to this file")
    args = parser.parse_args()
    results = {}
    with threadpool_limits(1):
        if args.task in ("adding", "all"):
            results["adding"] = adding(args.quick)
        if args.task in ("mnist1d", "all"):
            results["mnist1d"] = mnist1d(args.quick)
    print("\nsummary")
    for task, models in results.items():
        for kind, r in models.items():
            summary = {k: v for k, v in r.items() if k != "history"}
            print(f"  {task:8s} {kind:5s} " + ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
