"""``deepnotes quiz``: the entries' quiz items as flash cards scheduled by FSRS.

Every quiz item is one card, keyed ``<entry ID>:<item index>`` (``N2:0``). The schedule is FSRS
(Free Spaced Repetition Scheduler; Ye, Su and Cao, "A Stochastic Shortest Path Algorithm for
Optimizing Spaced Repetition Scheduling", KDD 2022; the ``fsrs`` package, v6): each answer is rated
Again / Hard / Good / Easy, and the scheduler moves the card's due date accordingly.

Grading rule:

* multiple choice is graded automatically: a wrong option is rated **Again**, the right one
  **Good** (a lucky guess should not push a card out by weeks, so never Easy);
* graded multiple-choice items (an entry's ``graded`` list, `deepnotes.handbook.graded`) are graded
  automatically against the project's answer (all its options, e.g. ``AD``), then the collection's
  official answer, the project's judgement of it and the evidence are shown; keyed
  ``<entry ID>:graded:<item id>``;
* short-answer and derivation items are self-graded: the key points (or the solution) are shown
  after the reader's answer, and the reader rates it 1-4 (Again / Hard / Good / Easy).

A session shows the cards that are due first (earliest due first), then up to ``new`` cards never
seen (in inventory order). Review state lives in SQLite, ``quiz.sqlite3`` in
``platformdirs.user_data_dir("deepnotes")`` (``DEEPNOTES_DATA_DIR`` overrides it). All times are
UTC-aware. Input is read line by line, so answers can come from a pipe (no TTY needed); end of input
ends the session.
"""
from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .render import markdown_to_plain

RATING_NAMES = ("again", "hard", "good", "easy")
TEXT = {
    "en": {"choose": "Your answer (A-D, q to stop): ", "right": "Right.", "wrong": "Wrong: the answer is {}.",
           "answer": "Your answer (Enter when done, q to stop): ", "key": "Key points:", "solution": "Solution:",
           "rate": "Rate yourself: 1 again, 2 hard, 3 good, 4 easy: ", "next": "next review {}",
           "choose_many": "Your answer (one or more letters, e.g. AD; q to stop): ",
           "official": "Official answer {official}; the project's answer {project}: {status}.",
           "evidence": "Evidence:",
           "done": "{n} cards reviewed, {due} due now, {new} new left.", "none": "Nothing to review: no card is due "
           "and no new card is left for these topics.", "card": "[{i}/{n}] {id} ({kind})"},
    "zh": {"choose": "你的答案（A-D，q 退出）：", "right": "答对了。", "wrong": "答错了：正确答案是 {}。",
           "answer": "写下你的答案（回车结束，q 退出）：", "key": "要点：", "solution": "参考解答：",
           "rate": "自评：1 重来，2 困难，3 良好，4 简单：", "next": "下次复习 {}",
           "choose_many": "你的答案（一个或多个字母，如 AD；q 退出）：",
           "official": "官方答案 {official}；本项目答案 {project}：{status}。", "evidence": "证据：",
           "done": "本次复习 {n} 张，当前到期 {due} 张，剩余新卡 {new} 张。", "none": "没有要复习的卡片：这些主题没有到期卡，"
           "也没有新卡了。", "card": "[{i}/{n}] {id}（{kind}）"},
}
KIND = {"en": {"choice": "choice", "short": "short answer", "derivation": "derivation", "graded": "graded choice"},
        "zh": {"choice": "选择题", "short": "简答题", "derivation": "推导题", "graded": "评判过的选择题"}}


