"""The results cache: one JSON file per (claim, seed, budget), keyed by the claim's source hash.

    OUT/cache/K20/quick-seed3-1f2e3d4c5b6a7980.json

A seed's result is written (atomically: `deepnotes.io.write_text_atomically`) as soon as its
task finishes, so an interrupted run resumes where it stopped: the next run finds the seeds
already done and runs only the rest. The file name carries `Claim.source_hash()` (a hash of
the module that defines the claim), so editing a claim makes its old results invisible and
it re-runs; ``--force`` ignores the cache (and overwrites it). A file that cannot be read or
whose content does not match its key counts as missing.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..io import write_text_atomically
from .registry import BUDGETS


class ResultCache:
    """Per-seed results of claims under ``root / "cache"``."""

    def __init__(self, out_dir):
        self.root = Path(out_dir) / "cache"

    def path(self, claim, seed: int, budget: str) -> Path:
        if budget not in BUDGETS:
            raise ValueError(f"ResultCache.path: budget must be one of {BUDGETS}, got {budget!r}")
        return self.root / claim.id / f"{budget}-seed{int(seed)}-{claim.source_hash()}.json"

    def get(self, claim, seed: int, budget: str) -> dict | None:
        """The cached result of this seed for the claim's current code, or None."""
        path = self.path(claim, seed, budget)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        key = {"id": claim.id, "seed": int(seed), "budget": budget, "source_hash": claim.source_hash()}
        if not isinstance(record, dict) or any(record.get(k) != v for k, v in key.items()):
            return None
        return record.get("result")

    def put(self, claim, seed: int, budget: str, result: dict) -> Path:
        record = {"id": claim.id, "seed": int(seed), "budget": budget, "source_hash": claim.source_hash(),
                  "result": result}
        return write_text_atomically(self.path(claim, seed, budget), json.dumps(record))

    def stale(self, claim) -> list[Path]:
        """Files of this claim written by other versions of its code (safe to delete)."""
        folder = self.root / claim.id
        current = claim.source_hash()
        return sorted(p for p in folder.glob("*.json") if not p.stem.endswith(current)) if folder.is_dir() else []
