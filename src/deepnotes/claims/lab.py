"""The lab: run claims over seeds on an executor, with the cache, figures and evidence files.

    from deepnotes.claims.lab import run_claims
    outcome = run_claims(["K06", "K08"], budget="quick", executor="process", jobs=2, out="runs/claims")
    outcome.evidence["K06"].verdict

For each claim, seeds ``s .. s + n - 1`` with s = the claim's ``first_seed`` + ``seed_offset``
(n = ``seeds`` or the claim's default for the budget) become (claim, seed) tasks. Cached seeds (see `cache`) are not
re-run unless ``force``. When every seed of a claim is in, the claim is judged, its figures
are drawn into ``OUT/<ID>/`` and its evidence is written to ``OUT/<ID>/evidence.json``.
A claim with a failed seed is not judged: the failure is reported, the other claims go on,
and the next run resumes from the cache. Every result is filed under the hash of the code
that produced it (`Claim.source_hash`, taken when the claim's module was imported): a worker
that loaded a different version of a claim than this process (the file was edited during
the run) fails that seed instead of mixing two versions in one verdict.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cache import ResultCache
from .evidence import Evidence, environment
from .executors import Task, make_executor
from .registry import BUDGETS, get

DEFAULT_OUT = Path("runs/claims")


def plain(obj):
    """A JSON-able copy: NumPy scalars and arrays become floats / ints / lists; tuples lists."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def normalize(result: dict) -> dict:
    """The result as it reads back from the cache (so fresh and cached runs give equal evidence)."""
    return json.loads(json.dumps(plain(result)))


@dataclass
class LabRun:
    """What `run_claims` did: evidence per judged claim, errors per failed claim, counts."""

    evidence: dict = field(default_factory=dict)  # ID -> Evidence
    errors: dict = field(default_factory=dict)  # ID -> list of "seed s: traceback"
    ran: int = 0  # tasks run now
    cached: int = 0  # tasks read from the cache
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


def _module_file(claim) -> str:
    module = sys.modules.get(claim.module)
    return str(getattr(module, "__file__", "") or "")


