"""The Anki package: note count, GUIDs stable across builds (a re-import updates, never
duplicates), escaped HTML, MathJax delimiters, tags per family."""
import sqlite3
import zipfile

import genanki
import pytest

from deepnotes.cli import main
from deepnotes.handbook.anki import DECK_ID, MODEL_ID, build_deck

from .conftest import FIXTURES


def _notes(apkg, tmp_path):
    with zipfile.ZipFile(apkg) as z:
        name = "collection.anki21" if "collection.anki21" in z.namelist() else "collection.anki2"
        z.extract(name, tmp_path / apkg.stem)
    db = sqlite3.connect(tmp_path / apkg.stem / name)
    try:
        notes = db.execute("SELECT guid, flds, tags, mid FROM notes ORDER BY guid").fetchall()
        decks = db.execute("SELECT decks FROM col").fetchone()[0]
    finally:
        db.close()
    return notes, decks


def test_deck_has_one_note_per_question_and_quiz_item_with_stable_guids(tmp_path, fixture_entries):
    first = build_deck(fixture_entries, tmp_path / "a.apkg", "both")
    second = build_deck(fixture_entries, tmp_path / "b.apkg", "zh")
    notes_a, decks = _notes(tmp_path / "a.apkg", tmp_path)
    notes_b, _ = _notes(tmp_path / "b.apkg", tmp_path)
    expected = sum(1 + len(e.data["quiz"]) for e in fixture_entries)
    assert first["notes"] == second["notes"] == len(notes_a) == len(notes_b) == expected
    guids = [n[0] for n in notes_a]
    assert guids == [n[0] for n in notes_b] and len(set(guids)) == expected  # same notes, no duplicates
    assert genanki.guid_for("deepnotes", "N2", "q") in guids and genanki.guid_for("deepnotes", "O4", "2") in guids
    assert {n[3] for n in notes_a} == {MODEL_ID} and str(DECK_ID) in decks


def test_fields_are_escaped_and_formulas_use_mathjax_delimiters(tmp_path, fixture_entries):
    build_deck(fixture_entries, tmp_path / "a.apkg", "both")
    notes, _ = _notes(tmp_path / "a.apkg", tmp_path)
    fields = "\x1f".join(n[1] for n in notes)
    assert r"\(\frac{d}{dz} \alpha (e^z - 1)" in fields  # inline formula for MathJax
    assert "z &lt;= 0" in fields and "z <= 0" not in fields  # text is HTML-escaped
    assert "$" not in fields.replace("$5", "")
    assert "负半轴" in fields and "negative side" in fields


def test_tags_name_the_family_and_the_ids(tmp_path, fixture_entries):
    build_deck(fixture_entries, tmp_path / "a.apkg", "en")
    notes, _ = _notes(tmp_path / "a.apkg", tmp_path)
    tags = {t for n in notes for t in n[2].split()}
    assert {"deepnotes", "family::A", "family::N", "family::O", "id::A4", "id::A3", "id::O3"} <= tags
    fields = "".join(n[1] for n in notes)
    assert "负半轴" not in fields  # English only


def test_anki_command_and_bad_arguments(tmp_path, capsys):
    assert main(["anki", str(tmp_path / "deck.apkg"), "--entries", str(FIXTURES), "--lang", "zh"]) == 0
    assert "12 notes from 3 entries" in capsys.readouterr().out
    with pytest.raises(ValueError, match="must end in .apkg"):
        build_deck([], tmp_path / "deck.zip")
    assert main(["anki", str(tmp_path / "deck.txt"), "--entries", str(FIXTURES)]) == 2