def data_dir() -> Path:
    """Where review state lives: ``$DEEPNOTES_DATA_DIR`` or the platform's user data directory."""
    env = os.environ.get("DEEPNOTES_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("deepnotes"))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_scheduler(fuzzing: bool = True):
    """The FSRS scheduler with its default parameters (fuzzing off gives reproducible intervals)."""
    from fsrs import Scheduler

    return Scheduler(enable_fuzzing=fuzzing)


class ReviewStore:
    """FSRS cards and the review log in one SQLite file.

    Args:
        path: the database file (default ``data_dir() / "quiz.sqlite3"``); created when missing.
    """

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else data_dir() / "quiz.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS cards (key TEXT PRIMARY KEY, card TEXT NOT NULL, due TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS reviews (key TEXT NOT NULL, rating INTEGER NOT NULL, reviewed TEXT NOT NULL,"
            " first INTEGER NOT NULL);")

    def close(self) -> None:
        self.db.close()

    def get(self, key: str):
        """The stored `fsrs.Card` of `key`, or None for a card never reviewed."""
        from fsrs import Card

        row = self.db.execute("SELECT card FROM cards WHERE key = ?", (key,)).fetchone()
        return Card.from_json(row[0]) if row else None

    def keys(self) -> set:
        return {k for (k,) in self.db.execute("SELECT key FROM cards")}

    def review(self, key: str, rating: int, scheduler, now: datetime):
        """Rate a card (1-4) at `now`; store and return the updated `fsrs.Card`."""
        from fsrs import Card, Rating

        if now.tzinfo is None:
            raise ValueError(f"ReviewStore.review: now must be timezone-aware (UTC), got {now!r}")
        if rating not in (1, 2, 3, 4):
            raise ValueError(f"ReviewStore.review: rating must be 1-4 (again, hard, good, easy), got {rating!r}")
        card = self.get(key)
        first = card is None
        card, _ = scheduler.review_card(card or Card(), Rating(rating), review_datetime=now)
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO cards VALUES (?, ?, ?)", (key, card.to_json(), card.due.isoformat()))
            self.db.execute("INSERT INTO reviews VALUES (?, ?, ?, ?)", (key, rating, now.isoformat(), int(first)))
        return card

    def due(self, now: datetime, keys=None) -> list[str]:
        """Keys of the cards due at `now` (earliest first), optionally restricted to `keys`."""
        rows = self.db.execute("SELECT key, due FROM cards ORDER BY due").fetchall()
        return [k for k, due in rows if datetime.fromisoformat(due) <= now and (keys is None or k in keys)]

    def stats(self, now: datetime, keys=None, scheduler=None, days: int = 30) -> dict:
        """Counts and retention: share of repeat reviews in the last `days` not rated Again, and
        the mean FSRS retrievability (predicted recall probability) of the known cards now."""
        scheduler = scheduler or make_scheduler()
        known = [k for k in self.keys() if keys is None or k in keys]
        since = (now - timedelta(days=days)).isoformat()
        rows = [(k, r) for k, r in self.db.execute(
            "SELECT key, rating FROM reviews WHERE first = 0 AND reviewed >= ?", (since,)) if keys is None or k in keys]
        recall = [scheduler.get_card_retrievability(self.get(k), now) for k in known]
        due = self.due(now, keys)
        tomorrow = self.due(now + timedelta(days=1), keys)
        return {"cards": len(known), "due_now": len(due), "due_24h": len(tomorrow),
                "new": (len(keys) - len(known)) if keys is not None else None,
                "reviews_30d": len(rows), "retention_30d": (sum(r > 1 for _, r in rows) / len(rows)) if rows else None,
                "mean_retrievability": (sum(recall) / len(recall)) if recall else None}


def quiz_cards(entries, topics=None) -> dict:
    """``{card key: (entry, item)}`` for the entries (optionally only those naming `topics`)."""
    wanted = set(topics) if topics else None
    cards = {}
    for entry in entries:
        if wanted and not wanted & set(entry.ids):
            continue
        for i, item in enumerate(entry.data["quiz"]):
            cards[f"{entry.id}:{i}"] = (entry, item)
        for item in entry.data.get("graded", []):
            cards[f"{entry.id}:graded:{item['id']}"] = (entry, {"type": "graded", **item})
    return cards


def _ask(prompt, inp, out):
    out.write(prompt)
    out.flush()
    line = inp.readline()
    if not line:
        raise EOFError
    line = line.strip()
    if not (hasattr(inp, "isatty") and inp.isatty()):
        out.write(line + "\n")  # answers from a pipe: echo them so the transcript reads like a session
    if line.lower() in ("q", "quit", "exit"):
        raise EOFError
    return line


def _read_rating(inp, out, text):
    while True:
        answer = _ask(text["rate"], inp, out).lower()
        if answer in ("1", "2", "3", "4"):
            return int(answer)
        if answer in RATING_NAMES:
            return RATING_NAMES.index(answer) + 1


def _play_graded(item, inp, out, lang, text) -> int:
    """A graded multiple-choice item: graded against the project's answer, then the official one shown."""
    from .graded import LETTERS, STATUS, grade, letters, parse_answer

    out.write(f"({item['source'][lang]})\n")
    out.write(markdown_to_plain(item["prompt"][lang]) + "\n")
    for letter, option in zip(LETTERS, item["options"]):
        out.write(f"  {letter}. {markdown_to_plain(option[lang])}\n")
    while True:
        picked = parse_answer(_ask(text["choose_many"], inp, out), len(item["options"]))
        if picked is not None:
            break
    right = grade(item, picked)
    out.write((text["right"] if right else text["wrong"].format(letters(item["project"]))) + "\n")
    status = STATUS[item["status"]][0 if lang == "en" else 1]
    out.write(text["official"].format(official=letters(item["official"]), project=letters(item["project"]),
                                      status=status) + "\n")
    out.write("  " + markdown_to_plain(item["why"][lang]) + "\n")
    out.write(text["evidence"] + " " + "; ".join(item["evidence"]) + "\n")
    return 3 if right else 1