def draw_figures(claim, results: list, out_dir: Path) -> list[Path]:
    """The claim's own figures plus the lab's effect plot (bars with per-seed dots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if claim.plot is not None:
        paths = [Path(p) for p in (claim.plot(results, out_dir) or [])]
        plt.close("all")
        missing = [str(p) for p in paths if not Path(p).is_file()]
        if missing:
            raise FileNotFoundError(f"claim {claim.id}: figures returned but not written: {missing}")
    paths.append(effects_figure(claim, results, out_dir / "effects.png"))
    return paths


def effects_figure(claim, results: list, path: Path) -> Path:
    """One panel per criterion: the per-seed effects (dots), their mean (bar), its 95%
    interval (error bar) and the threshold delta (dashed line)."""
    import matplotlib.pyplot as plt

    judged = claim.judge(results)["criteria"]
    n = len(claim.criteria)
    fig, axes = plt.subplots(1, n, figsize=(2.2 + 2.0 * n, 3.2), squeeze=False)
    for ax, crit in zip(axes[0], claim.criteria):
        j = judged[crit.name]
        lo = j.lo if math.isfinite(j.lo) else min(j.per_seed)
        hi = j.hi if math.isfinite(j.hi) else max(j.per_seed)
        ax.bar([0], [j.mean], width=0.5, color="#9ecae1", edgecolor="#3182bd")
        ax.errorbar([0], [j.mean], yerr=[[j.mean - lo], [hi - j.mean]], color="black", capsize=6)
        spread = np.linspace(-0.12, 0.12, len(j.per_seed)) if len(j.per_seed) > 1 else [0.0]
        ax.scatter(spread, j.per_seed, color="#08519c", zorder=3, s=18, label="seeds")
        ax.axhline(crit.delta, color="#d62728", linestyle="--", linewidth=1, label=f"delta = {crit.delta:g}")
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.set_xticks([])
        ax.set_xlim(-0.6, 0.6)
        ax.set_title(f"{crit.name}\n{j.verdict}", fontsize=9)
        ax.set_ylabel("effect (per seed)")
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(f"{claim.id}: {claim.title_en}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run_claims(ids, budget: str = "quick", seeds: int | None = None, seed_offset: int = 0,
               executor: str | None = None, jobs: int = 1, address: str | None = None,
               out=DEFAULT_OUT, force: bool = False, progress: bool = False, figures: bool = True,
               on_claim=None) -> LabRun:
    """Run the claims ``ids`` (see the module docstring); ``on_claim(evidence)`` is called as
    each claim is judged. ``executor`` None means "process" when ``jobs > 1``, else "local"."""
    if budget not in BUDGETS:
        raise ValueError(f"run_claims: budget must be one of {BUDGETS}, got {budget!r}")
    if seeds is not None and int(seeds) < 1:
        raise ValueError(f"run_claims: seeds must be >= 1, got {seeds}")
    if int(seed_offset) < 0:
        raise ValueError(f"run_claims: seed_offset must be >= 0, got {seed_offset}")
    if int(jobs) < 1:
        raise ValueError(f"run_claims: jobs must be >= 1, got {jobs}")
    claims = {claim_id: get(claim_id) for claim_id in ids}
    out = Path(out)
    cache = ResultCache(out)
    start = time.perf_counter()
    run = LabRun()
    done = {claim_id: {} for claim_id in claims}  # ID -> seed -> result
    wanted, pending = {}, []
    for claim_id, claim in claims.items():
        n = int(seeds) if seeds is not None else claim.seeds[budget]
        wanted[claim_id] = [claim.first_seed + int(seed_offset) + i for i in range(n)]
        for seed in wanted[claim_id]:
            hit = None if force else cache.get(claim, seed, budget)
            if hit is not None:
                done[claim_id][seed] = hit
                run.cached += 1
            else:
                pending.append(Task(claim_id, seed, budget, claim.module, _module_file(claim)))

    # Longest tasks first (the claims' own estimates): parallel workers then finish together.
    pending.sort(key=lambda task: -claims[task.claim_id].seconds.get(budget, 0.0))
    env = environment()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=run.cached + len(pending), initial=run.cached, unit="seed", desc=f"claims ({budget})",
                   dynamic_ncols=True, leave=False)

    def finish(claim_id):
        if run.errors.get(claim_id) or len(done[claim_id]) < len(wanted[claim_id]):
            return
        claim = claims[claim_id]
        results = [done[claim_id][s] for s in wanted[claim_id]]
        folder = out / claim_id
        try:
            paths = draw_figures(claim, results, folder) if figures else []
            evidence = Evidence.build(claim, results, budget, paths, {**env, "budget": budget,
                                                                       "seeds": wanted[claim_id]})
        except Exception as exc:  # noqa: BLE001 - a broken figure or judgement fails this claim only
            run.errors.setdefault(claim_id, []).append(f"judging / figures: {type(exc).__name__}: {exc}")
            return
        evidence.save(folder / "evidence.json")
        run.evidence[claim_id] = evidence
        if on_claim is not None:
            on_claim(evidence)

    for claim_id in claims:  # fully cached claims are judged before anything runs
        if len(done[claim_id]) == len(wanted[claim_id]):
            finish(claim_id)
    try:
        with make_executor(executor or ("process" if jobs > 1 else "local"), jobs, address) as ex:
            for task, outcome in ex.imap(pending):
                ran_hash, expected = outcome.get("source_hash"), claims[task.claim_id].source_hash()
                if outcome["ok"] and ran_hash != expected:
                    outcome = {"ok": False, "error": f"the claim's code changed during the run (this run started "
                                                     f"with {expected}, the worker ran {ran_hash}): run it again"}
                if outcome["ok"]:
                    result = normalize(outcome["result"])
                    cache.put(claims[task.claim_id], task.seed, budget, result)
                    done[task.claim_id][task.seed] = result
                    run.ran += 1
                else:
                    run.errors.setdefault(task.claim_id, []).append(f"seed {task.seed}: {outcome['error']}")
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(f"{task.claim_id} seed {task.seed}")
                finish(task.claim_id)
    finally:
        if bar is not None:
            bar.close()
    run.wall_seconds = time.perf_counter() - start
    return run
