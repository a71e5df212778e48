"""The handbook entry format, and its validation (every error names the file and the field).

An entry is one YAML file, ``entries/<ID>.yaml`` (the format is described in docs/handbook.md).
Validation has two levels:

* `check_structure` -- the schema: required fields and their types, both languages present and
  non-empty everywhere (and the Chinese side actually Chinese), ``id``/``related`` are inventory IDs,
  claim IDs are inventory claims, quiz items well formed (a choice has 4 options, an answer in
  range and one explanation per option), references complete, a pitfall's ``folklore`` names an item
  of ``folklore.yaml`` (`deepnotes.handbook.folklore`), graded multiple-choice items are well formed
  (`deepnotes.handbook.graded`). Cheap; always run.
* `check_links` -- what the entry points at: every ``code`` path imports (module + attribute
  chain), every formula converts with latex2mathml, every pitfall's evidence resolves (a test
  node ID whose file and function exist, ``claim:Kxx`` in the inventory, or a ``compute:``
  expression that evaluates without error and not to False; `deepnotes.handbook.evidence`), and so
  does every graded item's evidence; figure builders resolve, and no
  text states a verdict next to a claim ID (verdicts are read from the claims lab, never
  restated: "K20 holds", "K20 不成立" are errors).

Claims that are in the inventory but not registered in ``deepnotes.claims`` yet are **pending**,
not an error: the entry loads, `Entry.pending_claims` lists them, and ``deepnotes show`` and the
site say "experiment not registered yet". Once registered, they appear with their verdict.
"""
from __future__ import annotations

import doctest
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

LANGS = ("en", "zh")
REQUIRED = ("id", "title", "keywords", "question", "checks", "short", "full", "pitfalls", "code", "claims",
            "try", "quiz", "references")
OPTIONAL = ("related", "figures", "graded")
QUIZ_TYPES = ("choice", "short", "derivation")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CLAIM_ID = re.compile(r"^K\d\d$")
# a verdict word within a few words of a claim ID, in either order
_VERDICT_WORD = r"(?:does\s+not\s+hold|doesn't\s+hold|\bholds?\b|不成立|成立)"
_VERDICT_NEAR_CLAIM = re.compile(
    rf"\bK\d\d\b[^.。;；\n]{{0,30}}?{_VERDICT_WORD}|{_VERDICT_WORD}[^.。;；\n]{{0,20}}?\bK\d\d\b", re.I)


