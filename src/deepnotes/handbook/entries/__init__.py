"""The handbook's entries: one YAML file per inventory topic (``N2.yaml``), loaded and validated.

>>> from deepnotes.handbook.entries import load_entries, entries_by_id
>>> entries = load_entries(deep=False)  # every entry in inventory order; deep=True (the default) also checks links
>>> by_id = entries_by_id()            # {inventory ID: [IDs of the entries that name it]}

`load_entries` raises `deepnotes.handbook.schema.EntryError` listing every problem of every file
as ``file: field: problem``. Claims in the inventory but not registered in the claims lab yet are
reported as pending (``entry.pending_claims``), not as errors. The format: docs/handbook.md.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..inventory import load_inventory
from ..schema import Entry, EntryError, check_links, check_structure, registered_claims

ENTRIES_DIR = Path(__file__).resolve().parent

__all__ = ["ENTRIES_DIR", "Entry", "EntryError", "load_entries", "entries_by_id", "get_entry"]


# libyaml's C parser when PyYAML was built with it (about 20x faster than the pure-Python one)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise EntryError([f"{path.name}: (YAML): {exc}"]) from exc


@lru_cache(maxsize=8)
def _load(directory: str, deep: bool) -> tuple:
    files = sorted(Path(directory).glob("*.yaml"))
    problems, entries = [], []
    registered = registered_claims() if deep else set()
    for path in files:
        try:
            data = _read(path)
        except EntryError as exc:
            problems += exc.problems
            continue
        found = check_structure(data, path)
        pending = ()
        if not found and deep:
            found, pending = check_links(data, path, registered)
        problems += found
        if not found:
            entries.append(Entry(data["id"], path, data, pending))
    if problems:
        raise EntryError(problems)
    order = {item_id: i for i, item_id in enumerate(load_inventory())}
    return tuple(sorted(entries, key=lambda e: order[e.id]))


def load_entries(directory=None, deep: bool = True) -> list[Entry]:
    """All entries in `directory` (default: this package), validated, in inventory order.

    Args:
        directory: a folder of ``<ID>.yaml`` files.
        deep: also check what entries point at (code imports, LaTeX, evidence, figure builders,
            no verdicts in the text); ``False`` checks the schema only (fast, for search).
    Raises:
        EntryError: every problem found, one ``file: field: problem`` per line.
    """
    directory = Path(directory) if directory is not None else ENTRIES_DIR
    if not directory.is_dir():
        raise FileNotFoundError(f"load_entries: {str(directory)!r} is not a directory of entry files")
    return list(_load(str(directory.resolve()), bool(deep)))


load_entries.cache_clear = _load.cache_clear


def entries_by_id(directory=None) -> dict[str, list[str]]:
    """``{inventory ID: [entry IDs naming it]}`` for the coverage map (schema-checked entries only):
    a topic is named by the entry's ``id`` and ``related`` IDs, a claim by the entry's ``claims``
    (the entry that explains the topic the experiment tests)."""
    out: dict[str, list[str]] = {}
    for entry in load_entries(directory, deep=False):
        for item_id in (*entry.ids, *entry.data.get("claims", [])):
            if entry.id not in out.setdefault(item_id, []):
                out[item_id].append(entry.id)
    return out


def get_entry(entry_id: str, directory=None, deep: bool = False) -> Entry:
    """One entry by its ID; ``KeyError`` naming the known IDs when there is none."""
    for entry in load_entries(directory, deep=deep):
        if entry.id == entry_id:
            return entry
    known = ", ".join(e.id for e in load_entries(directory, deep=deep)) or "none yet"
    raise KeyError(f"get_entry: no handbook entry {entry_id!r} (entries: {known})")
