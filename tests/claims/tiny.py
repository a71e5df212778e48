"""The check every claim module's tests share: the claim runs at the tiny budget and draws its figures."""
import math

from deepnotes.claims import registry, runner


def assert_runs_at_tiny(claim_id, out_dir):
    """Run `claim_id` at tiny (all its seeds): every criterion judged, finite metrics, figures written."""
    out = runner.run_claim(claim_id, "tiny")
    claim = registry.get(claim_id)
    assert set(out["criteria"]) == {c.name for c in claim.criteria}
    assert all(math.isfinite(v) for r in out["results"] for v in r["metrics"].values())
    paths = claim.plot(out["results"], out_dir)
    assert paths and all(p.is_file() for p in paths)
