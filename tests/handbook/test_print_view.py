"""The print view: one page per family with every entry and its answers, linked from the index; in
headless Chromium no raw LaTeX is visible, links and images resolve, formulas are laid out as MathML
in print media; the PDF printed by Chromium keeps the formulas (no LaTeX source in its text)."""
import re
from pathlib import Path

import pytest

from deepnotes.handbook.entries import load_entries
from deepnotes.handbook.print_view import print_page_name, write_pdf
from deepnotes.handbook.site import build_site

from .conftest import FIXTURES
from .test_site import CHROMIUM, PAGE_REPORT, RAW_LATEX, _local, _text, browser, page  # noqa: F401 - fixtures

HREF_OR_SRC = re.compile(r'(?:href|src)="([^"#:]+)(?:#[^"]*)?"')


@pytest.fixture(scope="module")
def print_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("print_site")
    entries = load_entries(FIXTURES)
    result = build_site(entries, out, claims_dir=None)
    return out, entries, result


def test_one_print_page_per_family_with_every_entry_and_the_answers(print_site):
    out, entries, result = print_site
    families = sorted({e.family for e in entries})
    assert result["print_pages"] == len(families) and result["pdfs"] == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    for family in families:
        assert f'href="{print_page_name(family)}"' in index
        html = (out / print_page_name(family)).read_text(encoding="utf-8")
        for e in (e for e in entries if e.family == family):
            assert f'<article class="print-entry" id="{e.id}">' in html
            choice = next(q for q in e.data["quiz"] if q["type"] == "choice")
            assert html.count('class="answer"') >= 1 and "<math" in html
            assert markdown_free(choice["explain"][choice["answer"]]["en"]) in _text(html)
        assert 'href="../assets/print.css"' in html and "@media print" in (out / "assets" / "print.css").read_text()


def markdown_free(text: str) -> str:
    """The first words of an explanation, as they appear in the page's text (no Markdown, no math)."""
    return re.split(r"[`$*]", text)[0].strip()[:30]


def test_print_pages_have_no_raw_latex_and_every_link_and_image_resolves(print_site):
    out, _, _ = print_site
    pages = sorted((out / "print").glob("*.html"))
    assert pages
    images = 0
    for html_path in pages:
        html = html_path.read_text(encoding="utf-8")
        assert not RAW_LATEX.findall(_text(html)), html_path.name
        for target in HREF_OR_SRC.findall(html):
            assert (html_path.parent / target).resolve().is_file(), f"{html_path.name}: {target}"
        images += html.count("<img ")
    assert images >= 1  # the fixture A4 entry has a figure


def test_shipped_entries_print_pages_build(tmp_path):
    entries = load_entries(deep=False)
    result = build_site(entries, tmp_path, claims_dir=None, figures=False)
    assert result["print_pages"] == len({e.family for e in entries})
    for html_path in (tmp_path / "print").glob("*.html"):
        assert not RAW_LATEX.findall(_text(html_path.read_text(encoding="utf-8"))), html_path.name


FRACTION_LAYOUT = """() => {
  const f = document.querySelector("mfrac");
  const [num, den] = f.children;
  const a = num.getBoundingClientRect(), b = den.getBoundingClientRect();
  return {numBottom: a.bottom, denTop: b.top, display: getComputedStyle(document.querySelector("math")).display};
}"""


@pytest.mark.browser
def test_print_pages_in_chromium_render_mathml_and_switch_language(print_site, page):  # noqa: F811 - the fixture
    out, _, _ = print_site
    for html_path in sorted((out / "print").glob("*.html")):
        page.errors.clear()
        page.goto(html_path.as_uri(), wait_until="load")
        report = page.evaluate(PAGE_REPORT)
        assert not page.errors, f"{html_path.name}: {page.errors}"
        assert not RAW_LATEX.findall(report["text"]), html_path.name
        assert report["math"] > 0 and not report["brokenImages"], html_path.name
        broken = [h for h in report["links"] if _local(h) is not None and not _local(h).is_file()]
        assert not broken, f"{html_path.name}: {broken}"
    page.goto((out / "print" / "N.html").as_uri(), wait_until="load")
    page.emulate_media(media="print")
    layout = page.evaluate(FRACTION_LAYOUT)
    assert layout["numBottom"] <= layout["denTop"] + 0.5, layout  # numerator above denominator: MathML laid out
    page.emulate_media(media="screen")
    zh = page.locator("article .bi > .zh").first
    assert zh.is_visible()
    page.click('label[for="lang-en"]')
    assert not zh.is_visible() and page.locator("article .bi > .en").first.is_visible()


@pytest.mark.browser
def test_pdf_printed_by_chromium_keeps_the_formulas(print_site, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (make test installs Debian's chromium)")
    pypdf = pytest.importorskip("pypdf", reason="the pypdf package reads the PDF's text (pip install -e '.[test]')")
    out, entries, _ = print_site
    pdf = write_pdf(out / "print" / "N.html", tmp_path / "N.pdf", executable=str(CHROMIUM))
    assert Path(pdf).read_bytes()[:5] == b"%PDF-"
    reader = pypdf.PdfReader(str(pdf))
    text = " ".join(p.extract_text() for p in reader.pages)
    n_entries = sum(e.family == "N" for e in entries)
    assert len(reader.pages) >= n_entries + 1  # the cover, then each entry from a new page
    assert not RAW_LATEX.findall(text), RAW_LATEX.findall(text)[:3]
    title = next(e for e in entries if e.family == "N").data["title"]["en"]
    assert re.sub(r"\W+", "", title[:20]) in re.sub(r"\W+", "", text)
    assert any(ch in text for ch in "𝑥𝜇𝜎∑√"), "no mathematical glyphs in the PDF's text"
