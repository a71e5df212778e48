"""``deepnotes claims``: list, run and report the claims lab.

    deepnotes claims list [--json]
    deepnotes claims run K06 K08 [--budget tiny|quick|full] [--seeds N] [--seed-offset K]
                         [--jobs N] [--executor local|process|ray] [--address A]
                         [--out DIR] [--force] [--json] [--write-verdicts]
    deepnotes claims run --all --budget quick --jobs 2 --write-verdicts
    deepnotes claims report [--out DIR]

``run`` prints a progress bar over (claim, seed) tasks and one verdict line per claim
(``K20  holds  gn_minus_bn: +0.41 [0.38, 0.45]``); ``--json`` prints one JSON object on
the last line: ID -> verdict, seconds, and per criterion its mean, interval, per-seed
effects, delta and text. ``--write-verdicts`` records the run in the package's
``verdicts.json`` (see `deepnotes.claims.frozen`). Arguments are checked before any work:
a bad one prints one line and exits with status 2. A failed seed exits with status 1.
"""
from __future__ import annotations

import json
import shlex
import sys

DEFAULT_OUT = "runs/claims"


def register(subparsers) -> None:
    claims = subparsers.add_parser("claims", help="the claims lab: run classic claims and judge them from data",
                                   description="The claims lab: every classic claim an experiment with a verdict.")
    sub = claims.add_subparsers(dest="claims_command", metavar="ACTION")
    claims.set_defaults(func=lambda args: (claims.print_help(), 0)[1])

    p = sub.add_parser("list", help="registered claims: ID, title, topics, estimated times, last verdict")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="run claims over seeds and print their verdicts")
    p.add_argument("ids", nargs="*", metavar="ID", help="claim IDs (e.g. K06 K08)")
    p.add_argument("--all", action="store_true", help="every registered claim")
    p.add_argument("--budget", default="quick", help="tiny | quick | full (default quick)")
    p.add_argument("--seeds", type=int, help="seeds per claim (default: the claim's for the budget)")
    p.add_argument("--seed-offset", type=int, default=0, help="added to each claim's first seed (default 0)")
    p.add_argument("--jobs", type=int, default=1, help="tasks at once (default 1)")
    p.add_argument("--executor", help="local | process | ray (default: process when --jobs > 1, else local)")
    p.add_argument("--address", help="Ray cluster address (with --executor ray), e.g. auto or ray://host:10001")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"results, figures and cache (default {DEFAULT_OUT})")
    p.add_argument("--force", action="store_true", help="ignore cached seed results and run again")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--write-verdicts", action="store_true",
                   help="record the verdicts in the package's verdicts.json (make claims does this)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write the static HTML report from a run's results")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"the run's folder (default {DEFAULT_OUT})")
    p.set_defaults(func=cmd_report)


def _fail(message: str) -> int:
    print(f"deepnotes claims: {message}", file=sys.stderr)
    return 2


def cmd_list(args) -> int:
    from . import registry
    from .frozen import verdicts

    claims = registry.load_all()
    frozen = verdicts()
    rows = {}
    for claim_id, claim in claims.items():
        estimate = {b: round(claim.seconds[b] * claim.seeds[b], 2) for b in registry.BUDGETS if b in claim.seconds}
        last = frozen.get(claim_id, {})
        rows[claim_id] = {"title_en": claim.title_en, "title_zh": claim.title_zh, "topics": list(claim.topics),
                          "seconds": estimate, "seeds": dict(claim.seeds), "verdict": last.get("verdict"),
                          "verdict_budget": last.get("budget"),
                          "verdict_current": bool(last) and last.get("source_hash") == claim.source_hash()}
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    print(f"{'ID':<4}  {'last verdict':<14} {'tiny':>6} {'quick':>6} {'full':>7}  topics       title")
    for claim_id, row in rows.items():
        secs = [f"{row['seconds'][b]:.0f}s" if b in row["seconds"] else "?" for b in registry.BUDGETS]
        verdict = (row["verdict"] or "-") + ("" if row["verdict_current"] or not row["verdict"] else "*")
        print(f"{claim_id:<4}  {verdict:<14} {secs[0]:>6} {secs[1]:>6} {secs[2]:>7}  "
              f"{','.join(row['topics']):<12} {row['title_en']}")
    print(f"{len(rows)} claims; times are estimates for all seeds of a budget; "
          "* = the claim changed since its verdict was recorded")
    return 0


