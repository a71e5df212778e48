"""``deepnotes site OUT_DIR``: the handbook as a static, offline HTML site.

Layout of the output::

    index.html                  entries by inventory family, quiz progress
    entries/<ID>.html           one page per entry, English and Chinese (switchable, or side by side)
    assets/style.css            screen and print styles (a print of a page is the reading copy)
    print/<FAMILY>.html         all entries of a family on one page, answers shown (`print_view`); .pdf with --pdf
    assets/handbook.js          language switch, search box, quiz (progress in localStorage)
    assets/search-index.js      the BM25 index of `deepnotes.handbook.search`, as a script (works from file://),
                                loaded when the search box is first used
    assets/fonts/               a math font (STIX, SIL OFL) copied from matplotlib's data at build time
    figures/<module>.<builder>.svg  the entries' diagrams, drawn by their builders at build time
    claims/                     a copy of the claims report (``deepnotes claims report``) when present

Formulas are converted to MathML at build time (`render.markdown_to_html`), so pages need no
JavaScript or network to show them. Verdict badges come from the claims lab's verdicts
(``deepnotes.claims.verdicts()``), never from the entries. The search box scores with the same
tokenizer and BM25 as ``deepnotes ask``, ported to JavaScript (`assets/handbook.js`).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .anki import FAMILY_NAMES
from .graded import STATUS as GRADED_STATUS
from .render import markdown_to_html
from .search import build_index
from .show import VERDICT_ZH, claim_status, verdict_table

SITE_DIR = Path(__file__).with_name("site")
MATH_FONTS = ("STIXGeneral.ttf", "STIXGeneralItalic.ttf", "LICENSE_STIX")


def _environment():
    import jinja2
    import markupsafe

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(SITE_DIR / "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    # entry text is rendered with raw HTML disabled (escaped), so its output is safe markup
    env.filters["md"] = lambda text: markupsafe.Markup(markdown_to_html(text))
    env.filters["mdi"] = lambda text: markupsafe.Markup(markdown_to_html(text, inline=True))
    return env


def copy_math_font(dest: Path) -> list[str]:
    """Copy matplotlib's STIX fonts (SIL Open Font License) into `dest`; return the file names."""
    import matplotlib

    src = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in MATH_FONTS:
        if (src / name).is_file():
            shutil.copyfile(src / name, dest / name)
            copied.append(name)
    return copied


def _claim_rows(entry, verdicts, claims_dir: Path | None, out: Path) -> list[dict]:
    rows = claim_status(entry, verdicts)
    for row in rows:
        row["label_en"] = row["verdict"] or ("experiment not registered yet" if row["pending"] else "not yet run")
        row["label_zh"] = VERDICT_ZH.get(row["verdict"], row["verdict"]) if row["verdict"] else (
            "实验尚未登记" if row["pending"] else "尚未运行")
        row["css"] = (row["verdict"] or "none").replace(" ", "-")
        row["figures"], row["report"] = [], None
        if claims_dir is not None and (claims_dir / row["id"]).is_dir():
            for png in sorted((claims_dir / row["id"]).glob("*.png")):
                row["figures"].append(f"../claims/{row['id']}/{png.name}")
            if (out / "claims" / row["id"] / "index.html").is_file():
                row["report"] = f"../claims/{row['id']}/index.html"
    return rows


