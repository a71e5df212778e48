"""``deepnotes tune``: search a model's hyperparameters on a built-in data set.

    deepnotes tune --model mlp --dataset digits \\
        --space 'lr=loguniform(1e-4,1e-1)' --space 'weight_decay=loguniform(1e-6,1e-2)' \\
        --searcher random|grid|sobol|bo --trials 30 [--epochs N] [--executor local|process|ray] [--jobs N]
        [--address A] [--resolution R] [--seed S] [--out DIR] [--json]

Each trial trains the model with AdamW on 80% of the training split and scores it by accuracy
on the other 20% (the test split is never looked at). Prints a progress bar over trials, the
best configuration, the table of trials, and writes ``trials.json``, ``trials.csv``,
``trials.png`` (objective vs trial with the running best) and, for ``--searcher bo``, ``gp.png``
(the GP's mean and std over the first two dimensions). With ``--json`` the last line is one
JSON object: ``best`` (config and validation accuracy), ``trials`` (one row per trial),
``seconds`` and the written paths. Bad arguments print one line and exit with status 2.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

DEFAULT_SPACE = ("lr=loguniform(1e-4,1e-1)", "weight_decay=loguniform(1e-6,1e-2)")


def register(subparsers) -> None:
    p = subparsers.add_parser("tune", help="hyperparameter search: grid, random, Bayesian optimization",
                              description="Search hyperparameters of a model on a built-in data set.")
    p.add_argument("--model", default="mlp", help="model name (default mlp)")
    p.add_argument("--dataset", default="digits", help="digits | breast_cancer | mnist1d (default digits)")
    p.add_argument("--space", action="append", metavar="NAME=DIST(ARGS)",
                   help="a dimension, e.g. 'lr=loguniform(1e-4,1e-1)' (repeatable; keys: lr, weight_decay, "
                        "width, depth, batch_size)")
    p.add_argument("--searcher", default="random", help="grid | random | sobol | bo (default random)")
    p.add_argument("--trials", type=int, default=30, help="number of trials (default 30)")
    p.add_argument("--resolution", type=int, default=None, help="grid points per continuous dimension "
                                                                "(default: the one making about --trials points)")
    p.add_argument("--epochs", type=int, default=10, help="training epochs per trial (default 10)")
    p.add_argument("--executor", default=None, help="local | process | ray (default process when --jobs > 1)")
    p.add_argument("--jobs", type=int, default=1, help="trials at once (default 1)")
    p.add_argument("--address", default=None, help="Ray cluster address (with --executor ray)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/tune", help="folder for the table and plots (default runs/tune)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_tune)


def _fail(message):
    print(f"deepnotes tune: {message}", file=sys.stderr)
    return 2


def cmd_tune(args) -> int:
    from deepnotes.data.datasets import get_dataset

    from . import run
    from .executors import EXECUTORS
    from .objectives import TrainObjective
    from .search import GridSearch, make_searcher
    from .space import Space, parse_dimension

    try:
        space = Space(dict(parse_dimension(text) for text in (args.space or DEFAULT_SPACE)))
    except ValueError as exc:
        return _fail(str(exc))
    executor = args.executor or ("process" if args.jobs > 1 else "local")
    checks = [(args.searcher in ("grid", "random", "sobol", "bo"), f"--searcher must be grid, random, sobol or bo, "
                                                                  f"got {args.searcher!r}"),
              (args.trials >= 1, f"--trials must be >= 1, got {args.trials}"),
              (args.epochs >= 1, f"--epochs must be >= 1, got {args.epochs}"),
              (args.jobs >= 1, f"--jobs must be >= 1, got {args.jobs}"),
              (executor in EXECUTORS, f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}"),
              (args.model == "mlp", f"--model must be mlp, got {args.model!r}")]
    for ok, message in checks:
        if not ok:
            return _fail(message)
    try:
        get_dataset(args.dataset)
    except (ValueError, KeyError) as exc:
        return _fail(f"--dataset: {exc}")
    if args.searcher == "grid":
        resolution = args.resolution or max(2, int(round(args.trials ** (1.0 / len(space)))))
        searcher = GridSearch(space, resolution=resolution, mode="max", seed=args.seed)
    else:
        searcher = make_searcher(args.searcher, space, mode="max", seed=args.seed)
    objective = TrainObjective(args.model, args.dataset, args.epochs, seed=args.seed)
    start = time.perf_counter()
    try:
        results = run(objective, space, searcher=searcher, n_trials=args.trials, executor=executor, jobs=args.jobs,
                      address=args.address, progress=not args.no_progress)
    except ImportError as exc:
        return _fail(str(exc))
    seconds = time.perf_counter() - start
    out = Path(args.out)
    paths = {"json": str(results.to_json(out / "trials.json")), "csv": str(results.to_csv(out / "trials.csv")),
             "plot": str(results.plot(out / "trials.png", title=f"{args.searcher} search, {args.model} on "
                                                                 f"{args.dataset}: validation accuracy"))}
    if args.searcher == "bo" and len(results._ok()) >= 2:
        paths["gp"] = str(results.plot_gp(out / "gp.png"))
    best = results.best
    failed = sum(t["status"] != "ok" for t in results.trials)
    print(results.table())
    if best is not None:
        print(f"best: trial {best['trial']}  validation accuracy {best['value']:.4f}  "
              + "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in space.flat(best["config"]).items()))
    print(f"{len(results.trials)} trials ({failed} failed) in {seconds:.1f} s on {executor} with {args.jobs} job(s); "
          f"wrote {', '.join(paths.values())}")
    if args.json:
        doc = results.to_dict()
        print(json.dumps({"best": doc["best"], "trials": doc["trials"], "seconds": seconds, "executor": executor,
                          "jobs": args.jobs, "paths": paths}))
    return 0 if best is not None else 1
