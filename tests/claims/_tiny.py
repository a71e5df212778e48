"""The check every claim family's test file runs once per claim: the claim at the tiny budget returns
every criterion, finite metrics and its figures (never a particular verdict)."""
import math

from deepnotes.claims import registry, runner


def check_runs_at_tiny(claim_id, out_dir):
    out = runner.run_claim(claim_id, "tiny")
    claim = registry.get(claim_id)
    assert set(out["criteria"]) == {c.name for c in claim.criteria}
    assert all(math.isfinite(v) for r in out["results"] for v in r["metrics"].values())
    paths = claim.plot(out["results"], out_dir)
    assert paths and all(p.is_file() for p in paths)
