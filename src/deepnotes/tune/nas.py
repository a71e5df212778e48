"""A small architecture search (AutoML) with a multi-objective report: accuracy vs size vs latency.

The searchers of `deepnotes.tune` run over an architecture space -- the kind of network (an MLP
or a 1-D convolutional net), depth, width or channels, the kernel size, the normalization
layer, the activation -- and each trial reports its validation accuracy, its parameter count
and its measured inference latency. No single "best" exists when smaller is also better: the
answer is the Pareto front, the architectures no other one beats on every objective at once (a
smaller model at equal accuracy is the usual find; Tan & Le 2019 and Elsken, Metzen & Hutter
2019 survey the field).

The space is flat: every config carries every dimension and `build` reads the ones its kind
uses (``width`` for an MLP; ``channels`` and ``kernel_size`` for a conv net). Random search
and a grid do not mind; BO sees a few dimensions that do not matter for half the space.
"""
from __future__ import annotations

import time

import numpy as np

from .space import choice, loguniform, randint

NORMS = ("none", "batchnorm", "layernorm")


def architecture_space():
    """kind mlp | conv, depth 1-3, MLP width 8-256 (log), conv channels 4-32 (log), kernel size 3 | 5 | 7,
    norm none | batchnorm | layernorm, activation, lr."""
    return {"kind": choice(["mlp", "conv"]), "depth": randint(1, 4), "width": randint(8, 257, log=True),
            "channels": randint(4, 33, log=True), "kernel_size": choice([3, 5, 7]), "norm": choice(list(NORMS)),
            "activation": choice(["ReLU", "GELU", "Tanh"]), "lr": loguniform(1e-3, 3e-2)}


def _norm(kind, norm, width):
    import deepnotes.nn as nn

    if norm not in NORMS:
        raise ValueError(f"nas.build: norm must be none, batchnorm or layernorm, got {norm!r}")
    if norm == "batchnorm":
        return [nn.BatchNorm1d(width)]
    if norm == "layernorm":  # on (N, C, L) a layer norm over channels and positions: GroupNorm with one group
        return [nn.LayerNorm(width) if kind == "mlp" else nn.GroupNorm(1, width)]
    return []


def build(config, in_features, n_classes):
    """The network of an architecture config, for inputs (N, in_features).

    * ``kind="mlp"``: [Linear(width), norm?, activation] x depth, then a Linear head.
    * ``kind="conv"``: the input as a 1-channel signal (N, 1, in_features), then
      [Conv1d(channels, kernel_size, stride 2, padding kernel_size // 2), norm?, activation] x depth
      (each halves the length, rounding up), flattened into a Linear head.
    """
    import deepnotes.nn as nn

    kind = config.get("kind", "mlp")
    layers, width = [], in_features
    if kind == "mlp":
        for _ in range(int(config["depth"])):
            layers.append(nn.Linear(width, int(config["width"])))
            width = int(config["width"])
            layers += _norm(kind, config["norm"], width) + [getattr(nn, config["activation"])()]
        return nn.Sequential(*layers, nn.Linear(width, n_classes))
    if kind != "conv":
        raise ValueError(f"nas.build: kind must be mlp or conv, got {kind!r}")
    k = int(config["kernel_size"])
    if k < 1 or k % 2 == 0:
        raise ValueError(f"nas.build: kernel_size must be odd and >= 1, got {k}")
    layers, channels, length = [nn.Unflatten(1, (1, in_features))], 1, in_features
    for _ in range(int(config["depth"])):
        layers.append(nn.Conv1d(channels, int(config["channels"]), k, stride=2, padding=k // 2))
        channels, length = int(config["channels"]), (length + 1) // 2
        layers += _norm(kind, config["norm"], channels) + [getattr(nn, config["activation"])()]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * length, n_classes))


# a usual first choice to compare the search's finds with: two hidden layers of 256
REFERENCE = {"kind": "mlp", "depth": 2, "width": 256, "channels": 8, "kernel_size": 3, "norm": "none",
             "activation": "ReLU", "lr": 3e-3}


