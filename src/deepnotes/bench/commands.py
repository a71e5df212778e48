"""``deepnotes parity``: train the same models in deepnotes and PyTorch, compare test accuracy.

    deepnotes parity [--tasks mlp-digits,cnn-mnist1d] [--seeds 3] [--quick] [--json]

See `deepnotes.bench.parity`. ``--json`` prints one JSON object (task -> per-framework
accuracies and seconds per epoch, the difference and its interval) as the last line.
"""
from __future__ import annotations

import json
import sys

HELP = "train the same models in deepnotes and PyTorch (same data, optimizer, budget); compare test accuracy"


def register(subparsers) -> None:
    p = subparsers.add_parser("parity", help=HELP, description=HELP)
    p.add_argument("--tasks", help="comma-separated subset of mlp-digits,mlp-mnist1d,cnn-digits,cnn-mnist1d")
    p.add_argument("--seeds", type=int, default=3, help="runs per framework and task (default 3)")
    p.add_argument("--quick", action="store_true", help="2 epochs on 500 examples: a smoke run, not a comparison")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=cmd_parity)


def cmd_parity(args) -> int:
    from .parity import TASKS, run

    names = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else list(TASKS)
    unknown = [n for n in names if n not in TASKS]
    if unknown or args.seeds < 1:
        problem = f"unknown task {', '.join(unknown)}; available: {', '.join(TASKS)}" if unknown else \
            f"--seeds must be >= 1, got {args.seeds}"
        print(f"deepnotes parity: {problem}", file=sys.stderr)
        return 2
    try:
        results = run(names, seeds=args.seeds, quick=args.quick, out=sys.stderr if args.json else sys.stdout)
    except ImportError as exc:
        print(f"deepnotes parity: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results))
    return 0
