"""``deepnotes show ID``: one entry as plain text in the terminal, with its claims' verdicts.

Verdicts come from the claims lab (``deepnotes.claims.verdicts()``, the committed
``verdicts.json``); an entry never states them. A claim with no recorded verdict shows
"not yet run"; one that is in the inventory but not registered yet shows "experiment not
registered yet". Headers are bold (ANSI) only when the output is a terminal.
"""
from __future__ import annotations

import re
import unicodedata

from .render import markdown_to_plain
from .schema import Entry

NOT_RUN = {"en": "not yet run", "zh": "尚未运行"}
PENDING = {"en": "experiment not registered yet", "zh": "实验尚未登记"}
VERDICT_ZH = {"holds": "成立", "does not hold": "不成立", "mixed": "部分成立"}
HEADINGS = {
    "question": {"en": "Question", "zh": "问题"}, "checks": {"en": "What the interviewer listens for", "zh": "考察要点"},
    "short": {"en": "Short answer", "zh": "简答"}, "full": {"en": "Full answer", "zh": "详解"},
    "pitfalls": {"en": "Pitfalls", "zh": "常见错误"}, "code": {"en": "Code", "zh": "代码"},
    "claims": {"en": "Claims (verdicts from the claims lab)", "zh": "论断（结论来自实验）"},
    "try": {"en": "Try it", "zh": "动手试试"}, "references": {"en": "References", "zh": "参考文献"},
    "wrong": {"en": "Wrong", "zh": "错误说法"}, "right": {"en": "Right", "zh": "正确说法"},
    "evidence": {"en": "evidence", "zh": "证据"}, "folklore": {"en": "folklore error", "zh": "流传的错误"},
    "graded": {"en": "Graded multiple-choice items (official answer checked)", "zh": "评判过的选择题（核对官方答案）"},
    "official": {"en": "official answer", "zh": "官方答案"}, "project": {"en": "our answer", "zh": "本项目答案"},
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Greedy line wrapping by display width: a CJK character counts 2 columns and may end a line
    anywhere; Latin words are never split."""
    lines, line = [], ""
    for piece in re.findall(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|\s+|[^\s\u2e80-\u9fff]+", text):
        if line and _width(line) + _width(piece) > width and not piece.isspace():
            lines.append(line.rstrip())
            line = ""
        if not (piece.isspace() and not line):
            line += " " if piece.isspace() else piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


def verdict_table() -> dict:
    """``{claim ID: verdict string}`` from the claims lab's committed verdicts ({} when none yet)."""
    try:
        from deepnotes.claims import verdicts
    except ImportError:
        return {}
    out = {}
    for claim_id, record in (verdicts() or {}).items():
        verdict = record.get("verdict") if isinstance(record, dict) else record
        if isinstance(verdict, str):
            out[claim_id] = verdict
    return out


def claim_status(entry: Entry, verdicts: dict | None = None) -> list[dict]:
    """One row per claim of the entry: ``id``, ``verdict`` (or None), ``pending``, titles."""
    from .schema import registered_claims

    verdicts = verdict_table() if verdicts is None else verdicts
    registered = registered_claims()
    rows = []
    for claim_id in entry.data["claims"]:
        row = {"id": claim_id, "verdict": verdicts.get(claim_id), "pending": claim_id not in registered,
               "title_en": "", "title_zh": ""}
        if not row["pending"]:
            try:
                from deepnotes.claims import get

                found = get(claim_id)
                row["title_en"], row["title_zh"] = found.title_en, found.title_zh
            except (ImportError, KeyError):
                pass
        if not row["title_en"]:
            from .inventory import load_inventory

            row["title_en"] = load_inventory()[claim_id].text
        rows.append(row)
    return rows


def verdict_text(row: dict, lang: str) -> str:
    """A claim row's status in one language."""
    if row["verdict"]:
        return VERDICT_ZH.get(row["verdict"], row["verdict"]) if lang == "zh" else row["verdict"]
    return (PENDING if row["pending"] else NOT_RUN)[lang]


def _format_graded(items, langs, heading, para) -> None:
    from .graded import LETTERS, STATUS, letters

    heading("graded")
    for item in items:
        for x in langs:
            para(f"[{item['id']}] {item['source'][x]}")
            para(item["prompt"][x])
            for letter, option in zip(LETTERS, item["options"]):
                para(f"{letter}. {option[x]}", indent="    ")
        status = " / ".join(STATUS[item["status"]][0 if x == "en" else 1] for x in langs)
        para(f"{HEADINGS['official'][langs[0]]}: {letters(item['official'])}; "
             f"{HEADINGS['project'][langs[0]]}: {letters(item['project'])} ({status})", indent="    ")
        for x in langs:
            para(item["why"][x], indent="    ")
        para(f"({HEADINGS['evidence'][langs[0]]}: {'; '.join(item['evidence'])})", indent="    ")


def format_entry(entry: Entry, lang: str = "en", color: bool = False, width: int = 96, verdicts=None) -> str:
    """The entry as text; `lang` is ``en``, ``zh`` or ``both`` (English then Chinese)."""
    if lang not in ("en", "zh", "both"):
        raise ValueError(f"format_entry: lang must be 'en', 'zh' or 'both', got {lang!r}")
    langs = ("en", "zh") if lang == "both" else (lang,)
    bold = (lambda s: f"\033[1m{s}\033[0m") if color else (lambda s: s)
    d = entry.data
    lines = []

    def heading(key):
        lines.append("")
        lines.append(bold(" / ".join(HEADINGS[key][x] for x in langs)))

    def para(text, indent="  "):
        for raw in markdown_to_plain(text).splitlines() or [""]:
            wrapped = wrap(raw, width - len(indent)) if raw.strip() else [""]
            lines.extend(indent + w for w in (wrapped or [""]))

    title = " / ".join(d["title"][x] for x in langs)
    related = f"  (also {', '.join(d['related'])})" if d.get("related") else ""
    lines.append(bold(f"{entry.id}  {title}") + related)
    for key in ("question", "short"):
        heading(key)
        for x in langs:
            para(d[key][x])
    heading("checks")
    for x in langs:
        for point in d["checks"][x]:
            para("- " + point)
    heading("full")
    for x in langs:
        para(d["full"][x])
        lines.append("")
    heading("pitfalls")
    for p in d["pitfalls"]:
        for x in langs:
            para(f"{HEADINGS['wrong'][x]}: {p['wrong'][x]}")
            para(f"{HEADINGS['right'][x]}: {p['right'][x]}", indent="    ")
        tag = f"; {HEADINGS['folklore'][langs[0]]}: {p['folklore']}" if "folklore" in p else ""
        para(f"({HEADINGS['evidence'][langs[0]]}: {p['evidence']}{tag})", indent="    ")
    if d.get("graded"):
        _format_graded(d["graded"], langs, heading, para)
    heading("code")
    for path in d["code"] or ["-"]:
        lines.append(f"  {path}")
    heading("claims")
    for row in claim_status(entry, verdicts) or []:
        title = row["title_zh"] if langs == ("zh",) and row["title_zh"] else row["title_en"]
        lines.append(f"  {row['id']}  [{verdict_text(row, langs[0])}]  {title}")
    if not d["claims"]:
        lines.append("  -")
    heading("try")
    lines.extend("  " + line for line in d["try"].rstrip().splitlines())
    heading("references")
    for ref in d["references"]:
        if "doc" in ref:
            lines.append(f"  {ref['doc']}" + (f" -- {ref['note']}" if ref.get("note") else ""))
        else:
            where = f", {ref['where']}" if ref.get("where") else ""
            lines.append(f"  {ref['authors']} ({ref['year']}). {ref['title']}{where}")
    return "\n".join(lines) + "\n"
