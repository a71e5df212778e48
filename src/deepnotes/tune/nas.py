"""A small architecture search (AutoML) with a multi-objective report: accuracy vs size vs latency.

The searchers of `deepnotes.tune` run over an architecture space -- depth, width, the
normalization layer, the activation -- and each trial reports its validation accuracy, its
parameter count and its measured inference latency. No single "best" exists when smaller is
also better: the answer is the Pareto front, the architectures no other one beats on every
objective at once (a smaller model at equal accuracy is the usual find; Tan & Le 2019 and
Elsken, Metzen & Hutter 2019 survey the field).
"""
from __future__ import annotations

import time

import numpy as np

from .space import choice, loguniform, randint


def architecture_space():
    """depth 1-3 hidden layers, width 8-256 (log), norm none | batchnorm | layernorm, activation, lr."""
    return {"depth": randint(1, 4), "width": randint(8, 257, log=True),
            "norm": choice(["none", "batchnorm", "layernorm"]), "activation": choice(["ReLU", "GELU", "Tanh"]),
            "lr": loguniform(1e-3, 3e-2)}


def build(config, in_features, n_classes):
    """The MLP of an architecture config: [Linear, norm?, activation] x depth, then a Linear head."""
    import deepnotes.nn as nn

    layers, width = [], in_features
    for _ in range(int(config["depth"])):
        layers.append(nn.Linear(width, int(config["width"])))
        width = int(config["width"])
        if config["norm"] == "batchnorm":
            layers.append(nn.BatchNorm1d(width))
        elif config["norm"] == "layernorm":
            layers.append(nn.LayerNorm(width))
        elif config["norm"] != "none":
            raise ValueError(f"nas.build: norm must be none, batchnorm or layernorm, got {config['norm']!r}")
        layers.append(getattr(nn, config["activation"])())
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


class ArchitectureObjective:
    """Train an architecture (AdamW, ``epochs``) and report {"value": validation accuracy, "params", "latency_ms"}."""

    def __init__(self, dataset="mnist1d", epochs=8, seed=0):
        self.dataset, self.epochs, self.seed = dataset, int(epochs), seed

    def __call__(self, config):
        import deepnotes as dn
        import deepnotes.nn as nn
        from deepnotes import optim

        from .objectives import train_val_split

        x, y, xv, yv = train_val_split(self.dataset, seed=self.seed)
        dn.manual_seed(self.seed)
        model = build(config, x.shape[1], int(y.max()) + 1)
        opt = optim.AdamW(model.parameters(), lr=float(config["lr"]), weight_decay=1e-4)
        loss_fn, rng = nn.CrossEntropyLoss(), np.random.default_rng(self.seed)
        for _ in range(self.epochs):
            order = rng.permutation(len(x))
            for i in range(0, len(x), 64):
                idx = order[i:i + 64]
                opt.zero_grad()
                loss_fn(model(dn.tensor(x[idx])), dn.tensor(y[idx])).backward()
                opt.step()
        model.eval()
        with dn.no_grad():
            pred = model(dn.tensor(xv)).numpy().argmax(1)
            batch = dn.tensor(xv[:256])
            times = []
            for _ in range(5):
                start = time.perf_counter()
                model(batch)
                times.append(time.perf_counter() - start)
        return {"value": float(np.mean(pred == yv)), "params": int(sum(p.numel() for p in model.parameters())),
                "latency_ms": 1000 * float(np.median(times))}


def pareto_front(rows, maximize=("value",), minimize=("params",)):
    """The rows (dicts) no other row dominates: at least as good on every objective, better on one."""

    def key(r):
        return [r[k] for k in maximize] + [-r[k] for k in minimize]

    points = [key(r) for r in rows]
    front = []
    for i, p in enumerate(points):
        dominated = any(all(q[j] >= p[j] for j in range(len(p))) and any(q[j] > p[j] for j in range(len(p)))
                        for k, q in enumerate(points) if k != i)
        if not dominated:
            front.append(rows[i])
    return sorted(front, key=lambda r: r[minimize[0]] if minimize else -r[maximize[0]])


def search(searcher="random", n_trials=20, dataset="mnist1d", epochs=8, seed=0, executor="local", jobs=1):
    """Run the architecture search; returns (Results, Pareto front rows by accuracy vs parameter count)."""
    from .run import run

    results = run(ArchitectureObjective(dataset, epochs, seed), architecture_space(), searcher=searcher,
                  n_trials=n_trials, mode="max", seed=seed, executor=executor, jobs=jobs)
    rows = [r for r in results.rows() if r["status"] == "ok"]
    return results, pareto_front(rows)


def plot_front(rows, front, path):
    """Accuracy vs parameter count of every trial, the Pareto front as a step line; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .run import _save

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([r["params"] for r in rows], [r["value"] for r in rows], s=14, alpha=0.6, label="architecture")
    ax.step([r["params"] for r in front], [r["value"] for r in front], where="post", color="C3", label="Pareto front")
    ax.set(xscale="log", xlabel="parameters", ylabel="validation accuracy", title="architecture search")
    ax.legend(fontsize=8)
    return _save(fig, path)