def _validate_run(args):
    """Return (ids, None) or (None, error message)."""
    from . import registry
    from .executors import EXECUTORS

    if args.budget not in registry.BUDGETS:
        return None, f"run: --budget must be one of {', '.join(registry.BUDGETS)}, got {args.budget!r}"
    if args.seeds is not None and args.seeds < 1:
        return None, f"run: --seeds must be >= 1, got {args.seeds}"
    if args.seed_offset < 0:
        return None, f"run: --seed-offset must be >= 0, got {args.seed_offset}"
    if args.jobs < 1:
        return None, f"run: --jobs must be >= 1, got {args.jobs}"
    if args.executor is not None and args.executor not in EXECUTORS:
        return None, f"run: --executor must be one of {', '.join(EXECUTORS)}, got {args.executor!r}"
    if args.address and args.executor != "ray":
        return None, f"run: --address {args.address!r} needs --executor ray"
    if args.executor == "ray":
        from .executors import import_ray

        try:
            import_ray()
        except ImportError as exc:
            return None, f"run: {exc}"
    if args.write_verdicts and args.budget != "quick":
        return None, f"run: --write-verdicts records the quick budget's verdicts, got --budget {args.budget}"
    if args.all and args.ids:
        return None, f"run: give claim IDs or --all, not both (got --all and {' '.join(args.ids)})"
    if not args.all and not args.ids:
        return None, "run: name the claims to run (e.g. K06 K08) or pass --all"
    registered = registry.registered_ids()
    if args.all:
        if not registered:
            return None, "run: --all but no claim is registered"
        return registered, None
    ids = list(dict.fromkeys(i.upper() for i in args.ids))
    unknown = [i for i in ids if i not in registered]
    if unknown:
        return None, f"run: unknown claim {', '.join(unknown)}; registered: {', '.join(registered) or 'none'}"
    return ids, None


def _command(args, ids) -> str:
    """The command line that reproduces this run (recorded in verdicts.json)."""
    parts = ["deepnotes", "claims", "run"] + (["--all"] if args.all else list(ids))
    parts += ["--budget", args.budget]
    if args.seeds is not None:
        parts += ["--seeds", str(args.seeds)]
    if args.seed_offset:
        parts += ["--seed-offset", str(args.seed_offset)]
    if args.jobs != 1:
        parts += ["--jobs", str(args.jobs)]
    if args.executor:
        parts += ["--executor", args.executor]
    return " ".join(shlex.quote(p) for p in parts + ["--write-verdicts"])


def cmd_run(args) -> int:
    ids, error = _validate_run(args)
    if error:
        return _fail(error)
    from tqdm.auto import tqdm

    from . import registry
    from .frozen import write_verdicts
    from .lab import run_claims

    stream = sys.stderr if args.json else sys.stdout

    def show(evidence):
        tqdm.write(f"{evidence.summary_line()}  ({evidence.seconds:.1f} s)", file=stream)

    lab = run_claims(ids, budget=args.budget, seeds=args.seeds, seed_offset=args.seed_offset,
                     executor=args.executor, jobs=args.jobs, address=args.address, out=args.out,
                     force=args.force, progress=not args.no_progress, on_claim=show)
    for claim_id, errors in lab.errors.items():
        print(f"{claim_id}  error  {len(errors)} failed task(s); the first:\n{errors[0]}", file=sys.stderr)
    print(f"{len(lab.evidence)} of {len(ids)} claims judged; {lab.ran} seeds run, {lab.cached} from the cache; "
          f"{lab.wall_seconds:.1f} s wall; results in {args.out}", file=stream)
    if args.write_verdicts:
        path = write_verdicts(list(lab.evidence.values()), _command(args, ids), registry.registered_ids())
        print(f"wrote {path}", file=stream)
    if args.json:
        print(json.dumps({claim_id: {
            "verdict": ev.verdict, "budget": ev.budget, "seeds": ev.seeds, "seconds": round(ev.seconds, 3),
            "criteria": {name: {k: c[k] for k in ("verdict", "mean", "lo", "hi", "delta", "per_seed", "n",
                                                  "p_a_beats_b", "text_en", "text_zh")}
                         for name, c in ev.criteria.items()}}
            for claim_id, ev in sorted(lab.evidence.items())}, ensure_ascii=False))
    return 0 if lab.ok else 1


def cmd_report(args) -> int:
    from pathlib import Path

    from .report import build_report

    if not Path(args.out).is_dir():
        return _fail(f"report: no results folder {args.out!r}; run `deepnotes claims run` first")
    path = build_report(args.out)
    print(f"wrote {path}")
    return 0
