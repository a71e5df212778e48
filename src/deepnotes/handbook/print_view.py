"""The handbook's print view: one page per inventory family with all its entries, and optional PDFs.

Written by `deepnotes site` next to the entry pages::

    print/<FAMILY>.html     every entry of the family, answers shown (quiz keys, derivations,
                            explanations), English and Chinese (a CSS-only switch: both, EN, 中文),
                            a print stylesheet (assets/print.css): one entry per printed page
    print/<FAMILY>.pdf      with ``deepnotes site OUT --pdf``: the page printed by Chromium

Why Chromium for the PDF: formulas are MathML (rendered at build time, no JavaScript), and a PDF
converter must lay MathML out as mathematics. Chromium (Debian's ``chromium``, MathML Core since
version 109) does. WeasyPrint (PyPI) does not implement MathML (Kozea/WeasyPrint#59: it prints the
formula's characters in a row), and wkhtmltopdf is archived and built on an old QtWebKit.
``--print-to-pdf`` uses the same layout engine the browser test checks
(`tests/handbook/test_print_view.py` compares numerator and denominator positions of a rendered
fraction in print media, and reads the PDF's text back).

The pages reuse the site's assets (style.css, the STIX math font, figures, claims report) and
its claim rows, so verdicts still come from the claims lab only.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PRINT_DIR = "print"
CHROMIUM = "/usr/bin/chromium"


def print_page_name(family: str) -> str:
    """``print/<family>.html``, relative to the site root (the index links to it)."""
    return f"{PRINT_DIR}/{family}.html"


def write_print_pages(env, families: dict, out: Path, claim_rows, figure_src, common: dict) -> list[Path]:
    """Render one print page per family into ``out/print``; return the paths written.

    Args:
        env: the site's Jinja2 environment (its ``md``/``mdi`` filters render Markdown and math).
        families: family letter -> entries, in index order.
        claim_rows: ``entry -> list of claim rows`` (the site's verdict badges; links are made
            relative to the entry pages, ``../``, which is also right from ``print/``).
        figure_src: ``entry -> list of {"src", "caption"}`` figures, relative to ``print/``.
        common: the template variables every site page gets (fonts, family names, ...).
    """
    folder = Path(out) / PRINT_DIR
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    template = env.get_template("print.html")
    written = []
    for family, entries in families.items():
        items = [{"e": e, "d": e.data, "claims": claim_rows(e), "figures": figure_src(e)} for e in entries]
        page = folder / f"{family}.html"
        page.write_text(template.render(family=family, items=items, root="../", **{"pdf": False, **common}),
                        encoding="utf-8")
        written.append(page)
    return written


def chromium_available(executable: str = CHROMIUM) -> bool:
    return Path(executable).is_file() or shutil.which(executable) is not None


def write_pdf(html: Path, pdf: Path, executable: str = CHROMIUM, timeout: float = 120.0) -> Path:
    """Print `html` to `pdf` with headless Chromium (A4, backgrounds, no header/footer lines).

    Raises:
        RuntimeError: Chromium is missing, fails, or writes no PDF (its stderr is included).
    """
    if not chromium_available(executable):
        raise RuntimeError(f"write_pdf: Chromium not found at {executable!r}; install Debian's chromium package")
    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    if pdf.exists():
        pdf.unlink()
    cmd = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=3000",
           f"--print-to-pdf={pdf}", Path(html).resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"write_pdf: chromium exited with {proc.returncode} and wrote no PDF for {html}: "
                           f"{proc.stderr.strip()[-400:]}")
    return pdf


def write_pdfs(pages: list[Path], executable: str = CHROMIUM) -> list[Path]:
    """One PDF next to each print page (``print/D.html`` -> ``print/D.pdf``)."""
    return [write_pdf(page, page.with_suffix(".pdf"), executable) for page in pages]
