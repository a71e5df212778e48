"""Folklore errors: what interview notes commonly get wrong, and where the handbook flags each one.

The catalogue, ``folklore.yaml`` next to this module, lists the errors found in the interview notes the
handbook answers, each with a stable ``id``, its ``kind`` (W wrong, D doubtful or disputed, C the notes
contradict each other, G garbled wording) and its home ``entry`` (where a learner meets it). An entry's
pitfall flags one with ``folklore: <id>``; ``folklore: common`` flags an error found in other common
interview material. Garbled terms (kind G with a ``query``) are search hazards: they are checked by
searching, not by a pitfall.

>>> from deepnotes.handbook.folklore import catalogue
>>> catalogue()["leaky-relu-constant"]["entry"]
'A4'
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

CATALOGUE = Path(__file__).with_name("folklore.yaml")
COMMON = "common"
KINDS = ("W", "D", "C", "G")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict]:
    """``{id: item}`` of folklore.yaml, checked (unique IDs, a known kind, an entry, a query for garbled terms)."""
    from .inventory import load_inventory

    items = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))["items"]
    inventory = load_inventory()
    out, problems = {}, []
    for i, item in enumerate(items):
        item_id = item.get("id")
        if item_id in out or item_id == COMMON or not isinstance(item_id, str):
            problems.append(f"items[{i}].id: {item_id!r} is missing, repeated or reserved")
        if item.get("kind") not in KINDS:
            problems.append(f"items[{i}].kind: expected one of {KINDS}, got {item.get('kind')!r}")
        if item.get("entry") not in inventory:
            problems.append(f"items[{i}].entry: {item.get('entry')!r} is not an inventory topic ID")
        if not item.get("about"):
            problems.append(f"items[{i}].about: missing")
        out[item_id] = item
    if problems:
        raise ValueError("folklore.yaml: " + "; ".join(problems))
    return out


def is_search_hazard(item: dict) -> bool:
    """A garbled term: checked by searching for ``query``, not by a pitfall."""
    return "query" in item


def flagged(entries) -> list[tuple[str, int, str]]:
    """``(entry ID, pitfall index, folklore id)`` for every pitfall of `entries` that flags an error."""
    return [(e.id, i, p["folklore"]) for e in entries for i, p in enumerate(e.data["pitfalls"]) if "folklore" in p]


def unflagged(entries) -> dict[str, list[str]]:
    """Catalogue items (not search hazards) no pitfall flags, split by whether their home entry exists:
    ``{"missing": [...], "pending": [...]}`` (pending: the home entry is not written yet)."""
    written = {e.id for e in entries}
    seen = {item_id for _, _, item_id in flagged(entries)}
    out = {"missing": [], "pending": []}
    for item_id, item in catalogue().items():
        if not is_search_hazard(item) and item_id not in seen:
            out["missing" if item["entry"] in written else "pending"].append(item_id)
    return out


def counts(entries) -> dict:
    """How many pitfalls flag folklore errors, how many catalogue items are flagged, and what is left."""
    flags = flagged(entries)
    left = unflagged(entries)
    items = [i for i in catalogue().values() if not is_search_hazard(i)]
    return {"flagged_pitfalls": len(flags), "from_catalogue": sum(f != COMMON for _, _, f in flags),
            "common": sum(f == COMMON for _, _, f in flags), "catalogue_items": len(items),
            "catalogue_flagged": len(items) - len(left["missing"]) - len(left["pending"]), **left}


def check_folklore_id(c, value, where: str) -> None:
    """Schema check of a pitfall's ``folklore`` field, reported through the entry checker `c`."""
    if value != COMMON and value not in catalogue():
        c.fail(where, f"{value!r} is not an item of folklore.yaml (or {COMMON!r} for an error found elsewhere)")
