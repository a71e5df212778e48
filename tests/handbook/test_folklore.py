"""Folklore errors: every item of the catalogue (folklore.yaml) is flagged in the pitfalls of some entry,
or, for a garbled term, found by the search; the handbook flags at least 60 of them."""
import pytest

from deepnotes.handbook.entries import load_entries
from deepnotes.handbook.folklore import COMMON, catalogue, counts, flagged, is_search_hazard, unflagged
from deepnotes.handbook.schema import check_structure
from deepnotes.handbook.search import build_index

from .conftest import FIXTURES

ENTRIES = load_entries(deep=False)
WRITTEN = {e.id for e in ENTRIES}


@pytest.mark.covers("N1", "A4", "O1")
def test_every_catalogue_item_is_flagged_where_its_entry_exists():
    left = unflagged(ENTRIES)
    stats = counts(ENTRIES)
    print(f"\nfolklore: {stats['flagged_pitfalls']} flagged pitfalls ({stats['from_catalogue']} from the catalogue, "
          f"{stats['common']} common); catalogue items flagged {stats['catalogue_flagged']}/{stats['catalogue_items']}; "
          f"pending (entry not written yet): {left['pending'] or 'none'}")
    assert not left["missing"], f"catalogue items whose entry exists but no pitfall flags them: {left['missing']}"


def test_the_handbook_flags_at_least_60_folklore_errors():
    assert counts(ENTRIES)["flagged_pitfalls"] >= 60


def test_every_catalogue_item_is_flagged_in_its_home_entry():
    """Where the catalogue says a learner meets the error, that entry's pitfalls name it (it may be flagged elsewhere too)."""
    homes = {(entry_id, item_id) for entry_id, _, item_id in flagged(ENTRIES)}
    missing = [item_id for item_id, item in catalogue().items()
               if not is_search_hazard(item) and item["entry"] in WRITTEN and (item["entry"], item_id) not in homes]
    assert not missing, f"flagged elsewhere but not in their home entry: {missing}"


@pytest.mark.parametrize("item_id", [i for i, item in catalogue().items() if is_search_hazard(item)])
def test_garbled_terms_find_their_entry(item_id):
    item = catalogue()[item_id]
    if item["entry"] not in WRITTEN:
        pytest.skip(f"entry {item['entry']} not written yet")
    top = [hit_id for hit_id, _ in build_index(ENTRIES).search(item["query"], top=3)]
    assert item["entry"] in top, f"{item['query']!r} -> {top}"


def test_unknown_folklore_id_is_an_error_naming_file_and_field():
    import yaml

    data = yaml.safe_load((FIXTURES / "N2.yaml").read_text(encoding="utf-8"))
    data["pitfalls"][0]["folklore"] = "no-such-error"
    problems = check_structure(data, FIXTURES / "N2.yaml")
    assert any(p.startswith("N2.yaml: pitfalls[0].folklore: 'no-such-error'") for p in problems), problems
    data["pitfalls"][0]["folklore"] = COMMON
    assert check_structure(data, FIXTURES / "N2.yaml") == []
