"""The entry format: the loader's validation (errors name file and field), every shipped entry
validates, every `try` snippet runs as a doctest, no entry restates a claim's verdict."""
import re
import shutil

import pytest
import yaml

from deepnotes.handbook import coverage
from deepnotes.handbook.entries import entries_by_id, load_entries
from deepnotes.handbook.render import LatexError, latex_to_mathml, markdown_to_html
from deepnotes.handbook.schema import EntryError, check_links, check_structure, iter_texts, run_try

from ..doctests import assert_examples_run
from .conftest import FIXTURES

SHIPPED = load_entries(deep=False)
VERDICT_NEAR_CLAIM = re.compile(r"\bK\d\d\b[^.。;；\n]{0,30}?(does not hold|\bholds?\b|不成立|成立)"
                                r"|(does not hold|\bholds?\b|不成立|成立)[^.。;；\n]{0,20}?\bK\d\d\b", re.I)


def test_every_shipped_entry_validates_with_its_links():
    entries = load_entries(deep=True)  # raises EntryError listing every problem
    pending = sorted({k for e in entries for k in e.pending_claims})
    print(f"\n{len(entries)} entries; claims pending registration in deepnotes.claims: {pending or 'none'}")
    assert [e.id for e in entries] == [e.id for e in SHIPPED]


def test_fixture_entries_follow_the_format(fixture_entries):
    assert [e.id for e in fixture_entries] == ["A4", "O4", "N2"]  # inventory order, not file order
    assert fixture_entries[0].ids == ["A4", "A3"] and fixture_entries[0].family == "A"


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id, marks=pytest.mark.covers(e.id)) for e in SHIPPED])
def test_try_snippet_runs_as_a_doctest(entry):
    result = run_try(entry)
    assert result.attempted > 0 and result.failed == 0, f"{entry.id}.yaml: try: {result}"


def test_fixture_try_snippets_run(fixture_entries):
    for entry in fixture_entries:
        result = run_try(entry)
        assert result.attempted > 0 and result.failed == 0


def test_no_entry_states_a_verdict_next_to_a_claim_id():
    offenders = []
    for entry in SHIPPED:
        texts = list(iter_texts(entry.data)) + [("try", entry.data["try"])]
        offenders += [f"{entry.id}.yaml: {where}: {m.group(0)!r}" for where, text in texts
                      for m in [VERDICT_NEAR_CLAIM.search(text)] if m]
    assert not offenders, "verdicts are read from the claims lab, never written:\n" + "\n".join(offenders)


def test_verdict_rule_catches_restated_verdicts(fixture_entries):
    data = yaml.safe_load((FIXTURES / "N2.yaml").read_text(encoding="utf-8"))
    for text in ("K20 holds on every seed.", "实验 K20 不成立。", "This does not hold (K20)."):
        data["short"]["en"] = text
        problems, _ = check_links(data, FIXTURES / "N2.yaml", registered={"K20"})
        assert any("short.en: states a verdict" in p for p in problems), text
    data["short"]["en"] = "K20 compares LayerNorm with BatchNorm at batch size 2."
    assert check_links(data, FIXTURES / "N2.yaml", registered={"K20"})[0] == []


def _broken_copy(tmp_path, edit):
    data = yaml.safe_load((FIXTURES / "A4.yaml").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "A4.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EntryError) as info:
        load_entries(tmp_path)
    return str(info.value)


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["short"].update(zh=""), "A4.yaml: short.zh: expected non-empty text"),
    (lambda d: d["title"].update(zh="Leaky ReLU"), "A4.yaml: title.zh: contains no Chinese characters"),
    (lambda d: d.pop("checks"), "A4.yaml: checks: missing"),
    (lambda d: d.update(colour="red"), "A4.yaml: colour: unknown field"),
    (lambda d: d.update(id="Z9"), "A4.yaml: id: 'Z9' is not an inventory topic ID"),
    (lambda d: d.update(related=["A3", "Q7"]), "A4.yaml: related: expected a list of inventory IDs"),
    (lambda d: d["quiz"][0]["options"].pop(), "A4.yaml: quiz[0].options: expected exactly 4 options"),
    (lambda d: d["quiz"][0].update(answer=4), "A4.yaml: quiz[0].answer: expected the index 0-3"),
    (lambda d: d["quiz"][0]["explain"].pop(), "A4.yaml: quiz[0].explain: expected one explanation per option"),
    (lambda d: d["quiz"].pop(0), "A4.yaml: quiz: expected a list of at least 3 items"),
    (lambda d: d.update(pitfalls=d["pitfalls"][:1]),
     "A4.yaml: pitfalls: expected a list of at least 2 items"),
    (lambda d: d.update(claims=["K99"]), "A4.yaml: claims: 'K99' is not a claim ID"),
    (lambda d: d.update(code=["deepnotes.nn.NoSuchLayer"]), "A4.yaml: code[0]: 'deepnotes.nn.NoSuchLayer' does not import"),
    (lambda d: d["full"].update(en="$$\\frac{1}{$$"), "A4.yaml: full.en: latex2mathml cannot convert"),
    (lambda d: d["full"].update(en="$\\foo x$"), "A4.yaml: full.en: latex2mathml does not know \\foo"),
    (lambda d: d["pitfalls"][0].update(evidence="tests/ops/test_activation.py::test_does_not_exist"),
     "A4.yaml: pitfalls[0].evidence: 'tests/ops/test_activation.py::test_does_not_exist': 'test_does_not_exist' is not"),
    (lambda d: d["pitfalls"][0].update(evidence="claim:K77"), "A4.yaml: pitfalls[0].evidence: 'K77' is neither"),
    (lambda d: d["pitfalls"][0].update(evidence="compute: 1 / 0"), "A4.yaml: pitfalls[0].evidence: the expression raises"),
    (lambda d: d["pitfalls"][0].update(evidence="compute: 1 + 1 == 3"), "evaluates to False"),
    (lambda d: d.update(try_="x"), "A4.yaml: try_: unknown field"),
    (lambda d: d.update({"try": "print(1)"}), "A4.yaml: try: expected a doctest"),
])
def test_loader_errors_name_the_file_and_the_field(tmp_path, edit, expected):
    assert expected in _broken_copy(tmp_path, edit)


