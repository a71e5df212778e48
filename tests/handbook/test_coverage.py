"""The coverage map: inventory parsing, marker scanning, the baseline guard."""
import json
import textwrap

import pytest

from deepnotes.cli import main
from deepnotes.handbook import coverage
from deepnotes.handbook.inventory import load_inventory

SHARED_INVENTORY = coverage.find_tests_dir().parent.parent / "shared" / "mission" / "inventory.md"


def test_inventory_copy_lists_every_id_of_the_mission_inventory():
    ids = load_inventory()
    assert len([i for i in ids if i.startswith("K")]) == 50
    assert len([i for i in ids if not i.startswith("K")]) == 75
    for required in ("E1", "E6", "A6", "L4", "O9", "N4", "R7", "I6", "C7", "S7", "D4", "M2", "P4", "H1", "T5", "V1"):
        assert required in ids
    if SHARED_INVENTORY.is_file():  # the project's copy must not drift from the mission's table
        shared = load_inventory.__wrapped__(str(SHARED_INVENTORY))
        assert list(shared) == list(ids)
        assert all(shared[k] == ids[k] for k in ids)


def test_inventory_columns_parsed():
    inv = load_inventory()
    assert inv["A1"].claims == ("K02", "K03")
    assert inv["A1"].oracle == "torch" and inv["A1"].needs_tests
    assert not inv["T5"].needs_tests  # no impl, no oracle, no claim: an entry only
    assert inv["K01"].kind == "claim" and inv["K01"].needs_tests


def test_scan_finds_function_class_and_module_markers(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text("")
    (tmp_path / "pyproject.toml").write_text("")
    (tests / "test_a.py").write_text(textwrap.dedent('''
        import pytest
        pytestmark = [pytest.mark.covers("E2")]

        @pytest.mark.covers("E1", "A3")
        def test_one():
            assert True

        @pytest.mark.covers("A1")
        class TestGroup:
            @pytest.mark.covers("A2")
            def test_two(self):
                assert True

        def helper():
            pass
    '''))
    found = coverage.scan_tests(tests)
    assert found["E1"] == ["tests/test_a.py::test_one"]
    assert found["A3"] == ["tests/test_a.py::test_one"]
    assert found["A1"] == ["tests/test_a.py::TestGroup::test_two"]
    assert found["A2"] == ["tests/test_a.py::TestGroup::test_two"]
    assert found["E2"] == ["tests/test_a.py::TestGroup::test_two", "tests/test_a.py::test_one"]
    assert "helper" not in json.dumps(found)


def test_covered_needs_every_applicable_column(tmp_path):
    rows = coverage.coverage_map()
    assert set(rows) == set(load_inventory())
    for item_id, row in rows.items():
        if row["covered"]:
            assert row["tests_covered"] and row["entries"]
    # A topic that lists claims cannot be covered until those claims are registered.
    assert rows["A1"]["covered"] is False or set(load_inventory()["A1"].claims) <= set(rows["A1"]["claims"])


@pytest.mark.covers("E1")
def test_no_inventory_id_lost_its_tests():
    """CI guard: every ID recorded in the baseline still has at least one test."""
    rows = coverage.coverage_map()
    assert coverage.load_baseline(), "coverage baseline is empty"
    assert coverage.lost_coverage(rows) == []


def test_cli_coverage_json_last_line(capsys):
    assert main(["coverage", "--json"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    rows = json.loads(last)
    assert set(rows) == set(load_inventory())
    assert {"tests", "claims", "entries", "covered", "tests_covered"} <= set(rows["E1"])
    assert rows["E1"]["tests"], "E1 must be covered by tests"
