"""verdicts.json: the committed verdicts of the last full quick-budget run, shipped with the package.

Written by ``deepnotes claims run --all --budget quick --write-verdicts`` (``make claims``);
read through `verdicts()` (the handbook and ``deepnotes claims list`` read it, never the file
directly). One entry per claim::

    "K06": {"verdict": "holds", "budget": "quick", "seeds": [0, 1, 2],
            "command": "deepnotes claims run --all --budget quick --jobs 2 --write-verdicts",
            "date": "2026-12-03T07:00:00+00:00", "source_hash": "...", "seconds": 4.2,
            "deepnotes": "0.1.0", "git_commit": "...",
            "criteria": {"<name>": {"verdict", "mean", "lo", "hi", "delta", "paired", "n",
                                    "per_seed", "effects", "p_a_beats_b", "text_en", "text_zh"}}}

``effects`` are the per-seed effects as the experiment returned them (numbers, or [a, b]
pairs for an unpaired criterion), so the suite can recompute every verdict with
`deepnotes.claims.verdict.judge`. Writing merges: entries of claims that were not run are
kept, entries of claims no longer registered are dropped.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..io import write_text_atomically

VERDICTS_PATH = Path(__file__).with_name("verdicts.json")
_KEYS = ("verdict", "mean", "lo", "hi", "delta", "paired", "n", "per_seed", "effects", "p_a_beats_b",
         "text_en", "text_zh")


def verdicts(path=None) -> dict:
    """The committed verdicts by claim ID ({} when the file has not been produced yet)."""
    path = Path(path) if path is not None else VERDICTS_PATH
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("claims", {})


def entry(evidence, command: str) -> dict:
    """The verdicts.json entry of one claim's `Evidence`."""
    return {"verdict": evidence.verdict, "budget": evidence.budget, "seeds": list(evidence.seeds),
            "command": command, "date": evidence.created, "source_hash": evidence.source_hash,
            "seconds": round(evidence.seconds, 3), "deepnotes": evidence.environment.get("deepnotes"),
            "git_commit": evidence.environment.get("git_commit"),
            "criteria": {name: {k: c[k] for k in _KEYS} for name, c in evidence.criteria.items()}}


def write_verdicts(evidences, command: str, registered, path=None) -> Path:
    """Merge the entries of ``evidences`` into the file; drop IDs not in ``registered``."""
    path = Path(path) if path is not None else VERDICTS_PATH
    claims = {k: v for k, v in verdicts(path).items() if k in set(registered)}
    for ev in evidences:
        claims[ev.id] = entry(ev, command)
    doc = {"about": "Verdicts of the claims lab at the quick budget; regenerate with `make claims`.",
           "claims": dict(sorted(claims.items()))}
    return write_text_atomically(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
