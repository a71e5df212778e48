"""The registry: what @claim accepts and refuses, judging, source hashes, test claims not leaking."""
import pytest

from deepnotes.claims import Criterion, claim, registry
from deepnotes.claims.verdict import DOES_NOT_HOLD, HOLDS, MIXED

TEXTS = dict(title_en="t", title_zh="标题", statement_en="s", statement_zh="结论")


def crit(name="gap", delta=0.1, paired=True):
    return Criterion(name, delta, text_en="gap >= 0.1", text_zh="差值 >= 0.1", paired=paired)


@pytest.fixture
def scratch_ids():
    """IDs registered by a test are removed afterwards."""
    ids = []
    yield ids
    for claim_id in ids:
        registry.unregister(claim_id)


def test_criterion_validation():
    with pytest.raises(ValueError, match="name"):
        Criterion("", 0.1, "a", "b")
    with pytest.raises(ValueError, match="delta must be >= 0, got -0.5"):
        Criterion("gap", -0.5, "a", "b")
    with pytest.raises(ValueError, match="text_en and text_zh"):
        Criterion("gap", 0.1, "a", "  ")
    with pytest.raises(ValueError, match="delta"):
        Criterion("gap", float("nan"), "a", "b")


@pytest.mark.parametrize("bad_id", ["K1", "k01", "X01", "K001", ""])
def test_claim_id_format(bad_id):
    with pytest.raises(ValueError, match="ID must look like 'K07'"):
        claim(bad_id, topics=[], criteria=[crit()], **TEXTS)


def test_claim_needs_criteria_and_texts():
    with pytest.raises(ValueError, match="non-empty list of Criterion"):
        claim("K97", topics=[], criteria=[], **TEXTS)
    with pytest.raises(ValueError, match="non-empty list of Criterion"):
        claim("K97", topics=[], criteria=["gap"], **TEXTS)
    with pytest.raises(ValueError, match="criterion names repeat"):
        claim("K97", topics=[], criteria=[crit(), crit()], **TEXTS)
    with pytest.raises(ValueError, match="statement_zh is empty"):
        claim("K97", topics=[], criteria=[crit()], **{**TEXTS, "statement_zh": " "})


def test_register_judge_and_unregister(scratch_ids):
    @claim("K97", topics=["N1"], criteria=[crit("a"), crit("b", delta=0.0)], seeds={"tiny": 3}, **TEXTS)
    def k97(seed, budget):
        return {"metrics": {"m": float(seed)}, "effects": {"a": 0.5 + 0.01 * seed, "b": -1.0 - 0.01 * seed}}

    scratch_ids.append("K97")
    assert "K97" in registry.registered_ids()
    assert registry.get("K97") is k97 and k97.seeds["tiny"] == 3 and k97.seeds["quick"] == 3
    results = [k97(s, "tiny") for s in range(3)]
    judged = k97.judge(results)
    assert judged["criteria"]["a"].verdict == HOLDS
    assert judged["criteria"]["b"].verdict == DOES_NOT_HOLD
    assert judged["verdict"] == DOES_NOT_HOLD  # all_of by default
    with pytest.raises(KeyError, match="no effect 'b'"):
        k97.judge([{"effects": {"a": 1.0}}])
    registry.unregister("K97")
    assert "K97" not in registry.registered_ids()


def test_first_seed_moves_every_run_of_the_claim(scratch_ids, fake_claim, tmp_path):
    """A claim re-designed after some seeds were seen starts at fresh seeds, and --seed-offset adds."""
    from deepnotes.claims.lab import run_claims
    from deepnotes.claims.runner import run_claim

    @claim("K97", topics=["N1"], criteria=[crit("a")], first_seed=100, **TEXTS)
    def k97(seed, budget):
        return {"metrics": {"m": float(seed)}, "effects": {"a": float(seed)}}

    scratch_ids.append("K97")
    assert k97.first_seed == 100
    assert [r["seed"] for r in run_claim("K97", "tiny")["results"]] == [100, 101]
    assert [r["seed"] for r in run_claim("K97", "tiny", seed_offset=5)["results"]] == [105, 106]
    fake_claim.claim.first_seed = 7
    lab = run_claims(["K99"], budget="tiny", out=tmp_path / "runs", figures=False)
    assert lab.ok and lab.evidence["K99"].seeds == [7, 8]
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="first_seed must be an int >= 0"):
            claim("K96", topics=[], criteria=[crit()], first_seed=bad, **TEXTS)


def test_custom_combine_and_bad_combine(scratch_ids):
    @claim("K96", topics=[], criteria=[crit("a"), crit("b")], combine=lambda v: MIXED, **TEXTS)
    def k96(seed, budget):
        return {"metrics": {}, "effects": {"a": 1.0, "b": 1.0}}

    @claim("K95", topics=[], criteria=[crit("a")], combine=lambda v: "probably", **TEXTS)
    def k95(seed, budget):
        return {"metrics": {}, "effects": {"a": 1.0}}

    scratch_ids += ["K96", "K95"]
    assert k96.judge([k96(0, "tiny"), k96(1, "tiny")])["verdict"] == MIXED
    with pytest.raises(ValueError, match="combine returned 'probably'"):
        k95.judge([k95(0, "tiny")])


def test_same_id_from_two_functions_is_refused(scratch_ids):
    @claim("K94", topics=[], criteria=[crit()], **TEXTS)
    def first(seed, budget):
        return {}

    scratch_ids.append("K94")

    with pytest.raises(ValueError, match="registered twice"):
        @claim("K94", topics=[], criteria=[crit()], **TEXTS)
        def second(seed, budget):
            return {}


def test_get_unknown_id_names_the_registered_ones():
    with pytest.raises(KeyError, match="no claim 'K00'"):
        registry.get("K00")


def test_source_hash_follows_the_module(fake_claim):
    before = fake_claim.claim.source_hash()
    assert before == fake_claim.claim.source_hash() and len(before) == 16
    assert "def fake" in fake_claim.claim.criterion_source()
    # Editing the file without re-importing it changes nothing: the hash names the code that runs.
    fake_claim.path.write_text(fake_claim.path.read_text() + "\n# edited\n")
    assert fake_claim.claim.source_hash() == before
    fake_claim.edit()  # re-imported: a new version of the claim
    assert fake_claim.claim.source_hash() != before


def test_registered_claims_are_well_formed():
    """Every registered claim: topics and criteria texts present, budgets known, seeds >= 2."""
    from deepnotes.handbook.inventory import load_inventory

    known = load_inventory()
    for claim_id, c in registry.load_all().items():
        assert claim_id in known, f"{claim_id} is not in the inventory"
        assert c.topics and all(t in known for t in c.topics), f"{claim_id}: topics {c.topics}"
        assert set(c.seconds) <= set(registry.BUDGETS), f"{claim_id}: seconds keys {set(c.seconds)}"
        assert all(c.seeds[b] >= 2 for b in registry.BUDGETS), f"{claim_id}: seeds {c.seeds}"
        assert c.caveats_en.strip() and c.caveats_zh.strip(), f"{claim_id}: caveats missing"
