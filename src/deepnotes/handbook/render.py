"""Entry text -> HTML: Markdown (CommonMark) with LaTeX math turned into MathML at build time.

Entry text fields are Markdown with math written as ``$...$`` (inline) and ``$$...$$``
(display). The math is cut out *before* Markdown sees it (so ``a_i * b_j`` never turns into
emphasis), converted with ``latex2mathml``, and put back after. Chromium renders MathML natively,
so the site needs no JavaScript and no CDN for formulas.

>>> from deepnotes.handbook.render import markdown_to_html, math_spans
>>> math_spans(r"the slope $\\alpha z$ and $$\\frac{1}{n}$$")
[('\\\\alpha z', False), ('\\\\frac{1}{n}', True)]
>>> "<mfrac>" in markdown_to_html(r"$$\\frac{a}{b}$$")
True

The same text goes to Anki with the formulas as ``\\( \\)`` / ``\\[ \\]`` for its MathJax
(`markdown_to_anki`), and to the terminal as plain text (`markdown_to_plain`).
"""
from __future__ import annotations

import html
import re
from functools import lru_cache

# $$...$$ first (it may span lines), then $...$ on one line; "\$" is a literal dollar.
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\d)", re.S)
_PLACEHOLDER = "DNMATH{}X"
_UNKNOWN_COMMAND = re.compile(r">(\\[A-Za-z]+)<")


class LatexError(ValueError):
    """A formula that latex2mathml cannot convert, or converts leaving a raw LaTeX command."""


def math_spans(text: str) -> list[tuple[str, bool]]:
    """The formulas in `text` as ``(latex, display)`` pairs, in order."""
    return [((m.group(1) if m.group(1) is not None else m.group(2)).strip(), m.group(1) is not None)
            for m in _MATH.finditer(text)]


@lru_cache(maxsize=4096)
def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One formula as a ``<math>`` element; raises `LatexError` when it does not convert cleanly."""
    import latex2mathml.converter

    try:
        out = latex2mathml.converter.convert(latex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises several exception types for malformed input
        raise LatexError(f"latex2mathml cannot convert {latex!r}: {type(exc).__name__} {exc}") from exc
    unknown = _UNKNOWN_COMMAND.findall(out)
    if unknown:
        raise LatexError(f"latex2mathml does not know {', '.join(sorted(set(unknown)))} in {latex!r}")
    return out


def _cut_math(text: str, render) -> tuple[str, list[str]]:
    pieces = []

    def keep(m):
        display = m.group(1) is not None
        pieces.append(render((m.group(1) if display else m.group(2)).strip(), display))
        token = _PLACEHOLDER.format(len(pieces) - 1)
        return f"\n\n{token}\n\n" if display else token

    return _MATH.sub(keep, text), pieces


def _paste_math(out: str, pieces: list[str]) -> str:
    # a display formula sits alone in its own paragraph: drop the <p> around it
    for i, piece in enumerate(pieces):
        token = _PLACEHOLDER.format(i)
        out = out.replace(f"<p>{token}</p>", piece).replace(token, piece)
    return out


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    # html=False: raw HTML in an entry is escaped, never passed through
    # links and images are off: "[0, 1](binary)" is an interval and a remark in entries, never a link
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table").disable(["link", "image"])


def markdown_to_html(text: str, inline: bool = False) -> str:
    """Markdown + LaTeX -> HTML with MathML; `inline` drops the outer paragraph for one-liners."""
    body, pieces = _cut_math(text, latex_to_mathml)
    md = _markdown()
    out = md.renderInline(body) if inline else md.render(body)
    return _paste_math(out, pieces).strip()


def markdown_to_anki(text: str, inline: bool = False) -> str:
    """Markdown -> HTML with formulas left as ``\\(..\\)`` / ``\\[..\\]`` for Anki's MathJax."""

    def keep(latex, display):
        return (r"\[" if display else r"\(") + html.escape(latex, quote=False) + (r"\]" if display else r"\)")

    body, pieces = _cut_math(text, keep)
    md = _markdown()
    out = md.renderInline(body) if inline else md.render(body)
    return _paste_math(out, pieces).strip()


def markdown_to_plain(text: str) -> str:
    """Markdown for a terminal: emphasis markers and backticks dropped, formulas kept as LaTeX."""
    out = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    out = re.sub(r"(?<![`\\])`([^`\n]+)`", r"\1", out)
    return out.strip()


def strip_markup(text: str) -> str:
    """Text for search: formulas and Markdown punctuation removed (words only)."""
    out = _MATH.sub(" ", text)
    return re.sub(r"[*_`#>|]+", " ", out)
