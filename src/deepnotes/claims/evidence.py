"""Evidence: everything a reader needs to check a claim's verdict, in one JSON-able record.

For one claim run at one budget over seeds s_1 .. s_n, `Evidence` holds

* the per-seed results exactly as the experiment returned them (``metrics``, ``effects``,
  ``series``) with each seed's wall time;
* for every metric, its mean, standard deviation (ddof = 1; 0 for one seed), min and max
  over seeds (a metric's name says its arm, e.g. ``"bn/test_acc"``);
* for every criterion: the effect per seed, its mean, the 95% interval, P(A beats B) (the
  fraction of seeds with a positive effect), delta, the verdict, and the criterion's text
  in English and Chinese;
* the overall verdict (the claim's combine rule over its criteria);
* the claim's statement, method, caveats and the source code of its experiment;
* the figure files (names relative to the claim's folder);
* the environment: deepnotes / NumPy / Python versions, the BLAS NumPy calls (from
  threadpoolctl), the seeds, the budget, the wall time and the git commit when known.

``Evidence.from_dict(e.to_dict()) == e`` and the dict survives JSON unchanged: an interval end
that is unbounded (one seed) is ``None`` (JSON ``null``), as in `verdict.Judgement.to_dict`.
"""
from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..io import write_text_atomically


def summarize_metrics(results: list) -> dict:
    """Per-metric mean, sd (ddof = 1), min and max over the seeds' results."""
    names = sorted({name for r in results for name in r["metrics"]})
    summary = {}
    for name in names:
        values = np.array([r["metrics"][name] for r in results if name in r["metrics"]], dtype=np.float64)
        summary[name] = {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0,
                         "min": float(values.min()), "max": float(values.max()), "n": int(values.size)}
    return summary


def _git_commit() -> str | None:
    """The commit of the checkout deepnotes runs from, or None (an installed wheel, no git)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def environment() -> dict:
    """Versions, BLAS and machine of this process (what a reader needs to reproduce a number)."""
    import deepnotes

    blas = []
    try:
        from threadpoolctl import threadpool_info

        blas = [{k: pool.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                for pool in threadpool_info() if pool.get("user_api") == "blas"]
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass
    return {"deepnotes": deepnotes.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "machine": platform.machine(),
            "cpus": _cpu_count(), "blas": blas, "git_commit": _git_commit(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]) if sys.argv else ""}


def _cpu_count() -> int:
    """CPUs this process may use (the affinity mask, not the machine's total, where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class Evidence:
    """One claim, one budget, n seeds: the numbers, the judgement and where they came from."""

    id: str
    title_en: str
    title_zh: str
    statement_en: str
    statement_zh: str
    topics: list
    budget: str
    seeds: list
    results: list  # per-seed dicts: metrics, effects, series, seed, seconds
    metrics: dict  # name -> {mean, sd, min, max, n}
    criteria: dict  # name -> Judgement.to_dict() (lo / hi None when unbounded) + text_en, text_zh, effects
    verdict: str
    source: str  # the experiment's source code
    source_hash: str
    method_en: str = ""
    method_zh: str = ""
    caveats_en: str = ""
    caveats_zh: str = ""
    code: list = field(default_factory=list)
    references: list = field(default_factory=list)
    figures: list = field(default_factory=list)  # file names inside the claim's folder
    seconds: float = 0.0  # sum of the seeds' wall times (compute, wherever it ran)
    created: str = ""
    environment: dict = field(default_factory=dict)

    @classmethod
    def build(cls, claim, results: list, budget: str, figures=(), env: dict | None = None) -> "Evidence":
        """Judge ``claim`` on its per-seed ``results`` and collect the evidence."""
        results = sorted(results, key=lambda r: r["seed"])
        judged = claim.judge(results)
        criteria = {}
        for crit in claim.criteria:
            entry = judged["criteria"][crit.name].to_dict()
            entry.update(text_en=crit.text_en, text_zh=crit.text_zh,
                         effects=[r["effects"][crit.name] for r in results])
            criteria[crit.name] = entry
        return cls(
            id=claim.id, title_en=claim.title_en, title_zh=claim.title_zh, statement_en=claim.statement_en,
            statement_zh=claim.statement_zh, topics=list(claim.topics), budget=budget,
            seeds=[r["seed"] for r in results], results=results, metrics=summarize_metrics(results),
            criteria=criteria, verdict=judged["verdict"], source=claim.criterion_source(),
            source_hash=claim.source_hash(), method_en=claim.method_en, method_zh=claim.method_zh,
            caveats_en=claim.caveats_en, caveats_zh=claim.caveats_zh, code=list(claim.code),
            references=list(claim.references), figures=[Path(f).name for f in figures],
            seconds=float(sum(r.get("seconds", 0.0) for r in results)),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            environment=dict(env if env is not None else environment()))

    def summary_line(self) -> str:
        """``K20  holds  gn_minus_bn: +0.41 [0.38, 0.45]`` (every criterion, '; '-separated)."""
        parts = [f"{name}: {format_effect(c['mean'], c['lo'], c['hi'])}" for name, c in self.criteria.items()]
        return f"{self.id}  {self.verdict:<13}  " + "; ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Evidence":
        return cls(**json.loads(json.dumps(data)))  # a deep copy that cannot alias the caller's lists

    def save(self, path) -> Path:
        return write_text_atomically(path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False))

    @classmethod
    def load(cls, path) -> "Evidence":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def format_effect(mean: float, lo, hi) -> str:
    """``+0.41 [0.38, 0.45]``; an unbounded end (one seed; None or inf) prints as -inf / inf."""
    lo = -math.inf if lo is None else lo
    hi = math.inf if hi is None else hi

    def fmt(x, sign=""):
        return f"{x:{sign}.3g}" if math.isfinite(x) else ("-inf" if x < 0 else "inf")

    return f"{fmt(mean, '+')} [{fmt(lo)}, {fmt(hi)}]"
