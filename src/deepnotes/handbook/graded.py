"""Graded multiple-choice items: quiz-collection questions whose "official" answers the handbook checks.

An entry's optional ``graded`` list keeps each item with all its options (in the collection's order,
A, B, C, ...), the ``official`` answer as the collection gives it, the ``project``'s own answer, a
``status`` saying how the project judges the official answer, ``why``, and the ``evidence`` that
decides (a claim, a test, a computation; see `deepnotes.handbook.evidence`). Answers are lists of
option indices, since several options can be right (``AD`` is ``[0, 3]``).

The reader is graded against the project's answer (all of its options and nothing else), and is then
shown the official answer next to it. ``deepnotes show``, the site and ``deepnotes quiz`` use this module.

>>> letters([0, 3])
'AD'
>>> grade({"project": [0, 1, 3]}, "abd"), grade({"project": [0, 1, 3]}, "ABC")
(True, False)
"""
from __future__ import annotations

import re

LETTERS = "ABCDEF"
STATUS = {  # how the project judges the official answer
    "agrees": ("the official answer is right", "官方答案正确"),
    "qualified": ("the official answer is right with a caveat", "官方答案基本正确，但有保留"),
    "disputed": ("the official answer is disputed", "官方答案有争议"),
    "wrong": ("the official answer is wrong", "官方答案错误"),
}
FIELDS = ("id", "source", "prompt", "options", "official", "project", "status", "why", "evidence")


def letters(indices) -> str:
    """Option indices as the letters a quiz prints: ``[0, 3]`` -> ``'AD'``."""
    return "".join(LETTERS[i] for i in sorted(indices))


def parse_answer(text: str, n_options: int) -> list[int] | None:
    """A reader's answer (``'AD'``, ``'a, d'``, ``'1 4'``) as sorted option indices; None if it is not one."""
    text = text.strip().upper()
    if re.fullmatch(r"[1-6](?:[\s,]*[1-6])*", text):
        picked = {int(ch) - 1 for ch in re.findall(r"[1-6]", text)}
    elif re.fullmatch(r"[A-F](?:[\s,]*[A-F])*", text):
        picked = {LETTERS.index(ch) for ch in re.findall(r"[A-F]", text)}
    else:
        return None
    return sorted(picked) if picked and max(picked) < n_options else None


def grade(item: dict, answer) -> bool:
    """True when `answer` (indices, or text such as ``'AD'``) is exactly the project's answer."""
    if isinstance(answer, str):
        answer = parse_answer(answer, len(item.get("options", LETTERS)))
    return answer is not None and sorted(answer) == sorted(item["project"])


def graded_items(entries) -> list[tuple]:
    """``(entry, item)`` for every graded item of `entries`, in entry order."""
    return [(entry, item) for entry in entries for item in entry.data.get("graded", [])]


def check_graded_item(c, item, where: str) -> None:
    """Schema check of one graded item, reported through the entry checker `c` (file and field named)."""
    if not isinstance(item, dict):
        c.fail(where, f"expected a mapping with {', '.join(FIELDS)}, got {item!r:.60}")
        return
    for key in set(item) - set(FIELDS):
        c.fail(f"{where}.{key}", f"unknown field (expected {', '.join(FIELDS)})")
    for key in FIELDS:
        if key not in item:
            c.fail(f"{where}.{key}", "missing (required field of a graded item)")
    if not (isinstance(item.get("id"), str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", item["id"])):
        c.fail(f"{where}.id", f"expected a lower-case slug such as 'cv-q27', got {item.get('id')!r}")
    for key in ("source", "prompt", "why"):
        if key in item:
            c.bilingual(item[key], f"{where}.{key}")
    options = item.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= len(LETTERS):
        c.fail(f"{where}.options", f"expected 2 to {len(LETTERS)} options, got {options!r:.60}")
        options = []
    for j, option in enumerate(options):
        c.bilingual(option, f"{where}.options[{j}]")
    for key in ("official", "project"):
        value = item.get(key)
        if not (isinstance(value, list) and value and len(set(value)) == len(value) and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(options) for v in value)):
            c.fail(f"{where}.{key}", f"expected a non-empty list of distinct option indices 0-{len(options) - 1}, "
                                     f"got {value!r}")
    status = item.get("status")
    if status not in STATUS:
        c.fail(f"{where}.status", f"expected one of {', '.join(STATUS)}, got {status!r}")
    elif status in ("agrees", "qualified") and sorted(item.get("official") or []) != sorted(item.get("project") or []):
        c.fail(f"{where}.status", f"{status!r} but the official and the project's answers differ (use disputed or wrong)")
    elif status == "wrong" and sorted(item.get("official") or []) == sorted(item.get("project") or []):
        c.fail(f"{where}.status", "'wrong' but the official answer equals the project's")
    evidence = item.get("evidence")
    if not isinstance(evidence, list) or not evidence or not all(isinstance(e, str) and e.strip() for e in evidence):
        c.fail(f"{where}.evidence", "expected a non-empty list of test node IDs, 'claim:Kxx' or 'compute: ...'")
