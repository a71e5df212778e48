"""The results cache: an interrupted run resumes, a changed claim re-runs, --force ignores it."""
import json

from deepnotes.claims.cache import ResultCache
from deepnotes.claims.lab import run_claims


def test_interrupted_run_resumes_where_it_stopped(fake_claim, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv("DEEPNOTES_TEST_FAIL_ONCE", str(tmp_path / "failed-once"))
    first = run_claims(["K99"], budget="tiny", seeds=3, out=out, figures=False)
    assert not first.ok and "simulated interruption on seed 1" in first.errors["K99"][0]
    assert "K99" not in first.evidence and first.ran == 2  # seeds 0 and 2 finished and were cached
    cache = ResultCache(out)
    assert [cache.get(fake_claim.claim, s, "tiny") is not None for s in range(3)] == [True, False, True]
    mtime = cache.path(fake_claim.claim, 0, "tiny").stat().st_mtime_ns

    second = run_claims(["K99"], budget="tiny", seeds=3, out=out, figures=False)
    assert second.ok and (second.ran, second.cached) == (1, 2)  # only the failed seed ran again
    assert second.evidence["K99"].seeds == [0, 1, 2]
    assert cache.path(fake_claim.claim, 0, "tiny").stat().st_mtime_ns == mtime

    fresh = run_claims(["K99"], budget="tiny", seeds=3, out=tmp_path / "fresh", figures=False)
    assert [r["metrics"] for r in fresh.evidence["K99"].results] == \
           [r["metrics"] for r in second.evidence["K99"].results]


def test_changed_claim_reruns_and_force_ignores_the_cache(fake_claim, tmp_path):
    out = tmp_path / "out"
    first = run_claims(["K99"], budget="tiny", seeds=2, out=out, figures=False)
    assert (first.ran, first.cached) == (2, 0)
    again = run_claims(["K99"], budget="tiny", seeds=2, out=out, figures=False)
    assert (again.ran, again.cached) == (0, 2)
    assert again.evidence["K99"].results == first.evidence["K99"].results

    old_hash = fake_claim.claim.source_hash()
    fake_claim.edit()  # VERSION = 2: a different module source, a different hash
    changed = run_claims(["K99"], budget="tiny", seeds=2, out=out, figures=False)
    assert (changed.ran, changed.cached) == (2, 0)
    assert changed.evidence["K99"].metrics["version"]["mean"] == 2.0
    assert changed.evidence["K99"].source_hash != old_hash
    assert len(ResultCache(out).stale(fake_claim.claim)) == 2  # the old version's files

    forced = run_claims(["K99"], budget="tiny", seeds=2, out=out, figures=False, force=True)
    assert (forced.ran, forced.cached) == (2, 0)
    other_budget = run_claims(["K99"], budget="quick", seeds=2, out=out, figures=False)
    assert (other_budget.ran, other_budget.cached) == (2, 0)  # the budget is part of the key


def test_unreadable_or_mismatched_files_count_as_missing(fake_claim, tmp_path):
    cache = ResultCache(tmp_path)
    claim = fake_claim.claim
    cache.put(claim, 0, "tiny", {"metrics": {"x": 1.0}, "effects": {}})
    assert cache.get(claim, 0, "tiny") == {"metrics": {"x": 1.0}, "effects": {}}
    path = cache.path(claim, 0, "tiny")
    assert path.parent == tmp_path / "cache" / "K99" and claim.source_hash() in path.name
    assert not list(path.parent.glob(".*.tmp"))  # the atomic writer leaves no temporary file

    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "seed": 5}))  # a file whose content is not its key
    assert cache.get(claim, 0, "tiny") is None
    path.write_text('{"id": "K99", "se')  # a truncated file
    assert cache.get(claim, 0, "tiny") is None
    assert cache.get(claim, 1, "tiny") is None  # never written


def test_results_of_other_code_are_refused(fake_claim, tmp_path, monkeypatch):
    """A worker that loaded another version of the claim (file edited mid-run) fails its seed."""
    from deepnotes.claims import executors

    real = executors.run_task
    monkeypatch.setattr(executors, "run_task", lambda task, jobs=1: {**real(task, jobs), "source_hash": "0" * 16})
    lab = run_claims(["K99"], budget="tiny", seeds=2, out=tmp_path, figures=False)
    assert not lab.ok and "changed during the run" in lab.errors["K99"][0]
    assert ResultCache(tmp_path).get(fake_claim.claim, 0, "tiny") is None
