"""The coverage map: for every inventory ID, what implements, tests, tests by experiment
and explains it.

Columns (an empty column that applies means "not covered"):

* tests    -- test functions marked ``@pytest.mark.covers("ID")``, found by reading
              the test files (no import, no pytest run), for topics whose impl or
              oracle column applies and for every claim;
* claims   -- for a topic, the claim experiments it lists that are registered in
              ``deepnotes.claims``; for a claim, whether its experiment is registered;
* entries  -- handbook entries that name the ID (every row needs one).

``covered`` is true only when every column that applies to the ID is filled.
The claims and handbook columns stay empty until those packages exist, so
``tests_covered`` reports the test column on its own.
"""
from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

from .inventory import load_inventory

BASELINE_PATH = Path(__file__).with_name("coverage_baseline.json")


def find_tests_dir(start: Path | None = None) -> Path | None:
    """The project's tests/ folder: above the working directory or beside the source tree."""
    candidates = []
    if start is not None:
        candidates.append(Path(start))
    cwd = Path.cwd().resolve()
    candidates += [cwd, *cwd.parents]
    here = Path(__file__).resolve()
    candidates += list(here.parents)
    for base in candidates:
        tests = base if base.name == "tests" else base / "tests"
        if (tests / "conftest.py").is_file() and (tests.parent / "pyproject.toml").is_file():
            return tests
    return None


def _covers_ids(decorator) -> list[str]:
    """IDs named by a `pytest.mark.covers(...)` expression, else []."""
    if isinstance(decorator, ast.Call):
        func = decorator.func
        if isinstance(func, ast.Attribute) and func.attr == "covers":
            return [a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []


def _marks_of(value) -> list[str]:
    """IDs from a `pytestmark = ...` value (one mark or a list of marks)."""
    items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
    return [i for item in items for i in _covers_ids(item)]


def scan_tests(tests_dir: Path) -> dict[str, list[str]]:
    """Map inventory ID -> sorted test node IDs (``path::[Class::]function``) that cover it."""
    found: dict[str, set] = {}
    root = tests_dir.parent
    for path in sorted(tests_dir.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root).as_posix()
        module_ids = []
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
            ):
                module_ids += _marks_of(node.value)

        def visit(body, prefix, inherited):
            for node in body:
                if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                    ids = inherited + [i for d in node.decorator_list for i in _covers_ids(d)]
                    visit(node.body, f"{prefix}{node.name}::", ids)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    ids = inherited + [i for d in node.decorator_list for i in _covers_ids(d)]
                    for i in ids:
                        found.setdefault(i, set()).add(f"{rel}::{prefix}{node.name}")

        visit(tree.body, "", module_ids)
    return {k: sorted(v) for k, v in found.items()}


def _registered_claims() -> set:
    try:
        claims = importlib.import_module("deepnotes.claims")
    except ImportError:
        return set()
    return set(getattr(claims, "registered_ids", lambda: ())())


def _handbook_entries() -> dict:
    try:
        entries = importlib.import_module("deepnotes.handbook.entries")
    except ImportError:
        return {}
    return entries.entries_by_id()


def coverage_map(tests_dir: Path | None = None) -> dict:
    """Build the map {ID: row}; see the module docstring for the columns."""
    inventory = load_inventory()
    tests_dir = tests_dir or find_tests_dir()
    tests = scan_tests(tests_dir) if tests_dir else {}
    registered = _registered_claims()
    entries = _handbook_entries()
    rows = {}
    for item_id, item in inventory.items():
        row = {"kind": item.kind, "topic": item.text, "tests": tests.get(item_id, [])}
        if item.kind == "topic":
            row["claims"] = [k for k in item.claims if k in registered]
            claims_ok = set(item.claims) <= registered
        else:
            row["claims"] = [item_id] if item_id in registered else []
            claims_ok = item_id in registered
        row["entries"] = entries.get(item_id, [])
        row["tests_covered"] = bool(row["tests"]) or not item.needs_tests
        row["covered"] = row["tests_covered"] and claims_ok and bool(row["entries"])
        rows[item_id] = row
    return rows


def load_baseline() -> list[str]:
    """IDs that had tests when the baseline was last written; none may lose them."""
    if not BASELINE_PATH.is_file():
        return []
    return json.loads(BASELINE_PATH.read_text(encoding="utf-8"))["tested_ids"]


def write_baseline(rows: dict) -> None:
    """Record the IDs that have tests now (run after adding tests for new IDs)."""
    tested = sorted((i for i, r in rows.items() if r["tests"]), key=list(rows).index)
    BASELINE_PATH.write_text(json.dumps({"tested_ids": tested}, indent=1) + "\n", encoding="utf-8")


def lost_coverage(rows: dict) -> list[str]:
    """IDs in the baseline whose tests column is now empty."""
    return [i for i in load_baseline() if not rows.get(i, {}).get("tests")]


def format_table(rows: dict) -> str:
    """A plain-text table: ID, tests, claims, entries, covered."""
    lines = [f"{'ID':<4} {'tests':>5} {'claims':>6} {'entries':>7}  covered  topic"]
    for item_id, row in rows.items():
        mark = "yes" if row["covered"] else ("tests" if row["tests_covered"] and row["tests"] else "no")
        lines.append(
            f"{item_id:<4} {len(row['tests']):>5} {len(row['claims']):>6} {len(row['entries']):>7}  "
            f"{mark:<7}  {row['topic'][:60]}"
        )
    tested = sum(1 for r in rows.values() if r["tests"])
    covered = sum(1 for r in rows.values() if r["covered"])
    lines.append(f"{len(rows)} IDs: {tested} with tests, {covered} fully covered")
    return "\n".join(lines)
