"""Evidence behind the handbook's statements: a test of the suite, a claim experiment, or a computation.

A pitfall's ``evidence`` and each entry of a graded item's ``evidence`` take one of three forms:

* ``tests/nn/test_dropout.py::test_eval_mode_is_exactly_the_identity`` -- a test node ID whose file and
  function (or ``Class::method``) exist;
* ``claim:K22`` -- a claim of the inventory (registered in the claims lab or still pending);
* ``compute: <expression>`` -- a Python expression over ``np``, ``dn`` (deepnotes) and ``math`` that
  evaluates without error and not to False.
"""
from __future__ import annotations

import ast
import math
import re
from functools import lru_cache
from pathlib import Path


def repo_root() -> Path | None:
    """The checkout holding ``tests/`` (None for an installed copy without tests)."""
    from .coverage import find_tests_dir

    tests = find_tests_dir()
    return tests.parent if tests else None


@lru_cache(maxsize=256)
def _parsed(path: str, mtime_ns: int) -> list:
    return ast.parse(Path(path).read_text(encoding="utf-8")).body


def test_exists(node_id: str, root: Path) -> str | None:
    """None when ``path::[Class::]function[param]`` names an existing test, else why not."""
    path, _, rest = node_id.partition("::")
    file = root / path
    if not rest or not file.is_file():
        return f"test file {path!r} does not exist" if rest else "expected 'path::function'"
    names = re.sub(r"\[.*\]$", "", rest).split("::")
    scope = _parsed(str(file), file.stat().st_mtime_ns)
    for name in names:
        found = [n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name]
        if not found:
            return f"{name!r} is not defined in {path}"
        scope = found[0].body if isinstance(found[0], ast.ClassDef) else []
    return None


test_exists.__test__ = False  # a helper, not a test for pytest to collect


def compute_evidence(expression: str):
    """Evaluate a ``compute:`` evidence expression with ``np``, ``dn`` (deepnotes) and ``math``."""
    import numpy as np

    import deepnotes as dn

    namespace = {"np": np, "numpy": np, "dn": dn, "deepnotes": dn, "math": math}
    return eval(compile(expression, "<evidence>", "eval"), namespace)  # noqa: S307 - the project's own data


def check_evidence(c, evidence: str, where: str, registered: set, root: Path | None) -> None:
    """Report through checker `c` when `evidence` does not resolve (see the module docstring)."""
    from .inventory import load_inventory

    inventory = load_inventory()
    if evidence.startswith("claim:"):
        claim_id = evidence[6:].strip()
        if claim_id not in registered and not (claim_id in inventory and inventory[claim_id].kind == "claim"):
            c.fail(where, f"{claim_id!r} is neither a registered claim nor an inventory claim ID")
    elif evidence.startswith("compute:"):
        try:
            value = compute_evidence(evidence[8:].strip())
        except Exception as exc:  # any error in the expression is the entry's problem
            c.fail(where, f"the expression raises {type(exc).__name__}: {exc}")
        else:
            if value is False or (type(value).__name__ == "bool_" and not value):
                c.fail(where, "the expression evaluates to False: it does not show what it is cited for")
    elif "::" in evidence:
        if root is not None:  # an installed copy without tests/ cannot check test IDs
            why = test_exists(evidence, root)
            if why:
                c.fail(where, f"{evidence!r}: {why}")
    else:
        c.fail(where, f"{evidence!r}: expected 'tests/...py::test_name', 'claim:Kxx' or 'compute: <expression>'")
