"""Iterations and wall time to reach f - f* <= 1e-6: first- vs second-order methods (inventory O1, O2, O5, O9).

    .venv/bin/python scripts/optim_results.py [--cap 100000] [--json out.json] [--plots DIR]

Problems: the rotated ill-conditioned quadratic (dim 10, condition numbers 100
and 10^4), the 2-d Rosenbrock and Beale functions, from their customary starts.  Methods:
gradient descent, heavy-ball momentum (0.9), Adam, L-BFGS (history 10,
strong-Wolfe line search, one iteration per step), damped Newton (exact
Hessian) and Newton-CG.  The first-order methods get the best learning rate
of a grid (largest first; a run stops as soon as it is slower than the best
so far, so only the winner runs to the end): the number reported is that
method at its best, and "not reached" means no learning rate of the grid got
there within the cap.  Iterations are optimizer steps; evaluations count
loss-and-gradient computations (a line search makes several per step, a
Newton step also n or k Hessian-vector products, not counted here).

The script also prints `optim.cost.cost_table()` (memory and arithmetic per
step for n = 1e3, 1e6, 1e8).  It is not part of the test suite.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
from threadpoolctl import threadpool_limits

from deepnotes import optim
from deepnotes.optim import testfunctions as T
from deepnotes.optim.cost import cost_table

TARGET = 1e-6
GRIDS = {
    # 1.9 / L is gradient descent's near-best step on the quadratics (L = 100 and 10^4); it diverges above 2 / L.
    "GD": [0.1, 0.05, 0.03, 0.019, 0.01, 5e-3, 3e-3, 1.9e-3, 1e-3, 5e-4, 3e-4, 1.9e-4, 1e-4],
    "momentum 0.9": [0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4],
    "Adam": [3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3],
}
FACTORIES = {
    "GD": lambda lr: (lambda p: optim.SGD(p, lr=lr)),
    "momentum 0.9": lambda lr: (lambda p: optim.SGD(p, lr=lr, momentum=0.9)),
    "Adam": lambda lr: (lambda p: optim.Adam(p, lr=lr)),
}
SECOND_ORDER = {
    "L-BFGS": lambda p: optim.LBFGS(p, max_iter=1, history_size=10, line_search_fn="strong_wolfe"),
    "Newton": lambda p: optim.Newton(p, damping=0.0),
    "Newton-CG": lambda p: optim.Newton(p, damping=0.0, mode="cg"),
}


def run_best(name, obj, cap):
    """The fastest run of a first-order method over its learning-rate grid."""
    best, best_lr, tried = None, None, []
    for lr in GRIDS[name]:
        limit = cap if best is None else best.reached
        with np.errstate(over="ignore", invalid="ignore"):
            path = T.trajectory(FACTORIES[name](lr), obj, steps=limit, target=TARGET)
        tried.append((lr, path.reached, float(path.losses[-1])))
        if path.reached is not None and (best is None or path.reached < best.reached):
            best, best_lr = path, lr
    return best, best_lr, tried


def summarize(name, obj, path, lr=None, tried=None):
    reached = path is not None and path.reached is not None
    return {
        "problem": obj.name, "method": name, "lr": lr, "reached": reached,
        "iterations": path.reached if reached else None,
        "evaluations": path.evaluations if path is not None else None,
        "seconds": round(path.seconds, 3) if path is not None else None,
        "final_gap": (float(path.losses[-1]) - (obj.minimum or 0.0)) if path is not None else None,
        "final_point": path.points[-1].tolist() if path is not None else None,
        "grid": tried,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=100_000, help="the most steps per run")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--plots", help="write contour plots of the paths (2-d problems) to this folder")
    args = parser.parse_args()
    problems = [T.quadratic(100.0, 10), T.quadratic(1e4, 10), T.rosenbrock(2), T.beale()]
    rows, paths = [], {}
    with threadpool_limits(1):
        for obj in problems:
            for name in GRIDS:
                path, lr, tried = run_best(name, obj, args.cap)
                rows.append(summarize(name, obj, path, lr, tried))
                if path is not None:
                    paths[(obj.name, name)] = path
                print(_line(rows[-1]), flush=True)
            for name, factory in SECOND_ORDER.items():
                path = T.trajectory(factory, obj, steps=min(args.cap, 1000), target=TARGET)
                rows.append(summarize(name, obj, path))
                paths[(obj.name, name)] = path
                print(_line(rows[-1]), flush=True)
    print()
    print(_table(rows))
    print()
    print(cost_table())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if args.plots:
        from pathlib import Path

        folder = Path(args.plots)
        folder.mkdir(parents=True, exist_ok=True)
        for obj in problems[2:]:
            chosen = {name: paths[(obj.name, name)] for name in ("GD", "momentum 0.9", "Adam", "L-BFGS", "Newton")
                      if (obj.name, name) in paths}
            print("wrote", T.plot_trajectories(obj, chosen, folder / f"{obj.name.split('(')[0]}_paths.png"))


def _line(row):
    if row["reached"]:
        result = f"{row['iterations']:>7} iterations, {row['evaluations']:>7} evaluations, {row['seconds']:8.3f} s"
    elif row["evaluations"] is None:
        result = "not reached within the cap for any learning rate of the grid"
    else:
        point = ", ".join(f"{v:.4g}" for v in row["final_point"])
        result = f"not reached: stuck at ({point}), f - f* = {row['final_gap']:.4g}"
    lr = f" (lr={row['lr']:g})" if row["lr"] is not None else ""
    return f"{row['problem']:<28} {row['method'] + lr:<26} {result}"


def _table(rows):
    lines = ["| problem | method | best lr | iterations to 1e-6 | evaluations | seconds |", "|---|---|---|---|---|---|"]
    for r in rows:
        its = str(r["iterations"]) if r["reached"] else "not reached"
        lr = "-" if r["lr"] is None else f"{r['lr']:g}"
        evals = "-" if r["evaluations"] is None else str(r["evaluations"])
        secs = "-" if r["seconds"] is None else f"{r['seconds']:.3f}"
        lines.append(f"| {r['problem']} | {r['method']} | {lr} | {its} | {evals} | {secs} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
