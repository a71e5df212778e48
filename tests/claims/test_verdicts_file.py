"""verdicts.json (shipped in the package): its verdicts are the rule's, and every claim has one."""
import json

import pytest

from deepnotes.claims import frozen, registry, verdicts
from deepnotes.claims.verdict import VERDICTS, judge

ENTRIES = verdicts()


def test_loader_reads_the_package_file_or_nothing(tmp_path):
    assert frozen.verdicts(tmp_path / "absent.json") == {}
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"claims": {"K01": {"verdict": "holds"}}}))
    assert frozen.verdicts(path) == {"K01": {"verdict": "holds"}}
    if frozen.VERDICTS_PATH.is_file():
        assert verdicts() == json.loads(frozen.VERDICTS_PATH.read_text(encoding="utf-8"))["claims"]


@pytest.mark.skipif(not ENTRIES, reason="verdicts.json not produced yet (make claims writes it)")
@pytest.mark.parametrize("claim_id", sorted(ENTRIES) or ["none"])
def test_stored_verdicts_follow_the_rule(claim_id):
    entry = ENTRIES[claim_id]
    assert entry["budget"] == "quick" and entry["command"].startswith("deepnotes claims run")
    assert len(entry["seeds"]) >= 2 and entry["date"]
    sub = {}
    for name, c in entry["criteria"].items():
        again = judge(name, c["effects"], c["delta"], paired=c["paired"])
        assert again.verdict == c["verdict"], f"{claim_id}/{name}: stored {c['verdict']}, rule {again.verdict}"
        assert again.per_seed == pytest.approx(c["per_seed"]) and again.mean == pytest.approx(c["mean"])
        assert len(c["effects"]) == len(entry["seeds"])
        sub[name] = again.verdict
    assert entry["verdict"] in VERDICTS
    claims = registry.load_all()
    if claim_id in claims and claims[claim_id].source_hash() == entry["source_hash"]:
        # The entry was produced by the code registered now: its criteria and combine rule apply.
        claim = claims[claim_id]
        assert set(sub) == {c.name for c in claim.criteria}
        assert claim.combine(sub) == entry["verdict"]


def test_every_registered_claim_has_an_entry():
    claims = registry.load_all()
    gone = [k for k in ENTRIES if k not in claims]
    assert not gone, f"verdicts.json has entries for claims no longer registered: {gone}"
    missing = [k for k in claims if k not in ENTRIES]
    changed = [k for k in claims if k in ENTRIES and ENTRIES[k]["source_hash"] != claims[k].source_hash()]
    if missing or changed:
        pytest.xfail(f"verdicts.json is behind the registry (no entry: {', '.join(missing) or 'none'}; "
                     f"code changed since the run: {', '.join(changed) or 'none'}): run `make claims`")