class EntryError(ValueError):
    """One or more problems in handbook entries; each line is ``file: field: problem``."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Entry:
    """A validated entry: its `data` as written in the YAML file, plus what validation found."""

    id: str
    path: Path
    data: dict
    pending_claims: tuple = field(default=())

    @property
    def ids(self) -> list[str]:
        """The inventory IDs this entry answers: its own and its ``related`` ones."""
        return [self.id, *self.data.get("related", [])]

    @property
    def family(self) -> str:
        """The inventory family letter(s): ``N2`` -> ``N``."""
        return re.match(r"[A-Z]+", self.id).group(0)

    def text(self, name: str, lang: str) -> str:
        """A bilingual field in one language: ``entry.text("short", "zh")``."""
        return self.data[name][lang]


def _is_text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


class _Checker:
    """Collects ``file: field: problem`` lines for one entry."""

    def __init__(self, path: Path):
        self.name = Path(path).name
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{self.name}: {where}: {problem}")

    def bilingual(self, value, where: str, kind: str = "text", zh_must_be_chinese: bool = False) -> bool:
        """`value` must be ``{en: ..., zh: ...}`` with both sides non-empty (text, or a list of texts)."""
        if not isinstance(value, dict):
            self.fail(where, f"expected {{en: ..., zh: ...}}, got {type(value).__name__} {value!r:.60}")
            return False
        ok = True
        extra = set(value) - set(LANGS)
        if extra:
            self.fail(where, f"unknown language keys {sorted(extra)} (expected en and zh)")
            ok = False
        for lang in LANGS:
            side = value.get(lang)
            if kind == "list":
                if not isinstance(side, list) or not side or not all(_is_text(s) for s in side):
                    self.fail(f"{where}.{lang}", f"expected a non-empty list of non-empty texts, got {side!r:.60}")
                    ok = False
            elif not _is_text(side):
                self.fail(f"{where}.{lang}", f"expected non-empty text, got {side!r:.60}")
                ok = False
        if ok and zh_must_be_chinese:
            zh = value["zh"] if kind == "text" else " ".join(value["zh"])
            if not _CJK.search(zh):
                self.fail(f"{where}.zh", "contains no Chinese characters")
                ok = False
        return ok


def _inventory():
    from .inventory import load_inventory

    return load_inventory()


def check_structure(data, path) -> list[str]:
    """Schema problems of one entry's parsed YAML (``[]`` when it is well formed)."""
    from .folklore import check_folklore_id
    from .graded import check_graded_item

    c = _Checker(path)
    if not isinstance(data, dict):
        c.fail("(top level)", f"expected a mapping of fields, got {type(data).__name__}")
        return c.problems
    inventory = _inventory()
    for key in REQUIRED:
        if key not in data:
            c.fail(key, "missing (required field)")
    for key in set(data) - set(REQUIRED) - set(OPTIONAL):
        c.fail(key, f"unknown field (expected one of {', '.join(REQUIRED + OPTIONAL)})")

    entry_id = data.get("id")
    if "id" in data:
        if entry_id not in inventory or inventory[entry_id].kind != "topic":
            c.fail("id", f"{entry_id!r} is not an inventory topic ID (E1, N2, ...)")
        elif Path(path).stem != entry_id:
            c.fail("id", f"{entry_id!r} does not match the file name {Path(path).name!r} (expected {entry_id}.yaml)")
    related = data.get("related", [])
    if not isinstance(related, list) or any(r not in inventory for r in related):
        c.fail("related", f"expected a list of inventory IDs, got {related!r}")
    elif entry_id in related:
        c.fail("related", f"lists the entry's own id {entry_id!r}")

    if "title" in data:
        c.bilingual(data["title"], "title", zh_must_be_chinese=True)
    if "keywords" in data:
        kw = data["keywords"]
        if isinstance(kw, dict):  # YAML reads bare numbers as ints: keywords are words
            kw = {k: [str(v) for v in vs] if isinstance(vs, list) else vs for k, vs in kw.items()}
            data["keywords"] = kw
        c.bilingual(kw, "keywords", kind="list")
    for key in ("question", "short", "full"):
        if key in data:
            c.bilingual(data[key], key, zh_must_be_chinese=True)
    if "checks" in data and c.bilingual(data["checks"], "checks", kind="list"):
        n_en, n_zh = len(data["checks"]["en"]), len(data["checks"]["zh"])
        if n_en != n_zh:
            c.fail("checks", f"en has {n_en} points and zh {n_zh}: both languages must say the same")
        if not 3 <= n_en <= 6:
            c.fail("checks.en", f"expected 3 to 6 points, got {n_en}")

    pitfalls = data.get("pitfalls")
    if "pitfalls" in data:
        if not isinstance(pitfalls, list) or len(pitfalls) < 2:
            c.fail("pitfalls", f"expected a list of at least 2 items, got {pitfalls!r:.60}")
        else:
            for i, p in enumerate(pitfalls):
                where = f"pitfalls[{i}]"
                if not isinstance(p, dict):
                    c.fail(where, f"expected a mapping with wrong, right, evidence, got {p!r:.60}")
                    continue
                for key in set(p) - {"wrong", "right", "evidence", "source", "folklore"}:
                    c.fail(f"{where}.{key}", "unknown field (expected wrong, right, evidence, folklore, source)")
                for key in ("wrong", "right"):
                    c.bilingual(p.get(key), f"{where}.{key}")
                if not _is_text(p.get("evidence")):
                    c.fail(f"{where}.evidence", "expected a test node ID, 'claim:Kxx' or 'compute: <expression>'")
                if "source" in p and p["source"] != "seed-errors":
                    c.fail(f"{where}.source", f"expected 'seed-errors' or no source, got {p['source']!r}")
                if "folklore" in p:
                    check_folklore_id(c, p["folklore"], f"{where}.folklore")

    for key in ("code", "claims"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(_is_text(v) for v in value):
            c.fail(key, f"expected a list of names (may be empty), got {value!r:.60}")
    for claim_id in data.get("claims", []) if isinstance(data.get("claims"), list) else []:
        if not (isinstance(claim_id, str) and _CLAIM_ID.match(claim_id) and claim_id in inventory):
            c.fail("claims", f"{claim_id!r} is not a claim ID of the inventory (K01 ... K50)")

    if "try" in data and not (_is_text(data["try"]) and ">>>" in data["try"]):
        c.fail("try", "expected a doctest: '>>> ' lines followed by their exact output")

    quiz = data.get("quiz")
    if "quiz" in data:
        if not isinstance(quiz, list) or len(quiz) < 3:
            c.fail("quiz", f"expected a list of at least 3 items, got {quiz!r:.60}")
        else:
            for i, item in enumerate(quiz):
                _check_quiz_item(c, item, f"quiz[{i}]")
            if not any(isinstance(q, dict) and q.get("type") == "choice" for q in quiz):
                c.fail("quiz", "needs at least one 'choice' item (the site's quiz plays them)")

    graded = data.get("graded", [])
    if not isinstance(graded, list):
        c.fail("graded", f"expected a list of graded multiple-choice items, got {graded!r:.60}")
    else:
        for i, item in enumerate(graded):
            check_graded_item(c, item, f"graded[{i}]")

    figures = data.get("figures", [])
    if not isinstance(figures, list):
        c.fail("figures", f"expected a list, got {figures!r:.60}")
    else:
        for i, fig in enumerate(figures):
            if not isinstance(fig, dict) or not _is_text(fig.get("builder")):
                c.fail(f"figures[{i}].builder", "expected a dotted path to a function (out_path) -> None")
                continue
            c.bilingual(fig.get("caption"), f"figures[{i}].caption")

    refs = data.get("references")
    if "references" in data:
        if not isinstance(refs, list) or not refs:
            c.fail("references", "expected a non-empty list")
        else:
            for i, ref in enumerate(refs):
                paper = isinstance(ref, dict) and all(_is_text(str(ref.get(k, ""))) for k in ("authors", "year", "title"))
                doc = isinstance(ref, dict) and _is_text(ref.get("doc"))
                if not (paper or doc):
                    c.fail(f"references[{i}]",
                           f"expected {{authors, year, title[, where]}} or {{doc[, note]}}, got {ref!r:.60}")
    return c.problems


def _check_quiz_item(c: _Checker, item, where: str) -> None:
    if not isinstance(item, dict) or item.get("type") not in QUIZ_TYPES:
        c.fail(f"{where}.type", f"expected one of {', '.join(QUIZ_TYPES)}, got {item!r:.60}")
        return
    kind = item["type"]
    allowed = {"type", "prompt"} | {"choice": {"options", "answer", "explain"}, "short": {"key_points"},
                                    "derivation": {"solution"}}[kind]
    for key in set(item) - allowed:
        c.fail(f"{where}.{key}", f"unknown field for a {kind} item (expected {', '.join(sorted(allowed))})")
    c.bilingual(item.get("prompt"), f"{where}.prompt")
    if kind == "choice":
        options, explain, answer = item.get("options"), item.get("explain"), item.get("answer")
        if not isinstance(options, list) or len(options) != 4:
            c.fail(f"{where}.options", f"expected exactly 4 options, got {options!r:.60}")
        else:
            for j, o in enumerate(options):
                c.bilingual(o, f"{where}.options[{j}]")
        if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < 4:
            c.fail(f"{where}.answer", f"expected the index 0-3 of the right option, got {answer!r}")
        if not isinstance(explain, list) or len(explain) != 4:
            c.fail(f"{where}.explain", f"expected one explanation per option (4), got {explain!r:.60}")
        else:
            for j, e in enumerate(explain):
                c.bilingual(e, f"{where}.explain[{j}]")
    elif kind == "short":
        c.bilingual(item.get("key_points"), f"{where}.key_points", kind="list")
    else:
        c.bilingual(item.get("solution"), f"{where}.solution")


def iter_texts(data: dict):
    """Every ``(field path, text)`` of an entry that readers see (for LaTeX and verdict checks)."""

    def walk(value, where):
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            for k, v in value.items():
                if k not in ("builder", "evidence", "type", "answer", "source", "folklore", "official", "project",
                             "status", "id"):
                    yield from walk(v, f"{where}.{k}" if where else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, f"{where}[{i}]")

    for key in ("title", "question", "checks", "short", "full", "pitfalls", "quiz", "graded", "figures"):
        if key in data:
            yield from walk(data[key], key)


def resolve(dotted: str):
    """Import ``package.module.attr.attr``: the longest importable module, then getattr."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name and not ".".join(parts[:cut]).startswith(exc.name):
                raise  # the module exists but one of its own imports is missing
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(f"no module in {dotted!r}")


def check_links(data: dict, path, registered: set | None = None, root: Path | None = None) -> tuple[list[str], tuple]:
    """Problems with what a structurally valid entry points at, and its pending claims."""
    from .evidence import check_evidence, repo_root
    from .render import LatexError, latex_to_mathml, math_spans

    c = _Checker(path)
    for i, dotted in enumerate(data.get("code", [])):
        try:
            resolve(dotted)
        except (ImportError, AttributeError) as exc:
            c.fail(f"code[{i}]", f"{dotted!r} does not import: {type(exc).__name__}: {exc}")
    for i, fig in enumerate(data.get("figures", [])):
        try:
            if not callable(resolve(fig["builder"])):
                c.fail(f"figures[{i}].builder", f"{fig['builder']!r} is not callable")
        except (ImportError, AttributeError) as exc:
            c.fail(f"figures[{i}].builder", f"{fig['builder']!r} does not import: {exc}")
    if registered is None:
        registered = registered_claims()
    pending = tuple(k for k in data.get("claims", []) if k not in registered)

    for where, text in iter_texts(data):
        for latex, display in math_spans(text):
            try:
                latex_to_mathml(latex, display)
            except LatexError as exc:
                c.fail(where, str(exc))
        m = _VERDICT_NEAR_CLAIM.search(text)
        if m:
            c.fail(where, f"states a verdict next to a claim ID ({m.group(0)!r}): verdicts are read from the claims "
                          "lab, never written in entries")
    if "try" in data and _VERDICT_NEAR_CLAIM.search(data["try"]):
        c.fail("try", "states a verdict next to a claim ID")

    root = root if root is not None else repo_root()
    for i, p in enumerate(data.get("pitfalls", [])):
        check_evidence(c, p["evidence"].strip(), f"pitfalls[{i}].evidence", registered, root)
    for i, item in enumerate(data.get("graded", [])):
        for j, evidence in enumerate(item["evidence"]):
            check_evidence(c, evidence.strip(), f"graded[{i}].evidence[{j}]", registered, root)
    return c.problems, pending


def registered_claims() -> set:
    """IDs registered in ``deepnotes.claims`` (empty when the lab cannot be imported)."""
    try:
        from deepnotes.claims import registered_ids
    except ImportError:
        return set()
    return set(registered_ids())


def run_try(entry: Entry) -> doctest.TestResults:
    """Run an entry's ``try`` snippet as a doctest; failures are printed by doctest's reporter."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(entry.data["try"], {}, f"{entry.id}.try", str(entry.path), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    return runner.summarize(verbose=False)