def _copy_claims_report(claims_dir: Path | None, out: Path) -> bool:
    """Copy the claims report's pages and PNGs into ``out/claims`` (nothing else); True if present."""
    if claims_dir is None or not claims_dir.is_dir():
        return False
    target = out / "claims"
    for path in claims_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".png", ".svg", ".css"):
            dest = target / path.relative_to(claims_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
    return (target / "index.html").is_file()


def _figure_name(builder: str) -> str:
    from .figures import FIGURE_SUFFIX

    return builder.removeprefix("deepnotes.handbook.figures.") + FIGURE_SUFFIX


def _draw_figures(builders: dict, folder: Path, jobs: int | None) -> None:
    """Run the figure builders, in `jobs` processes when there are several (they are CPU-bound)."""
    from .figures import build_figure

    jobs = min(jobs or os.cpu_count() or 1, len(builders))
    if jobs <= 1:
        for name, builder in builders.items():
            build_figure(builder, folder / name)
        return
    with ProcessPoolExecutor(jobs) as pool:
        for future in [pool.submit(build_figure, builder, folder / name) for name, builder in builders.items()]:
            future.result()  # re-raises a builder's error here


def build_site(entries, out_dir, claims_dir="runs/claims", figures: bool = True, jobs: int | None = None,
               pdf: bool = False) -> dict:
    """Write the site into `out_dir` (replacing a previous build's pages); return counts.

    Args:
        figures: run the entries' figure builders (``False``: pages without diagrams, much faster).
        jobs: processes for the figure builders (default: the number of CPUs).
        pdf: also print each family's print view to ``print/<FAMILY>.pdf`` (headless Chromium).

    Returns:
        ``{"index": path, "pages": n, "figures": n, "print_pages": n, "pdfs": n, "seconds": s}``
        (``pages`` counts the index and the entry pages).
    """
    start = time.perf_counter()
    if not entries:
        raise ValueError("build_site: no entries to publish")
    out = Path(out_dir)
    for sub in ("entries", "figures", "claims", "assets"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    (out / "entries").mkdir(parents=True, exist_ok=True)
    assets = out / "assets"
    shutil.copytree(SITE_DIR / "static", assets)
    fonts = copy_math_font(assets / "fonts")
    claims_dir = Path(claims_dir) if claims_dir else None
    has_report = _copy_claims_report(claims_dir, out)

    index = build_index(entries)
    payload = index.to_json()
    payload["entries"] = {e.id: {"en": e.data["title"]["en"], "zh": e.data["title"]["zh"]} for e in entries}
    (assets / "search-index.js").write_text(
        "window.DEEPNOTES_INDEX = " + json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + ";\n",
        encoding="utf-8")

    env = _environment()
    verdicts = verdict_table()
    builders = {}  # file name -> builder: entries that share a diagram share its file (drawn once)
    for entry in entries if figures else []:
        for fig in entry.data.get("figures", []):
            builders[_figure_name(fig["builder"])] = fig["builder"]
    _draw_figures(builders, out / "figures", jobs)
    families = {}
    for entry in entries:
        families.setdefault(entry.family, []).append(entry)
    common = {"fonts": fonts, "has_report": has_report, "family_names": FAMILY_NAMES, "graded_status": GRADED_STATUS}
    entry_template = env.get_template("entry.html")
    for pos, entry in enumerate(entries):
        figs = []
        for fig in entry.data.get("figures", []) if figures else []:
            figs.append({"src": f"../figures/{_figure_name(fig['builder'])}", "caption": fig["caption"]})
        page = entry_template.render(
            e=entry, d=entry.data, root="../", claims=_claim_rows(entry, verdicts, claims_dir, out), figures=figs,
            prev=entries[pos - 1] if pos > 0 else None, next=entries[pos + 1] if pos + 1 < len(entries) else None,
            **common)
        (out / "entries" / f"{entry.id}.html").write_text(page, encoding="utf-8")
    n_items = sum(len(e.data["quiz"]) + len(e.data.get("graded", [])) for e in entries)
    index_page = env.get_template("index.html").render(families=families, root="", n_entries=len(entries),
                                                       n_items=n_items, **common)
    (out / "index.html").write_text(index_page, encoding="utf-8")

    from . import print_view  # one page per family (and its PDF), with the same rows and figures as the entry pages

    print_pages = print_view.write_print_pages(
        env, families, out, claim_rows=lambda e: _claim_rows(e, verdicts, claims_dir, out),
        figure_src=lambda e: [{"src": f"../figures/{_figure_name(f['builder'])}", "caption": f["caption"]}
                              for f in (e.data.get("figures", []) if figures else [])],
        common={**common, "pdf": pdf})
    pdfs = print_view.write_pdfs(print_pages) if pdf else []
    return {"index": str(out / "index.html"), "pages": len(entries) + 1, "figures": len(builders),
            "print_pages": len(print_pages), "pdfs": len(pdfs), "seconds": time.perf_counter() - start}
