"""The static HTML report of the claims lab, built from the evidence files of a run.

    deepnotes claims report --out runs/claims     # -> runs/claims/index.html

``OUT/index.html`` holds the verdict table (ID, statement in English and Chinese, verdict
badge, effect and interval, thumbnail); ``OUT/<ID>/index.html`` one page per claim
(statement, method, criteria with their text and the experiment's source code, the per-seed
table, the figures, the caveats -- what the experiment does *not* show -- and the code it
exercises). The figures are the PNG files beside each page; the CSS is inline: the report
works offline, from any folder it is copied to. Registered claims without evidence yet are
listed as "not run".
"""
from __future__ import annotations

import html
import importlib
import inspect
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..io import write_text_atomically
from .evidence import Evidence, format_effect

TEMPLATES = Path(__file__).with_name("templates")


def load_evidence(out_dir) -> dict:
    """Every ``OUT/<ID>/evidence.json``, by ID."""
    found = {}
    for path in sorted(Path(out_dir).glob("K[0-9][0-9]/evidence.json")):
        found[path.parent.name] = Evidence.load(path)
    return found


def code_location(dotted: str) -> dict:
    """``deepnotes.nn.functional.softmax`` -> its file (relative to the package) and line."""
    module_name, obj = dotted, None
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        obj = module
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        module_name = module.__name__
        break
    location = {"name": dotted, "file": None, "line": None, "url": None}
    if obj is None:
        return location
    try:
        path = Path(inspect.getsourcefile(obj)).resolve()
        line = inspect.getsourcelines(obj)[1] if not inspect.ismodule(obj) else 1
    except (TypeError, OSError):
        return location
    import deepnotes

    root = Path(deepnotes.__file__).resolve().parent.parent
    rel = path.relative_to(root) if path.is_relative_to(root) else path
    location.update(file=str(rel), line=line, url=path.as_uri(), module=module_name)
    return location


def _environment():
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["effect"] = lambda c: format_effect(c["mean"], c["lo"], c["hi"])
    env.filters["badge"] = lambda v: {"holds": "holds", "does not hold": "fails", "mixed": "mixed"}.get(v, "none")
    env.filters["num"] = _num
    env.filters["paragraphs"] = lambda text: [p.strip() for p in str(text or "").split("\n\n") if p.strip()]
    return env


def _num(x) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return html.escape(str(x))
    return f"{x:.4g}"


def build_report(out_dir, claims: dict | None = None) -> Path:
    """Write ``OUT/index.html`` and ``OUT/<ID>/index.html``; return the index's path.

    claims: the registered claims by ID (default: `registry.load_all()`), listed as
    "not run" when they have no evidence in ``out_dir``.
    """
    from .registry import load_all

    out = Path(out_dir)
    claims = load_all() if claims is None else claims
    evidence = load_evidence(out)
    env = _environment()
    rows = []
    for claim_id in sorted(set(claims) | set(evidence)):
        ev = evidence.get(claim_id)
        registered = claims.get(claim_id)
        row = {"id": claim_id, "evidence": ev, "registered": registered is not None,
               "stale": bool(ev and registered and ev.source_hash != registered.source_hash())}
        if ev is None:
            row.update(title_en=registered.title_en, title_zh=registered.title_zh,
                       statement_en=registered.statement_en, statement_zh=registered.statement_zh)
        else:
            row.update(title_en=ev.title_en, title_zh=ev.title_zh, statement_en=ev.statement_en,
                       statement_zh=ev.statement_zh)
            metric_names = sorted(ev.metrics)
            page = env.get_template("claim.html").render(
                ev=ev, row=row, metric_names=metric_names, code=[code_location(c) for c in ev.code])
            write_text_atomically(out / claim_id / "index.html", page)
        rows.append(row)
    counts = {v: sum(1 for r in rows if r["evidence"] and r["evidence"].verdict == v)
              for v in ("holds", "does not hold", "mixed")}
    index = env.get_template("index.html").render(rows=rows, counts=counts,
                                                  not_run=sum(1 for r in rows if not r["evidence"]))
    return write_text_atomically(out / "index.html", index)
