"""`run`: a search loop over an executor, and its results (table, best trial, JSON/CSV, plots).

    results = tune.run(objective, space, searcher="bo", n_trials=30, executor="process", jobs=2)
    results.best                 # {"trial", "config", "value", "seconds"}
    print(results.table())
    results.to_json("runs/tune/trials.json"); results.to_csv("runs/tune/trials.csv")
    results.plot("runs/tune/trials.png"); results.plot_gp("runs/tune/gp.png")   # GP slice (searcher="bo")

The loop keeps ``jobs`` trials in flight: each time one finishes its value goes to the searcher
(``tell``) and the next config is asked for at once, so a slow trial never holds up the
others. With a searcher that does not learn (grid, random) the configs do not depend on the
order in which trials finish, and the same seed gives the same results on every executor.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from .executors import TrialExecutor, make_trial_executor
from .search import Searcher, make_searcher
from .space import Space


class Results:
    """The trials of a search: a list of dicts ``{"trial", "config", "value", "seconds", "status"}``."""

    def __init__(self, trials, space, mode, searcher=None):
        self.trials = sorted(trials, key=lambda t: t["trial"])
        self.space, self.mode, self.searcher = space, mode, searcher

    def _ok(self):
        return [t for t in self.trials if t["status"] == "ok"]

    @property
    def best(self):
        ok = self._ok()
        if not ok:
            return None
        pick = min if self.mode == "min" else max
        return pick(ok, key=lambda t: t["value"])

    def values(self):
        """Objective value per trial (NaN for failed ones), in trial order."""
        return np.array([t["value"] if t["status"] == "ok" else math.nan for t in self.trials], dtype=np.float64)

    def running_best(self):
        """The best value so far after each trial."""
        v = self.values()
        v = np.where(np.isnan(v), np.inf if self.mode == "min" else -np.inf, v)
        return np.minimum.accumulate(v) if self.mode == "min" else np.maximum.accumulate(v)

    def rows(self):
        """One flat dict per trial: trial, the searched values, value, seconds, status."""
        return [{"trial": t["trial"], **self.space.flat(t["config"]), "value": t["value"], **t.get("metrics", {}),
                 "seconds": round(t["seconds"], 4), "status": t["status"]} for t in self.trials]

    def table(self, limit=None):
        """The trials as an aligned text table (best first when ``limit`` cuts it)."""
        rows = self.rows()
        if limit is not None:
            rows = sorted(rows, key=lambda r: (r["value"] is None,
                                               (r["value"] or 0) * (1 if self.mode == "min" else -1)))[:limit]
        return format_table(rows, list(rows[0]) if rows else ["trial", "value"])

    def to_dict(self):
        best = self.best
        return {"mode": self.mode, "best": None if best is None else {"config": best["config"], "value": best["value"],
                                                                      "trial": best["trial"]},
                "trials": self.rows()}

    def to_json(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    def to_csv(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = self.rows()
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return path

    def plot(self, path, title=None):
        """Objective vs trial (dots) with the running best (a step line); PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.8))
        x = np.arange(len(self.trials))
        ax.plot(x, self.values(), "o", ms=4, alpha=0.6, label="trial")
        ax.step(x, self.running_best(), where="post", color="C3", label="best so far")
        ax.set(xlabel="trial", ylabel="objective", title=title or f"search ({self.mode}imize)")
        ax.legend(fontsize=8)
        return _save(fig, path)

    def plot_gp(self, path, dims=None, resolution=60):
        """A 1-D or 2-D slice of a GP fitted to all trials, through the best trial; PNG.

        1-D: mean +- 2 std along ``dims[0]``; 2-D: mean and std maps over ``dims[:2]``.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .gp import GaussianProcess

        ok = self._ok()
        if len(ok) < 2:
            raise ValueError(f"Results.plot_gp: needs at least 2 finished trials, got {len(ok)}")
        names = self.space.names
        dims = list(dims or names[:2])
        if not set(dims) <= set(names):
            raise ValueError(f"Results.plot_gp: dims must be among {names}, got {dims}")
        X = np.array([self.space.encode(t["config"]) for t in ok])
        y = np.array([t["value"] for t in ok])
        gp = GaussianProcess(n_restarts=2).fit(X, y)
        anchor = self.space.encode(self.best["config"])
        grid = np.linspace(0, 1, resolution)
        index = [names.index(d) for d in dims]
        axis_values = [[self.space.dims[d].from_unit(u) for u in grid] for d in dims]
        log = [getattr(self.space.dims[d], "log", False) for d in dims]
        if len(dims) == 1:
            U = np.tile(anchor, (resolution, 1))
            U[:, index[0]] = grid
            mu, sd = gp.predict(U, return_std=True)
            fig, ax = plt.subplots(figsize=(6, 3.8))
            xs = axis_values[0]
            ax.plot(xs, mu, color="C0", label="GP mean")
            ax.fill_between(xs, mu - 2 * sd, mu + 2 * sd, color="C0", alpha=0.2, label="+- 2 std")
            ax.plot([self.space.flat(t["config"])[dims[0]] for t in ok], y, "k.", label="trials")
            ax.set(xlabel=dims[0], ylabel="objective", xscale="log" if log[0] else "linear")
            ax.legend(fontsize=8)
        else:
            g1, g2 = np.meshgrid(grid, grid)
            U = np.tile(anchor, (g1.size, 1))
            U[:, index[0]], U[:, index[1]] = g1.ravel(), g2.ravel()
            mu, sd = gp.predict(U, return_std=True)
            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
            A, B = np.meshgrid(axis_values[0], axis_values[1])
            flat = [self.space.flat(t["config"]) for t in ok]
            for ax, values, label in ((axes[0], mu, "GP mean"), (axes[1], sd, "GP std")):
                im = ax.contourf(A, B, values.reshape(g1.shape), levels=20, cmap="viridis")
                fig.colorbar(im, ax=ax)
                ax.plot([f[dims[0]] for f in flat], [f[dims[1]] for f in flat], "w.", ms=5)
                ax.set(xlabel=dims[0], ylabel=dims[1], title=label, xscale="log" if log[0] else "linear",
                       yscale="log" if log[1] else "linear")
        return _save(fig, path)


def format_table(rows, cols):
    """Dict rows as an aligned text table of the columns ``cols`` (floats to 4 significant digits)."""

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _save(fig, path):
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def run(objective, space, searcher="random", n_trials=20, executor="local", jobs=1, mode="min", seed=0,
        address=None, progress=False, **searcher_kwargs):
    """Run a search and return its `Results`.

    Args:
        objective: ``objective(config) -> float``, or a dict ``{"value": float, **other_metrics}`` whose
            other metrics go into the table (picklable for the process and Ray executors).
        space: a dict of dimensions (`deepnotes.tune.space`) or a `Space`.
        searcher: "grid", "random", "sobol", "bo", or a `Searcher` instance.
        n_trials: at most this many trials (a grid may have fewer).
        executor: "local", "process", "ray", or a `TrialExecutor` (left open for the caller).
        jobs: trials in flight at once.
        mode: "min" or "max" the objective.
        progress: a tqdm bar over trials.
    """
    if int(n_trials) < 1:
        raise ValueError(f"run: n_trials must be >= 1, got {n_trials}")
    space = space if isinstance(space, Space) else Space(space)
    if not isinstance(searcher, Searcher):
        searcher = make_searcher(searcher, space, mode=mode, seed=seed, **searcher_kwargs)
    mode = searcher.mode
    own = not isinstance(executor, TrialExecutor)
    pool = make_trial_executor(executor, jobs, address) if own else executor
    jobs = max(1, int(getattr(pool, "jobs", jobs)))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(n_trials), desc="trials", unit="trial")
    trials, running, asked = [], {}, 0
    try:
        while True:
            while asked < n_trials and len(running) < jobs:
                config = searcher.ask()
                if config is None:
                    n_trials = asked
                    break
                running[pool.submit(objective, config)] = (asked, config)
                asked += 1
            if not running:
                break
            key, outcome = pool.next_done()
            index, config = running.pop(key)
            extra = {}
            if outcome["ok"] and isinstance(outcome.get("value"), dict):  # {"value": v, other metrics...}
                extra = {k: v for k, v in outcome["value"].items() if k != "value"}
                outcome = {**outcome, "value": outcome["value"].get("value")}
            ok = outcome["ok"] and isinstance(outcome.get("value"), (int, float)) and math.isfinite(outcome["value"])
            value = float(outcome["value"]) if ok else None
            if ok:
                searcher.tell(config, value)
            else:
                searcher.forget(config)
            trials.append({"trial": index, "config": config, "value": value, "metrics": extra,
                           "seconds": outcome.get("seconds", 0.0),
                           "status": "ok" if ok else "error", **({} if ok else {"error": outcome.get("error", "")})})
            if bar is not None:
                bar.update(1)
                best = Results(trials, space, mode).best
                if best is not None:
                    bar.set_postfix(best=f"{best['value']:.4g}")
    finally:
        if bar is not None:
            bar.close()
        if own:
            pool.close()
    return Results(trials, space, mode, searcher)
