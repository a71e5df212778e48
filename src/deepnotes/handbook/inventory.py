"""The project's copy of the mission inventory (`inventory.md` beside this file).

`load_inventory()` parses its two tables into `InventoryItem`s: topics (E1,
A1, ...) with the columns that apply to them, and claims (K01, ...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

INVENTORY_PATH = Path(__file__).with_name("inventory.md")
_ID = re.compile(r"^[A-Z]\d+$|^K\d\d$")


@dataclass(frozen=True)
class InventoryItem:
    id: str
    kind: str  # "topic" or "claim"
    text: str
    impl: str = ""  # the impl column ("" when it does not apply)
    oracle: str = ""  # the oracle column ("" when it does not apply)
    claims: tuple = field(default_factory=tuple)  # claim IDs that test this topic

    @property
    def needs_tests(self) -> bool:
        """A topic with code to implement or a reference to check against needs tests."""
        return bool(self.impl or self.oracle) or self.kind == "claim"


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


@lru_cache(maxsize=1)
def load_inventory(path: str | None = None) -> dict:
    """Map each inventory ID to its `InventoryItem`, in file order."""
    items = {}
    for line in Path(path or INVENTORY_PATH).read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        if not _ID.match(cells[0]):
            continue
        if len(cells) >= 5:  # topic row: ID | topic | impl | oracle | claims
            claims = tuple(re.findall(r"K\d\d", cells[4]))
            items[cells[0]] = InventoryItem(cells[0], "topic", cells[1], cells[2], cells[3], claims)
        else:  # claim row: ID | claim
            items[cells[0]] = InventoryItem(cells[0], "claim", cells[1])
    return items