class ArchitectureObjective:
    """Train an architecture (AdamW, ``epochs``, batches of 64) and report {"value": validation accuracy,
    "params", "latency_ms" (the fastest of 7 forward passes over 256 validation samples, after a
    warm-up: other processes only ever add time, so the minimum is the least noisy estimate)}; ``n_train`` caps
    the training samples (for quick runs)."""

    def __init__(self, dataset="mnist1d", epochs=8, seed=0, n_train=None):
        self.dataset, self.epochs, self.seed, self.n_train = dataset, int(epochs), seed, n_train

    def __call__(self, config):
        import deepnotes as dn
        import deepnotes.nn as nn
        from deepnotes import optim

        from .objectives import train_val_split

        x, y, xv, yv = train_val_split(self.dataset, seed=self.seed)
        x, y = x[:self.n_train], y[:self.n_train]
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
            model(batch)  # warm-up
            times = []
            for _ in range(7):
                start = time.perf_counter()
                model(batch)
                times.append(time.perf_counter() - start)
        return {"value": float(np.mean(pred == yv)), "params": int(sum(p.numel() for p in model.parameters())),
                "latency_ms": 1000 * float(np.min(times))}


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


def search(searcher="random", n_trials=20, dataset="mnist1d", epochs=8, seed=0, executor="local", jobs=1,
           n_train=None):
    """Run the architecture search; returns (Results, Pareto front rows by accuracy vs parameter count)."""
    from .run import run

    results = run(ArchitectureObjective(dataset, epochs, seed, n_train), architecture_space(), searcher=searcher,
                  n_trials=n_trials, mode="max", seed=seed, executor=executor, jobs=jobs)
    rows = [r for r in results.rows() if r["status"] == "ok"]
    return results, pareto_front(rows)


FRONT_COLUMNS = ("trial", "kind", "depth", "width", "channels", "kernel_size", "norm", "activation", "value",
                 "params", "latency_ms")


def front_table(front):
    """The Pareto front as a text table (the width of a conv net and the channels of an MLP are unused)."""
    from .run import format_table

    return format_table(front, [c for c in FRONT_COLUMNS if any(c in r for r in front)])


def smaller_at_equal_accuracy(rows, reference, tolerance=0.01):
    """The row with the fewest parameters among those at least as accurate as ``reference`` minus
    ``tolerance`` (both accuracies on the same validation split), or None."""
    good = [r for r in rows if r["value"] >= reference["value"] - tolerance]
    return min(good, key=lambda r: r["params"]) if good else None


def automl(searcher="random", n_trials=20, dataset="mnist1d", epochs=8, seed=0, executor="local", jobs=1,
           n_train=None, reference=None, tolerance=0.01):
    """A small AutoML run: search the architecture space, train ``reference`` (default `REFERENCE`) the
    same way, and report the smallest architecture found within ``tolerance`` of its accuracy.

    Returns {"results", "front", "reference": its row, "found": a row or None,
    "params_ratio": found params / reference params (None if nothing was found)}.
    """
    results, front = search(searcher, n_trials, dataset, epochs, seed, executor, jobs, n_train)
    config = dict(reference or REFERENCE)
    ref = {**config, **ArchitectureObjective(dataset, epochs, seed, n_train)(config)}
    rows = [r for r in results.rows() if r["status"] == "ok"]
    found = smaller_at_equal_accuracy(rows, ref, tolerance)
    return {"results": results, "front": front, "reference": ref, "found": found,
            "params_ratio": None if found is None else found["params"] / ref["params"]}


def plot_front(rows, front, path, reference=None):
    """Validation accuracy vs parameter count and vs latency of every trial, the accuracy/size Pareto
    front as a step line, ``reference`` (a row) as a star; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .run import _save

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "params", "parameters"), (axes[1], "latency_ms", "latency (ms, 256 samples)")):
        for kind, color in (("mlp", "C0"), ("conv", "C2")):
            mine = [r for r in rows if r.get("kind", "mlp") == kind]
            ax.scatter([r[key] for r in mine], [r["value"] for r in mine], s=14, alpha=0.6, color=color, label=kind)
        if reference is not None:
            ax.plot(reference[key], reference["value"], "*", ms=12, color="k", label="reference")
        ax.set(xscale="log", xlabel=label, ylabel="validation accuracy")
    axes[0].step([r["params"] for r in front], [r["value"] for r in front], where="post", color="C3",
                 label="Pareto front")
    axes[0].set_title("architecture search: accuracy vs size")
    axes[1].set_title("accuracy vs measured latency")
    axes[0].legend(fontsize=8)
    return _save(fig, path)
