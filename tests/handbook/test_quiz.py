"""The FSRS quiz: grading rule, scheduling (Again sooner than Easy), state kept in SQLite across
restarts, due cards before new ones, answers from stdin, and `deepnotes quiz --stats`."""
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Card, Rating, Scheduler

from deepnotes.cli import main
from deepnotes.handbook.quiz import ReviewStore, make_scheduler, quiz_cards, run_session

from .conftest import FIXTURES

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _session(entries, answers, store, now=T0, **kw):
    out = io.StringIO()
    result = run_session(entries, io.StringIO(answers), out, store=store, scheduler=make_scheduler(fuzzing=False),
                         now=lambda: now, **kw)
    return result, out.getvalue()


def _a4_only(entries):
    return [e for e in entries if e.id == "A4"]


def test_choice_is_graded_again_when_wrong_good_when_right(tmp_path, fixture_entries):
    store = ReviewStore(tmp_path / "q.sqlite3")
    # A4's first item is a choice with answer C; its second is a short answer
    result, out = _session(_a4_only(fixture_entries), "A\n", store, new=1)
    assert result["reviewed"] == [{"key": "A4:0", "rating": "again", "due": result["reviewed"][0]["due"]}]
    assert "Wrong: the answer is C." in out and "That is ReLU." in out
    store2 = ReviewStore(tmp_path / "r.sqlite3")
    result, out = _session(_a4_only(fixture_entries), "c\n", store2, new=1)
    assert result["reviewed"][0]["rating"] == "good" and "Right." in out


def test_schedule_matches_fsrs_and_again_is_due_sooner_than_easy(tmp_path, fixture_entries):
    store = ReviewStore(tmp_path / "q.sqlite3")
    # item 0 (choice): wrong -> Again; item 1 (short): any answer, then self-rated 4 = Easy
    result, out = _session(_a4_only(fixture_entries), "B\nsome answer\n4\n", store, new=2)
    assert [r["rating"] for r in result["reviewed"]] == ["again", "easy"]
    again, easy = store.get("A4:0"), store.get("A4:1")
    assert again.due < easy.due
    assert again.due - T0 <= timedelta(minutes=10) and easy.due - T0 >= timedelta(days=1)
    # the same as reviewing fresh cards with the fsrs package directly
    scheduler = Scheduler(enable_fuzzing=False)
    expected_again, _ = scheduler.review_card(Card(), Rating.Again, review_datetime=T0)
    expected_easy, _ = scheduler.review_card(Card(), Rating.Easy, review_datetime=T0)
    assert again.due == expected_again.due and easy.due == expected_easy.due
    assert easy.stability == pytest.approx(expected_easy.stability)
    assert "Key points:" in out and "negative side has gradient alpha" in out


def test_state_survives_a_restart_and_due_cards_come_first(tmp_path, fixture_entries):
    path = tmp_path / "q.sqlite3"
    store = ReviewStore(path)
    _session(fixture_entries, "B\n", store, new=1)  # A4:0 wrong -> Again, due in minutes
    due = store.get("A4:0").due
    store.close()
    store = ReviewStore(path)  # a new process would open the same file
    assert store.get("A4:0").due == due and store.keys() == {"A4:0"}
    later = T0 + timedelta(hours=1)
    result, out = _session(fixture_entries, "C\nx\n3\n", store, now=later, new=1)
    assert [r["key"] for r in result["reviewed"]] == ["A4:0", "A4:1"]  # the due card, then one new one
    assert "[1/2] A4" in out


def test_topics_filter_and_zh_prompts(tmp_path, fixture_entries):
    store = ReviewStore(tmp_path / "q.sqlite3")
    result, out = _session(fixture_entries, "B\n", store, new=1, topics=["O3"], lang="zh")  # O4 names O3
    assert result["reviewed"][0]["key"] == "O4:0" and "答对了" in out
    assert set(quiz_cards(fixture_entries, ["N2"])) == {"N2:0", "N2:1", "N2:2"}


def test_end_of_input_ends_the_session_cleanly(tmp_path, fixture_entries):
    store = ReviewStore(tmp_path / "q.sqlite3")
    result, out = _session(fixture_entries, "", store, new=5)
    assert result["reviewed"] == [] and "0 cards reviewed" in out


def test_store_rejects_naive_times_and_bad_ratings(tmp_path):
    store = ReviewStore(tmp_path / "q.sqlite3")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.review("A4:0", 3, make_scheduler(False), datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="rating must be 1-4"):
        store.review("A4:0", 5, make_scheduler(False), T0)


def test_stats_count_due_cards_and_retention(tmp_path, fixture_entries):
    store = ReviewStore(tmp_path / "q.sqlite3")
    sched = make_scheduler(False)
    store.review("A4:0", 1, sched, T0)
    store.review("N2:0", 4, sched, T0)
    later = T0 + timedelta(hours=2)
    store.review("A4:0", 3, sched, later)  # a repeat review, not Again
    stats = store.stats(later + timedelta(minutes=1), set(quiz_cards(fixture_entries)), sched)
    assert stats["cards"] == 2 and stats["new"] == 7 and stats["reviews_30d"] == 1 and stats["retention_30d"] == 1.0
    assert 0 < stats["mean_retrievability"] <= 1


def test_quiz_command_reads_answers_from_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEEPNOTES_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("C\n"))
    assert main(["quiz", "--entries", str(FIXTURES), "--topics", "A4", "--new", "1"]) == 0
    assert "Right." in capsys.readouterr().out
    assert (tmp_path / "quiz.sqlite3").is_file()
    assert main(["quiz", "--entries", str(FIXTURES), "--stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert stats["cards"] == 1 and stats["due_now"] == 0 and stats["new"] == 8
    assert main(["quiz", "--entries", str(FIXTURES), "--topics", "Z1"]) == 2
    assert "unknown inventory IDs ['Z1']" in capsys.readouterr().err