def test_loader_reports_every_problem_at_once(tmp_path):
    message = _broken_copy(tmp_path, lambda d: (d["short"].update(en=""), d.update(code=["deepnotes.nope"])))
    assert "short.en" in message  # schema problems first: links are checked on well-formed entries only


def test_unregistered_inventory_claim_is_pending_not_an_error():
    data = yaml.safe_load((FIXTURES / "N2.yaml").read_text(encoding="utf-8"))
    assert check_structure(data, FIXTURES / "N2.yaml") == []
    problems, pending = check_links(data, FIXTURES / "N2.yaml", registered=set())
    assert problems == [] and pending == ("K20",)
    problems, pending = check_links(data, FIXTURES / "N2.yaml", registered={"K20"})
    assert problems == [] and pending == ()


def test_file_name_must_match_the_id(tmp_path):
    shutil.copy(FIXTURES / "A4.yaml", tmp_path / "A5.yaml")
    with pytest.raises(EntryError, match=r"A5.yaml: id: 'A4' does not match the file name"):
        load_entries(tmp_path)


def test_entries_by_id_names_related_ids_and_fills_the_coverage_column(fixture_entries):
    by_id = entries_by_id(FIXTURES)
    assert by_id["A3"] == ["A4"] and by_id["O3"] == ["O4"] and by_id["N2"] == ["N2"]
    rows = coverage.coverage_map()
    for entry in SHIPPED:
        assert entry.id in rows[entry.id]["entries"]


def test_docstring_examples_run():
    for module in ("deepnotes.handbook.render", "deepnotes.handbook.search", "deepnotes.handbook.entries"):
        assert_examples_run(module)


def test_math_becomes_mathml_and_bad_latex_is_an_error():
    html = markdown_to_html(r"inline $a_i * b_j$ and $$\frac{\partial L}{\partial z} = p - y$$")
    assert html.count("<math") == 2 and "<mfrac>" in html and "<em>" not in html and "$" not in html
    assert 'display="block"' in html
    with pytest.raises(LatexError):
        latex_to_mathml(r"\frac{1}{")
    assert "&lt;script&gt;" in markdown_to_html("<script>alert(1)</script>")  # raw HTML is escaped


def test_show_prints_both_languages_code_paths_and_verdicts_from_the_lab(fixture_entries):
    from deepnotes.handbook.show import format_entry

    n2 = next(e for e in fixture_entries if e.id == "N2")
    text = format_entry(n2, "both", verdicts={"K20": "does not hold"})
    assert "N2  LayerNorm, InstanceNorm, GroupNorm: which axes / LN、IN、GN" in text
    assert "K20  [does not hold]" in text and "deepnotes.nn.GroupNorm" in text and "\033[1m" not in text
    assert "Short answer / 简答" in text and "不跨 batch 统计" in text
    zh = format_entry(n2, "zh", verdicts={}, color=True)
    assert "[尚未运行]" in zh or "[实验尚未登记]" in zh
    assert "\033[1m" in zh and "Short answer" not in zh
    with pytest.raises(ValueError, match="format_entry: lang must be"):
        format_entry(n2, "fr")


def test_show_command(capsys):
    from deepnotes.cli import main

    assert main(["show", "O4", "--entries", str(FIXTURES), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("O4  AdamW: decoupled weight decay") and "deepnotes.optim.AdamW" in out
    assert main(["show", "Z1", "--entries", str(FIXTURES)]) == 2
    assert "no handbook entry 'Z1'" in capsys.readouterr().err


def test_wrap_counts_chinese_as_two_columns():
    from deepnotes.handbook.show import wrap

    lines = wrap("hello world 这是一个很长的中文句子需要被折行处理 and more english words", 20)
    assert all(sum(2 if "\u4e00" <= c <= "\u9fff" else 1 for c in line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == "helloworld这是一个很长的中文句子需要被折行处理andmoreenglishwords"


def test_show_marks_registered_claims_by_their_verdict_and_others_as_pending(fixture_entries, monkeypatch):
    from deepnotes.handbook import schema
    from deepnotes.handbook.show import claim_status

    a4 = next(e for e in fixture_entries if e.id == "A4")
    monkeypatch.setattr(schema, "registered_claims", lambda: {"K04"})
    rows = {r["id"]: r for r in claim_status(a4, verdicts={"K04": "mixed"})}
    assert rows["K04"]["verdict"] == "mixed" and not rows["K04"]["pending"] and rows["K04"]["title_en"]
    assert rows["K48"]["verdict"] is None and rows["K48"]["pending"] and rows["K48"]["title_en"]
