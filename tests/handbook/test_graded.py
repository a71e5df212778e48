"""Graded multiple-choice items: every item of the inventory's list is in an entry, with all its options,
the official answer, the project's answer and evidence; grading in `deepnotes quiz`; the schema's checks."""
import io
from datetime import datetime, timezone

import pytest
import yaml

from deepnotes.handbook.entries import load_entries
from deepnotes.handbook.graded import grade, graded_items, letters, parse_answer
from deepnotes.handbook.quiz import ReviewStore, make_scheduler, quiz_cards, run_session
from deepnotes.handbook.schema import check_structure
from deepnotes.handbook.show import format_entry

from .conftest import FIXTURES

ENTRIES = load_entries(deep=False)
# the inventory's list (quiz 003 of the interview notes, items 21 and 23-28) and where each belongs
EXPECTED = {"cv-q21": "O3", "cv-q23": "C7", "cv-q24": "A3", "cv-q25": "O3", "cv-q26": "I2", "cv-q27": "O5",
            "cv-q28": "R6"}


@pytest.mark.covers("A3", "I2", "O3", "O5", "C7", "R6")
def test_every_inventory_item_is_graded_in_the_entry_it_belongs_to():
    found = {item["id"]: entry.id for entry, item in graded_items(ENTRIES)}
    assert len(found) == len(graded_items(ENTRIES)), "graded item IDs must be unique across the handbook"
    assert found == EXPECTED
    statuses = {item["id"]: item["status"] for _, item in graded_items(ENTRIES)}
    assert statuses["cv-q24"] == "wrong" and statuses["cv-q26"] == "disputed" and statuses["cv-q27"] == "agrees"
    print("\ngraded items: " + ", ".join(f"{i} ({statuses[i]})" for i in sorted(statuses)))


def test_a_disputed_or_wrong_official_answer_is_explained_in_both_languages():
    for _, item in graded_items(ENTRIES):
        if item["status"] in ("disputed", "wrong", "qualified"):
            assert "official" in item["why"]["en"].lower() or "intended" in item["why"]["en"].lower(), item["id"]
            assert "官方" in item["why"]["zh"] or "出题人" in item["why"]["zh"], item["id"]


def test_answers_parse_and_grade_against_the_projects_answer():
    item = {"options": [{}] * 4, "project": [0, 1, 3]}
    assert parse_answer("a, b d", 4) == [0, 1, 3] and parse_answer("4 1", 4) == [0, 3]
    assert parse_answer("E", 4) is None and parse_answer("maybe", 4) is None
    assert grade(item, "ABD") and grade(item, [3, 1, 0]) and not grade(item, "ABC") and not grade(item, "AB")
    assert letters([3, 0]) == "AD"


def test_quiz_plays_a_graded_item_and_shows_the_official_answer(tmp_path):
    a3 = [e for e in ENTRIES if e.id == "A3"]
    key = "A3:graded:cv-q24"
    assert key in quiz_cards(a3)
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    for answer, rating in (("ABC", "again"), ("abd", "good")):
        store, out = ReviewStore(tmp_path / f"{answer}.sqlite3"), io.StringIO()
        known = set(quiz_cards(a3)) - {key}  # the other cards: seen and rated Easy, so not due now
        for k in known:
            store.review(k, 4, make_scheduler(fuzzing=False), t0)
        result = run_session(a3, io.StringIO(f"{answer}\n"), out, store=store, scheduler=make_scheduler(fuzzing=False),
                             now=lambda: t0, new=1)
        assert result["reviewed"][0]["key"] == key and result["reviewed"][0]["rating"] == rating, out.getvalue()
        assert "Official answer ABC; the project's answer ABD: the official answer is wrong." in out.getvalue()


def test_show_prints_graded_items_with_both_answers():
    text = format_entry(next(e for e in ENTRIES if e.id == "I2"), lang="en")
    assert "[cv-q26]" in text and "official answer: C; our answer: AC (the official answer is disputed)" in text


def test_schema_names_the_file_and_field_of_a_bad_graded_item():
    data = yaml.safe_load((FIXTURES / "N2.yaml").read_text(encoding="utf-8"))
    good = {"id": "x-q1", "source": {"en": "s", "zh": "来源"}, "prompt": {"en": "p", "zh": "题"},
            "options": [{"en": "a", "zh": "甲"}, {"en": "b", "zh": "乙"}], "official": [0], "project": [1],
            "status": "wrong", "why": {"en": "w", "zh": "因为"}, "evidence": ["claim:K20"]}
    data["graded"] = [good]
    assert check_structure(data, FIXTURES / "N2.yaml") == []
    for change, field in (({"project": [2]}, "graded[0].project"), ({"status": "agrees"}, "graded[0].status"),
                          ({"status": "maybe"}, "graded[0].status"), ({"evidence": []}, "graded[0].evidence"),
                          ({"options": [{"en": "a", "zh": "甲"}]}, "graded[0].options")):
        data["graded"] = [{**good, **change}]
        problems = check_structure(data, FIXTURES / "N2.yaml")
        assert any(p.startswith(f"N2.yaml: {field}:") for p in problems), (change, problems)
