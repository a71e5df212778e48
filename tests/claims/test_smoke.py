"""Every registered claim at the tiny budget returns complete evidence (not a particular verdict).

Parametrized over `registered_ids()`, so it grows as claims are added. Checked per claim:
every seed's declared metrics are finite numbers, every criterion is judged with a finite mean
and the rule's verdict, the evidence records the environment, and every figure file exists.
"""
import math

import pytest

from deepnotes.claims import registry
from deepnotes.claims.lab import run_claims
from deepnotes.claims.verdict import VERDICTS, judge

IDS = registry.registered_ids()


@pytest.mark.skipif(not IDS, reason="no claim registered yet")
@pytest.mark.parametrize("claim_id", [pytest.param(i, marks=pytest.mark.covers(i)) for i in IDS] or ["none"])
def test_claim_runs_at_tiny_budget(claim_id, tmp_path):
    claim = registry.get(claim_id)
    lab = run_claims([claim_id], budget="tiny", out=tmp_path)
    assert lab.ok, "\n".join(lab.errors.get(claim_id, []))
    ev = lab.evidence[claim_id]
    first = claim.first_seed
    assert ev.seeds == list(range(first, first + claim.seeds["tiny"])) and len(ev.results) == claim.seeds["tiny"]
    for result in ev.results:
        assert result["metrics"], f"{claim_id}: seed {result['seed']} reports no metrics"
        for name, value in result["metrics"].items():
            assert isinstance(value, (int, float)) and math.isfinite(value), f"{claim_id}: {name} = {value!r}"
    assert set(ev.criteria) == {c.name for c in claim.criteria}
    for crit in claim.criteria:
        judged = ev.criteria[crit.name]
        assert judged["verdict"] in VERDICTS and math.isfinite(judged["mean"])
        again = judge(crit.name, judged["effects"], crit.delta, paired=crit.paired)
        assert again.verdict == judged["verdict"]
    assert ev.verdict in VERDICTS
    assert ev.environment["numpy"] and ev.environment["budget"] == "tiny"
    assert ev.figures and all((tmp_path / claim_id / f).is_file() for f in ev.figures)
    assert (tmp_path / claim_id / "evidence.json").is_file()
