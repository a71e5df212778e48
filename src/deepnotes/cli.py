"""The `deepnotes` command.

    deepnotes train --model mlp --dataset digits --epochs 30 --optimizer adamw --out runs/x
    deepnotes graph mlp --dataset digits --out runs/graph.svg
    deepnotes coverage [--json]
    deepnotes doctor

Over 400 lines: the core commands (train, evaluate, graph, coverage, doctor) and their argument
checks; each toolkit package adds its own commands from its `commands.py` (`COMMAND_MODULES`).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "train": "train a model on a built-in data set; print test metrics; write checkpoint and curves",
    "graph": "render a model's computational graph (forward and backward edges) to SVG or DOT",
    "coverage": "print the coverage map: tests, claims and handbook entries per inventory ID",
    "bench": "time reference workloads (MLP, CNN, LSTM, Transformer) in deepnotes and PyTorch",
    "doctor": "report the environment: Python, NumPy and its BLAS, optional GPU and test packages",
}


# Packages that add their own subcommands: each module has `register(subparsers)`, which adds
# its parsers and sets `func` on them (imports inside `func`, so `deepnotes --help` stays fast).
COMMAND_MODULES = [
    "deepnotes.bench.commands",
    "deepnotes.claims.commands",
    "deepnotes.handbook.commands",
    "deepnotes.metrics.commands",
    "deepnotes.tune.commands",
    "deepnotes.vision.commands",
    "deepnotes.compress.commands",
]


def _parse_hidden(text):
    return tuple(int(h) for h in text.split(",") if h.strip())


def _make_optimizer(name, params, lr, weight_decay, momentum):
    from . import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def _plot_history(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = history.to_dict()
    epochs = range(1, len(h["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, h["train_loss"], label="train")
    if any(v is not None for v in h.get("val_loss", [])):
        ax_loss.plot(epochs, h["val_loss"], label="validation")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.plot(epochs, h["train_acc"], label="train")
    if any(v is not None for v in h.get("val_acc", [])):
        ax_acc.plot(epochs, h["val_acc"], label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load_train_data(dataset, seed, val_split=0.1, minority_fraction=None):
    """The run's data: (split, train indices, validation indices) into `split.x_train`.

    The validation set is a stratified, seeded `val_split` share of the training split; the test
    split is kept apart for one final measurement.  With `minority_fraction`, class 0 is first
    subsampled (in the training and the test split alike) to that share of the data.
    """
    import numpy as np

    from . import data

    split = data.get_dataset(dataset)
    if minority_fraction:
        x_tr, y_tr, _ = data.make_imbalanced(split.x_train, split.y_train, minority_fraction, 0, seed)
        x_te, y_te, _ = data.make_imbalanced(split.x_test, split.y_test, minority_fraction, 0, seed + 1)
        split = data.Split(x_tr, y_tr, x_te, y_te, split.num_classes, split.name)
    indices = np.arange(len(split.y_train))
    if not val_split:
        return split, indices, indices[:0]
    from sklearn.model_selection import train_test_split

    train_idx, val_idx = train_test_split(indices, test_size=val_split, random_state=seed, stratify=split.y_train)
    return split, np.sort(train_idx), np.sort(val_idx)


def _train_loader(x, y, args):
    """Shuffled mini-batches, re-balanced by `--sampler` (weighted draws, SMOTE or under-sampling)."""
    import numpy as np

    from . import data

    if args.sampler in ("smote", "undersample"):
        shape = x.shape[1:]
        sampler = (data.SMOTE(random_state=args.seed) if args.sampler == "smote"
                   else data.RandomUnderSampler(random_state=args.seed))
        flat, y = sampler.fit_resample(x.reshape(len(x), -1), y)
        x = flat.reshape(len(flat), *shape).astype(np.float32)
    dataset = data.TensorDataset(x, y)
    if args.sampler == "weighted":
        weights = data.balanced_sample_weights(y)
        sampler = data.WeightedRandomSampler(weights, num_samples=len(y), replacement=True,
                                             generator=np.random.default_rng(args.seed))
        return data.DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    return data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True)


def _evaluate_test(model, split, out_dir, metric_names):
    """The one and only look at the test split, after training and model selection are done."""
    from .metrics.commands import evaluate_split

    return evaluate_split(model, split.x_test, split.y_test, out_dir, metric_names)


def cmd_train(args):
    # one branch per model family; every classifier in `models.build_model` shares `_train_classifier`
    if args.model == "ssd" or args.dataset == "shapes":
        if (args.model, args.dataset) != ("ssd", "shapes"):
            print(f"deepnotes train: error: --model ssd goes with --dataset shapes (a detection data set), "
                  f"got --model {args.model} --dataset {args.dataset}", file=sys.stderr)
            return 2
        from .vision.train import cli_train

        return cli_train(args)
    return _train_classifier(args)


def _train_classifier(args):
    import numpy as np
    import deepnotes as dn
    from . import data, nn, train
    from .models import build_model

    dn.manual_seed(args.seed)
    metric_names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    split, train_idx, val_idx = load_train_data(args.dataset, args.seed, args.val_split, args.minority_fraction)
    x_train, y_train = split.x_train[train_idx], split.y_train[train_idx]
    train_loader = _train_loader(x_train, y_train, args)
    val_loader = (data.DataLoader(data.TensorDataset(split.x_train[val_idx], split.y_train[val_idx]), batch_size=512)
                  if len(val_idx) else None)
    model = build_model(args.model, split.x_train.shape[1:], split.num_classes,
                        hidden=_parse_hidden(args.hidden), dropout=args.dropout)
    optimizer = _make_optimizer(args.optimizer, model.parameters(), args.lr, args.weight_decay, args.momentum)
    weight = None
    if args.class_weight == "balanced":
        weight = dn.tensor(data.compute_class_weight("balanced", classes=np.arange(split.num_classes),
                                                     y=y_train).astype(np.float32))
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    callbacks = []
    if args.patience and val_loader is not None:
        callbacks.append(train.EarlyStopping("val_loss", patience=args.patience, restore_best_weights=True))
    report = sys.stderr if args.json else sys.stdout
    print(f"training {args.model} on {split.name}: {len(train_idx)} train / {len(val_idx)} validation / "
          f"{len(split.x_test)} test, {args.epochs} epochs, {args.optimizer} lr={args.lr}, batch {args.batch_size}, "
          f"seed {args.seed}", file=report)
    start = time.perf_counter()
    history = train.fit(model, loss_fn, optimizer, train_loader, val_loader=val_loader, epochs=args.epochs,
                        callbacks=callbacks, metrics=metric_names, progress=not args.no_progress)
    seconds = time.perf_counter() - start

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    test = _evaluate_test(model, split, out, metric_names)
    checkpoint = out / "checkpoint.npz"
    train.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": len(history),
                "config": {k: v for k, v in vars(args).items() if k != "func"}}, checkpoint)
    curves = out / "curves.png"
    _plot_history(history, curves)
    (out / "history.json").write_text(json.dumps(history.to_dict(), indent=1))
    (out / "split.json").write_text(json.dumps({"train": train_idx.tolist(), "validation": val_idx.tolist(),
                                                "test_size": len(split.y_test)}))
    result = {"test_accuracy": test["accuracy"], "test_loss": test["loss"], "epochs": len(history),
              "seconds": round(seconds, 3), "dataset": split.name, "model": args.model,
              "n_train": len(train_idx), "n_validation": len(val_idx), "n_test": len(split.y_test),
              "test_metrics": {k: test[k] for k in metric_names}, "checkpoint": str(checkpoint),
              "curves": str(curves), "figures": test["figures"]}
    print(test["report"], file=report)
    print(f"test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f}, {seconds:.1f} s", file=report)
    print(f"wrote {checkpoint}, {curves}, {out / 'history.json'} and {', '.join(test['figures'].values())}",
          file=report)
    if args.json:
        print(json.dumps(result))
    return 0


def cmd_graph(args):
    import deepnotes as dn
    from . import data, nn
    from .autograd import graph
    from .models import build_model

    dn.manual_seed(args.seed)
    split = data.get_dataset(args.dataset)
    model = build_model(args.model, split.x_train.shape[1:], split.num_classes, hidden=_parse_hidden(args.hidden))
    x = dn.tensor(split.x_train[: args.batch_size])
    y = dn.tensor(split.y_train[: args.batch_size])
    with dn.fast.disabled():  # the textbook graph, one node per operation (no fused shortcuts)
        loss = nn.functional.cross_entropy(model(x), y)
    params = dict(model.named_parameters())
    path = graph.render(loss, args.out, params=params)
    print(f"wrote {path}")
    return 0


def cmd_coverage(args):
    from .handbook import coverage

    tests_dir = Path(args.tests) if args.tests else None
    rows = coverage.coverage_map(tests_dir)
    if args.write_baseline:
        coverage.write_baseline(rows)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        print(coverage.format_table(rows))
    lost = coverage.lost_coverage(rows)
    if lost:
        print(f"IDs that lost their tests since the baseline: {', '.join(lost)}", file=sys.stderr)
        return 1
    return 0


def cmd_bench(args):
    from .bench import runner

    if args.scaling:
        runner.scaling(args.out, quick=args.quick)
        return 0
    names = args.workloads.split(",") if args.workloads else None
    if args.threads is not None and args.threads < 1:
        print(f"deepnotes bench: --threads must be >= 1, got {args.threads}", file=sys.stderr)
        return 2
    if args.profile:
        if args.threads:
            from . import backends

            backends.set_num_threads(args.threads)
        from .bench import profile

        profile.run(names or list(runner.WORKLOADS), quick=args.quick, as_json=args.json)
        return 0
    try:
        runner.run(names, quick=args.quick, repeats=args.repeats, as_json=args.json, blas=args.blas,
                   threads=args.threads, clock=args.clock)
    except RuntimeError as exc:
        print(f"deepnotes bench: {exc}", file=sys.stderr)
        return 2
    return 0


def environment_report():
    """What `deepnotes doctor` reports, as a dict: Python, NumPy, its BLAS pools, the GEMM library
    deepnotes runs (with each library's measured GFLOP/s), optional packages and graphviz."""
    import numpy as np

    report = {"python": platform.python_version(), "executable": sys.executable, "numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        report["blas_pools"] = [{key: pool.get(key) for key in ("internal_api", "version", "architecture",
                                                                   "num_threads")} for pool in threadpool_info()]
    except ImportError:
        report["blas_pools"] = None
    from . import backends

    report["gemm"] = backends.blas_info()  # measured once per machine (cached), see deepnotes.backends.choose
    packages, unavailable = {}, {}
    for name in ("torch", "scipy", "sklearn", "mnist1d", "gensim", "cupy"):
        try:
            packages[name] = getattr(__import__(name), "__version__", "installed")
        except Exception as exc:  # noqa: BLE001 - report any import failure (e.g. missing CUDA libs)
            packages[name] = None
            unavailable[name] = f"{type(exc).__name__}: {str(exc)[:80]}"
    report["packages"], report["unavailable"] = packages, unavailable
    report["graphviz_dot"] = shutil.which("dot")
    return report