def _play(entry, item, inp, out, lang, text) -> int:
    """Show one item, read the answer, return the FSRS rating 1-4."""
    if item["type"] == "graded":
        return _play_graded(item, inp, out, lang, text)
    out.write(markdown_to_plain(item["prompt"][lang]) + "\n")
    if item["type"] == "choice":
        letters = "ABCD"
        for letter, option in zip(letters, item["options"]):
            out.write(f"  {letter}. {markdown_to_plain(option[lang])}\n")
        while True:
            answer = _ask(text["choose"], inp, out).upper()
            index = letters.find(answer) if len(answer) == 1 and answer in letters else (
                int(answer) - 1 if answer in ("1", "2", "3", "4") else -1)
            if index >= 0:
                break
        right = index == item["answer"]
        out.write((text["right"] if right else text["wrong"].format(letters[item["answer"]])) + "\n")
        out.write("  " + markdown_to_plain(item["explain"][index][lang]) + "\n")
        if not right:
            out.write("  " + markdown_to_plain(item["explain"][item["answer"]][lang]) + "\n")
        return 3 if right else 1
    _ask(text["answer"], inp, out)
    if item["type"] == "short":
        out.write(text["key"] + "\n")
        for point in item["key_points"][lang]:
            out.write(f"  - {markdown_to_plain(point)}\n")
    else:
        out.write(text["solution"] + "\n" + markdown_to_plain(item["solution"][lang]) + "\n")
    return _read_rating(inp, out, text)


def run_session(entries, inp, out, *, lang: str = "en", topics=None, new: int = 10, store: ReviewStore | None = None,
                scheduler=None, now=utcnow) -> dict:
    """One quiz session: due cards first, then up to `new` new ones; returns counts.

    Args:
        entries: loaded entries; inp / out: text streams (stdin / stdout);
        now: a function returning the current UTC-aware time (tests pass a fixed clock).
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"run_session: lang must be 'en' or 'zh', got {lang!r}")
    if not isinstance(new, int) or new < 0:
        raise ValueError(f"run_session: new must be a non-negative int, got {new!r}")
    store = store or ReviewStore()
    scheduler = scheduler or make_scheduler()
    text = TEXT[lang]
    cards = quiz_cards(entries, topics)
    known = store.keys()
    queue = store.due(now(), set(cards)) + [k for k in cards if k not in known][:new]
    if not queue:
        out.write(text["none"] + "\n")
    reviewed = []
    try:
        for i, key in enumerate(queue, 1):
            entry, item = cards[key]
            header = text["card"].format(i=i, n=len(queue), id=entry.id, kind=KIND[lang][item["type"]])
            out.write(f"\n{header}  {entry.data['title'][lang]}\n")
            rating = _play(entry, item, inp, out, lang, text)
            card = store.review(key, rating, scheduler, now())
            out.write(text["next"].format(card.due.strftime("%Y-%m-%d %H:%M UTC")) + "\n")
            reviewed.append({"key": key, "rating": RATING_NAMES[rating - 1], "due": card.due.isoformat()})
    except EOFError:
        out.write("\n")
    keys = set(cards)
    due_now = len(store.due(now(), keys))
    new_left = len(keys - store.keys())
    out.write(text["done"].format(n=len(reviewed), due=due_now, new=new_left) + "\n")
    return {"reviewed": reviewed, "due_now": due_now, "new_left": new_left}


def format_stats(stats: dict, lang: str = "en") -> str:
    """`ReviewStore.stats` as a few lines of text."""
    def pct(x):
        return "-" if x is None else f"{100 * x:.0f}%"

    if lang == "zh":
        return (f"卡片：已学 {stats['cards']}，新卡 {stats['new']}\n"
                f"到期：现在 {stats['due_now']}，24 小时内 {stats['due_24h']}\n"
                f"近 30 天复习 {stats['reviews_30d']} 次，记住率 {pct(stats['retention_30d'])}\n"
                f"FSRS 预测的平均可提取率 {pct(stats['mean_retrievability'])}\n")
    return (f"cards: {stats['cards']} seen, {stats['new']} new\ndue: {stats['due_now']} now, {stats['due_24h']} within 24 h\n"
            f"last 30 days: {stats['reviews_30d']} repeat reviews, retention {pct(stats['retention_30d'])} (not rated Again)\n"
            f"mean FSRS retrievability now: {pct(stats['mean_retrievability'])}\n")


def stats_json(stats: dict) -> str:
    return json.dumps(stats, ensure_ascii=False)
