"""The static site: the build (pages, MathML, font, index), and in headless Chromium every page
loads without console errors, shows no raw LaTeX, resolves its links and images; search in the
page ranks like `deepnotes ask`; a quiz question is answered by clicking; a screenshot is saved."""
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from deepnotes.cli import main
from deepnotes.handbook.entries import load_entries
from deepnotes.handbook.search import build_index
from deepnotes.handbook.site import build_site

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
RAW_LATEX = re.compile(r"\\frac|\$\$|\\\(|\\\[|\\sum|\\sqrt")


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The fixture entries' site (with a figure) and the shipped entries' site (figures are drawn in
    the slow test only: the builders take about a second each)."""
    out = {"fixtures": tmp_path_factory.mktemp("fixture_site")}
    out["fixtures_result"] = build_site(load_entries(FIXTURES), out["fixtures"], claims_dir=None)
    shipped = load_entries(deep=False)  # test_entries checks their links; here only the pages matter
    if shipped:
        out["shipped"] = tmp_path_factory.mktemp("shipped_site")
        out["shipped_result"] = build_site(shipped, out["shipped"], claims_dir=None, figures=False)  # hermetic: no runs/
        print(f"\nshipped site: {out['shipped_result']['pages']} pages in {out['shipped_result']['seconds']:.1f} s "
              "(without figures)")
    return out


def _pages(site: Path):
    return [site / "index.html", *sorted((site / "entries").glob("*.html"))]


def _text(html: str) -> str:
    html = re.sub(r"<(script|style|math)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_build_writes_one_page_per_entry_with_mathml_and_the_math_font(sites):
    site = sites["fixtures"]
    assert sites["fixtures_result"]["pages"] == 4 and sites["fixtures_result"]["figures"] == 1
    assert (site / "assets" / "fonts" / "STIXGeneral.ttf").stat().st_size > 100_000
    assert (site / "figures" / "tests.handbook.fixture_figures.leaky_relu_curve.svg").is_file()
    page = (site / "entries" / "N2.html").read_text(encoding="utf-8")
    assert page.count("<math") >= 4 and "<mfrac>" in page and "@media print" in (site / "assets" / "style.css").read_text()
    index = json.loads((site / "assets" / "search-index.js").read_text(encoding="utf-8")
                       .removeprefix("window.DEEPNOTES_INDEX = ").rstrip().rstrip(";"))
    assert index["ids"] == ["A4", "O4", "N2"] and index["k1"] == 1.2 and index["b"] == 0.75
    assert "http://" not in page.replace('xmlns="http://www.w3.org/1998/Math/MathML"', "") and "https://" not in page


def test_no_raw_latex_in_any_page_source(sites):
    for key in ("fixtures", "shipped"):
        for page in _pages(sites[key]) if key in sites else []:
            found = RAW_LATEX.findall(_text(page.read_text(encoding="utf-8")))
            assert not found, f"{page.name}: raw LaTeX {found[:3]}"


def test_pages_show_verdicts_from_the_lab_not_from_entries(sites, monkeypatch, tmp_path):
    import deepnotes.handbook.show as show

    monkeypatch.setattr(show, "verdict_table", lambda: {"K13": "mixed"})
    monkeypatch.setattr("deepnotes.handbook.site.verdict_table", lambda: {"K13": "mixed"})
    build_site([e for e in load_entries(FIXTURES) if e.id == "O4"], tmp_path, claims_dir=None)
    page = (tmp_path / "entries" / "O4.html").read_text(encoding="utf-8")
    assert 'class="badge verdict-mixed"' in page and "部分成立" in page


def test_claim_figures_and_report_are_copied_when_present(tmp_path):
    claims = tmp_path / "claims"
    (claims / "K20").mkdir(parents=True)
    (claims / "index.html").write_text("<html><body>report</body></html>")
    (claims / "K20" / "index.html").write_text("<html><body>K20</body></html>")
    import matplotlib.pyplot as plt

    plt.figure(figsize=(1, 1)).savefig(claims / "K20" / "curve.png")
    plt.close("all")
    build_site([e for e in load_entries(FIXTURES) if e.id == "N2"], tmp_path / "site", claims_dir=claims, figures=False)
    page = (tmp_path / "site" / "entries" / "N2.html").read_text(encoding="utf-8")
    assert 'src="../claims/K20/curve.png"' in page and 'href="../claims/K20/index.html"' in page
    assert (tmp_path / "site" / "claims" / "K20" / "curve.png").is_file()


def test_site_command(tmp_path, capsys):
    assert main(["site", str(tmp_path / "s"), "--entries", str(FIXTURES), "--claims-dir", str(tmp_path / "none")]) == 0
    assert "4 pages, 1 figures" in capsys.readouterr().out


@pytest.mark.slow
def test_full_site_with_every_figure(tmp_path):
    result = build_site(load_entries(deep=False), tmp_path)
    for page in _pages(tmp_path):
        for src in re.findall(r'<img src="([^"]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / src).resolve().is_file(), f"{page.name}: {src}"
    print(f"\nfull site: {result['pages']} pages, {result['figures']} figures in {result['seconds']:.1f} s")


# ---------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (make test installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("BROWSER TESTS SKIPPED: the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: pg.errors.append(f"pageerror: {e}"))
    pg.on("requestfailed", lambda r: pg.errors.append(f"request failed: {r.url}"))
    yield pg
    context.close()


def _local(url: str) -> Path | None:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


PAGE_REPORT = """() => ({
  text: document.body.innerText,
  math: document.querySelectorAll("math").length,
  links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
  images: document.images.length,
})"""


@pytest.mark.browser
def test_every_page_loads_cleanly_with_no_raw_latex_and_resolving_links(sites, page):
    checked = images = 0
    for key in ("fixtures", "shipped"):
        for path in _pages(sites[key]) if key in sites else []:
            page.errors.clear()
            page.goto(path.as_uri(), wait_until="load")
            report = page.evaluate(PAGE_REPORT)
            assert not page.errors, f"{path.name}: {page.errors}"
            raw = RAW_LATEX.findall(report["text"])
            assert not raw, f"{path.name}: raw LaTeX visible: {raw[:3]}"
            assert report["math"] > 0 or path.name == "index.html", f"{path.name}: no formula rendered"
            broken = [href for href in report["links"] if _local(href) is not None and not _local(href).is_file()]
            assert not broken, f"{path.name}: broken links {broken}"
            assert not report["brokenImages"], f"{path.name}: images that do not load: {report['brokenImages']}"
            checked += 1
            images += report["images"]
    assert checked >= 4 and images >= 1


@pytest.mark.browser
def test_search_box_finds_chinese_and_english_queries(sites, page):
    site = sites["fixtures"]
    page.goto((site / "entries" / "A4.html").as_uri())
    for query, expected in (("BN和LN的区别是什么", "N2"), ("why is adamw weight decay different", "O4")):
        page.fill("#search-box", query)  # the index loads on first use
        page.wait_for_selector(f"#search-results li[data-id='{expected}']")
        assert page.get_attribute("#search-results li:first-child", "data-id") == expected, query
    page.press("#search-box", "Enter")
    page.wait_for_url(re.compile(r"O4\.html$"))


@pytest.mark.browser
def test_page_search_ranks_exactly_like_deepnotes_ask(sites, page):
    key = "shipped" if "shipped" in sites else "fixtures"
    entries = load_entries(deep=False) if key == "shipped" else load_entries(FIXTURES)
    index = build_index(entries)
    questions = json.loads((ROOT / "src" / "deepnotes" / "handbook" / "retrieval_set.json").read_text(encoding="utf-8"))
    queries = [q["q"] for q in questions] + ["坦克函数", "ＢＮ层的作用", "cavier初始化"]
    page.goto((sites[key] / "index.html").as_uri())
    in_page = page.evaluate("async qs => { await window.deepnotesLoadIndex();"
                            " return qs.map(q => window.deepnotesSearch(q, 5).map(h => h.id)); }", queries)
    in_python = [[d for d, _ in index.search(q, 5)] for q in queries]
    assert in_page == in_python
    zh = next(q for q in questions if re.search(r"[\u4e00-\u9fff]", q["q"]) and in_python[questions.index(q)][:1]
              and in_python[questions.index(q)][0] in q["ids"])
    page.fill("#search-box", zh["q"])
    page.wait_for_selector("#search-results li[data-id]")
    assert page.get_attribute("#search-results li:first-child", "data-id") in zh["ids"]


@pytest.mark.browser
def test_quiz_answered_by_clicking_keeps_progress(sites, page):
    site = sites["fixtures"]
    page.goto((site / "entries" / "A4.html").as_uri())
    item = page.locator('.quiz-item[data-type="choice"]').first
    item.locator('.option[data-index="0"]').click()
    assert "Wrong" in item.locator(".result").inner_text()
    assert "wrong" in item.locator('.option[data-index="0"]').get_attribute("class")
    item.locator('.option[data-index="2"]').click()
    assert "Right" in item.locator(".result").inner_text()
    assert item.locator('.option[data-index="2"] + .explain').is_visible()
    page.reload()  # progress survives in localStorage
    assert "Right" in page.locator('.quiz-item[data-type="choice"] .result').first.inner_text()
    page.goto((site / "index.html").as_uri())
    assert page.inner_text("#quiz-progress").startswith("1 answered, 1 right")


@pytest.mark.browser
def test_graded_item_is_clickable_and_graded_against_the_projects_answer(sites, page):
    if "shipped" not in sites or not (sites["shipped"] / "entries" / "A3.html").is_file():
        pytest.skip("the shipped entry A3 (graded item cv-q24) is not in this build")
    page.goto((sites["shipped"] / "entries" / "A3.html").as_uri())
    item = page.locator("#graded-cv-q24")
    assert not item.locator(".verdict").is_visible()
    for i in (0, 1, 2):  # the official answer ABC
        item.locator(f'.option[data-index="{i}"]').click()
    item.locator(".check").click()
    assert "Not quite" in item.locator(".result").inner_text() and "ABD" in item.locator(".result").inner_text()
    assert item.locator(".verdict").is_visible()
    assert item.locator(".official-letters").inner_text() == "ABC" and item.locator(".project-letters").inner_text() == "ABD"
    assert "wrong" in item.locator('.option[data-index="2"]').get_attribute("class")
    item.locator('.option[data-index="2"]').click()  # toggle C off, D on: the project's answer
    item.locator('.option[data-index="3"]').click()
    item.locator(".check").click()
    assert "Right" in item.locator(".result").inner_text()
    page.reload()  # the graded answer is kept with the quiz progress
    assert "Right" in page.locator("#graded-cv-q24 .result").inner_text()
    assert not page.errors, page.errors
    shot = ROOT / "runs" / "handbook" / "graded-item.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#graded-cv-q24").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
def test_language_switch_and_screenshot(sites, page):
    key = "shipped" if "shipped" in sites else "fixtures"
    target = sites[key] / "entries" / "N2.html"
    if not target.is_file():
        target = sorted((sites[key] / "entries").glob("*.html"))[0]
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.goto(target.as_uri())
    page.click('[data-set-lang="zh"]')
    assert page.locator("section.short .en").first.is_hidden() and page.locator("section.short .zh").first.is_visible()
    page.click('[data-set-lang="both"]')
    assert page.locator("section.short .en").first.is_visible()
    shot = ROOT / "runs" / "handbook" / "screenshot.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    page.emulate_media(media="print")  # the print stylesheet drops the header, search and switches
    assert page.locator("header.top").is_hidden() and page.locator("section.full").is_visible()