def cmd_doctor(args):
    """Environment report (inventory V1): what is installed and which BLAS NumPy runs."""
    report = environment_report()
    if args.json:
        print(json.dumps(report))
        return 0
    lines = [f"python      {report['python']} ({report['executable']})", f"numpy       {report['numpy']}"]
    if report["blas_pools"] is None:
        lines.append("blas        threadpoolctl not installed: cannot tell")
    for pool in report["blas_pools"] or ():
        lines.append(f"blas        {pool['internal_api']} {pool['version']} "
                     f"kernel={pool['architecture']} threads={pool['num_threads']}")
    gemm = report["gemm"]
    speeds = ", ".join(f"{name} {value:.0f}" for name, value in gemm["gflops"].items() if value)
    lines.append(f"gemm        deepnotes runs its matrix products on {gemm['in_use']} "
                 f"(measured GFLOP/s on typical shapes: {speeds}); mkl: {gemm['mkl']}")
    for name, version in report["packages"].items():
        lines.append(f"{name:<11} {version if version else 'not available (' + report['unavailable'][name] + ')'}")
    lines.append(f"graphviz    {report['graphviz_dot'] or 'dot not on PATH: graphs are written as .dot'}")
    print("\n".join(lines))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="deepnotes",
        description="deepnotes: deep learning from first principles, checked against the reference.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help=COMMANDS["train"], description=COMMANDS["train"])
    p.add_argument("--model", default="mlp", choices=["mlp", "ssd"],
                   help="mlp: a classifier; ssd: the small single-shot detector (with --dataset shapes)")
    p.add_argument("--dataset", default="digits", choices=["digits", "breast_cancer", "mnist1d", "shapes"])
    p.add_argument("--head", choices=["single", "fpn"], default="fpn", help="ssd: one coarse feature map or FPN levels")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--optimizer", default="adamw", choices=["sgd", "adam", "adamw"])
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", default="128,128", help="hidden layer sizes, comma separated")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-split", type=float, default=0.1,
                   help="stratified share of the training split held out for validation (0: none); "
                        "the test split is only used once, after training")
    p.add_argument("--patience", type=int, default=0, help="early stopping on the validation loss (0: off)")
    p.add_argument("--class-weight", choices=["none", "balanced"], default="none",
                   help="'balanced': cross-entropy weights n / (K n_c)")
    p.add_argument("--sampler", choices=["none", "weighted", "smote", "undersample"], default="none",
                   help="re-balance the training batches (WeightedRandomSampler, SMOTE, random under-sampling)")
    p.add_argument("--metrics", default="accuracy",
                   help="comma-separated: accuracy, f1_macro, auc, balanced_accuracy, minority_recall, ...")
    p.add_argument("--minority-fraction", type=float, default=None,
                   help="subsample class 0 to this share of the data (an imbalanced version of the data set)")
    p.add_argument("--out", default="runs/train")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("graph", help=COMMANDS["graph"], description=COMMANDS["graph"])
    p.add_argument("model", nargs="?", default="mlp", choices=["mlp"])
    p.add_argument("--dataset", default="digits", choices=["digits", "breast_cancer", "mnist1d"])
    p.add_argument("--hidden", default="32")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/graph.svg")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("coverage", help=COMMANDS["coverage"], description=COMMANDS["coverage"])
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--tests", help="the tests folder (found automatically in a checkout)")
    p.add_argument("--write-baseline", action="store_true",
                   help="record the IDs that have tests now; CI fails if one of them loses its tests")
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("bench", help=COMMANDS["bench"], description=COMMANDS["bench"])
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats (for the test suite)")
    p.add_argument("--workloads", help="comma-separated subset of W1,W2,W3,W4,W5")
    p.add_argument("--repeats", type=int, help="timed repeats per framework (default 5, quick 3)")
    p.add_argument("--json", action="store_true", help="print one JSON document as the last line")
    p.add_argument("--scaling", action="store_true", help="step time vs batch size and width, table + PNG")
    p.add_argument("--out", default="runs/bench", help="folder for the scaling plot")
    p.add_argument("--blas", choices=["auto", "numpy", "mkl", "both"], default="auto",
                   help="deepnotes' GEMM library (auto: this machine's measured choice; both: one column each)")
    p.add_argument("--threads", type=int, help="BLAS / torch threads of both frameworks (default: the BLAS default)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="cpu: time each repeat by the workers' CPU time (with --threads 1), for a busy shared machine")
    p.add_argument("--profile", action="store_true",
                   help="deepnotes' training step by op, optimizer and framework overhead (and W1 against hand-written NumPy)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("doctor", help=COMMANDS["doctor"], description=COMMANDS["doctor"])
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_doctor)

    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not module_name.startswith(exc.name or "-"):  # a missing dependency, not the module
                raise
            continue
        module.register(sub)
    return parser


# The numeric options any subcommand may have, checked before it starts: (what is expected, test).
ARGUMENT_RULES = {
    "epochs": (">= 1", lambda v: v >= 1), "batch_size": (">= 1", lambda v: v >= 1),
    "seeds": (">= 1", lambda v: v >= 1), "jobs": (">= 1", lambda v: v >= 1), "trials": (">= 1", lambda v: v >= 1),
    "repeats": (">= 1", lambda v: v >= 1), "top": (">= 1", lambda v: v >= 1), "resolution": (">= 2", lambda v: v >= 2),
    "new": (">= 0", lambda v: v >= 0), "patience": (">= 0", lambda v: v >= 0),
    "lr": ("> 0 and finite", lambda v: 0 < v < float("inf")),
    "weight_decay": (">= 0", lambda v: 0 <= v < float("inf")), "momentum": (">= 0", lambda v: 0 <= v < float("inf")),
    "dropout": ("in [0, 1)", lambda v: 0 <= v < 1), "val_split": ("in [0, 1)", lambda v: 0 <= v < 1),
    "minority_fraction": ("in (0, 1)", lambda v: 0 < v < 1),
    "hidden": ("positive ints, comma separated",
               lambda v: all(w.strip().isdigit() and int(w) >= 1 for w in str(v).split(","))),
}


def argument_error(args):
    """The first argument of `args` that breaks ARGUMENT_RULES or names an unwritable --out, as
    '--epochs must be >= 1, got -3'; None when all are fine."""
    for dest, (expected, valid) in ARGUMENT_RULES.items():
        value = getattr(args, dest, None)
        if value is not None and not valid(value):
            return f"--{dest.replace('_', '-')} must be {expected}, got {value}"
    out = getattr(args, "out", None)
    if out:
        existing = Path(out).absolute()
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        target_is_file = existing == Path(out).absolute() and existing.is_file()
        if not (existing.is_dir() or target_is_file):
            return f"--out {out} cannot be created: {existing} is a file, not a folder"
        try:  # a real write: os.access says yes to root even where nothing can be written (/proc)
            tempfile.TemporaryFile(dir=existing if existing.is_dir() else existing.parent).close()
        except OSError as exc:
            return f"--out {out} is not writable ({existing}: {exc.strerror or exc})"
    return None


def main(argv=None):
    """Run a subcommand. A bad argument prints one line `deepnotes train: error: ...` and returns 2
    (argparse's convention) before any work starts; an error while running prints one line and
    returns 1. `--debug` (or DEEPNOTES_DEBUG=1) shows the full traceback instead."""
    parser = build_parser()
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    debug = args.debug or os.environ.get("DEEPNOTES_DEBUG") == "1"
    prog = f"deepnotes {args.command}"
    problem = argument_error(args)
    if problem:
        print(f"{prog}: error: {problem}", file=sys.stderr)
        return 2
    if debug:
        return args.func(args)
    try:
        return args.func(args)
    except (ValueError, TypeError, IndexError, OSError, FloatingPointError, KeyError) as exc:
        print(f"{prog}: error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
