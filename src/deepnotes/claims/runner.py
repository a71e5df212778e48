"""Run a claim over seeds and judge it (in-process; the lab's executors build on this).

`run_claim("K06", budget="tiny")` runs seeds ``s .. s + n - 1`` (s = the claim's ``first_seed`` + ``seed_offset``) and
returns the per-seed results and the judgement.
"""
from __future__ import annotations

import math
import time

from .registry import BUDGETS, get


def check_result(claim, result: dict) -> None:
    """A seed's result must have finite metrics and every criterion's effect."""
    if not isinstance(result, dict) or "metrics" not in result or "effects" not in result:
        raise ValueError(f"claim {claim.id}: a seed must return a dict with 'metrics' and 'effects'")
    for name, value in result["metrics"].items():
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"claim {claim.id}: metric {name!r} must be a finite number, got {value!r}")
    missing = [c.name for c in claim.criteria if c.name not in result["effects"]]
    if missing:
        raise ValueError(f"claim {claim.id}: seed result lacks effects {missing}")


def run_seed(claim_id: str, seed: int, budget: str) -> dict:
    """One (claim, seed) task: the unit every executor runs."""
    if budget not in BUDGETS:
        raise ValueError(f"run_seed: budget must be one of {BUDGETS}, got {budget!r}")
    claim = get(claim_id)
    start = time.perf_counter()
    result = claim.run(seed, budget)
    check_result(claim, result)
    return {**result, "seed": seed, "seconds": time.perf_counter() - start}


def run_claim(claim_id: str, budget: str = "tiny", seeds: int | None = None, seed_offset: int = 0) -> dict:
    """Run every seed in this process and judge the claim."""
    claim = get(claim_id)
    n = seeds if seeds is not None else claim.seeds[budget]
    results = [run_seed(claim_id, claim.first_seed + seed_offset + i, budget) for i in range(n)]
    judged = claim.judge(results)
    return {"id": claim_id, "budget": budget, "results": results, "verdict": judged["verdict"],
            "criteria": {k: j.to_dict() for k, j in judged["criteria"].items()}}
