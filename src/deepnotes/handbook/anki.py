"""``deepnotes anki OUT.apkg``: an Anki deck built from the entries with genanki.

One note per entry for its interview question (front: the question; back: the short answer and
the checks), and one note per quiz item (choice: the options on the front, the answer and every
explanation on the back; short: the key points; derivation: the solution).

* The model and deck IDs are fixed numbers, so a rebuilt deck is the *same* deck to Anki.
* Each note's GUID is ``genanki.guid_for("deepnotes", entry ID, item)`` (item ``"q"`` for the
  question note, the quiz index otherwise): re-importing a rebuilt deck updates the notes in place,
  whatever the language, instead of adding duplicates.
* Text is HTML-escaped (Markdown is rendered with raw HTML disabled); formulas go to Anki's MathJax
  as ``\\( .. \\)`` (inline) and ``\\[ .. \\]`` (display).
* Tags: ``deepnotes``, the family (``family::N``) and each inventory ID (``id::N2``).
"""
from __future__ import annotations

import html
from pathlib import Path

from .render import markdown_to_anki

MODEL_ID = 1607392319  # fixed: changing it makes Anki see a new note type
DECK_ID = 2059400110   # fixed: changing it makes Anki see a new deck
DECK_NAME = "deepnotes handbook"
FAMILY_NAMES = {
    "E": ("Foundations and autograd", "基础与自动微分"), "A": ("Activations", "激活函数"), "L": ("Losses", "损失函数"),
    "O": ("Optimization", "优化方法"), "N": ("Normalization", "归一化"), "R": ("Regularization", "正则化"),
    "I": ("Initialization and gradient flow", "初始化与梯度"), "C": ("Convolution", "卷积"),
    "D": ("Detection", "目标检测"), "S": ("Sequences and attention", "序列与注意力"), "T": ("Theory", "理论基础"),
    "M": ("Metrics and imbalanced data", "评估指标与不均衡数据"), "P": ("Compression and scale", "模型压缩"),
    "H": ("Hyperparameter search", "超参数搜索"), "V": ("Environment", "环境问题"),
}

CSS = """.card { font-family: system-ui, "Noto Sans CJK SC", sans-serif; font-size: 18px; text-align: left; }
.zh { color: #333; } .en + .zh { border-top: 1px dashed #bbb; margin-top: .6em; padding-top: .6em; }
.right { color: #176b2c; font-weight: bold; } .tag { color: #888; font-size: 13px; }"""


def _model():
    import genanki

    return genanki.Model(
        MODEL_ID, "deepnotes handbook card",
        fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Entry"}],
        templates=[{"name": "Card", "qfmt": '{{Front}}<div class="tag">{{Entry}}</div>',
                    "afmt": '{{FrontSide}}<hr id="answer">{{Back}}'}],
        css=CSS)


def _sides(lang: str) -> tuple:
    if lang not in ("en", "zh", "both"):
        raise ValueError(f"build_deck: lang must be 'en', 'zh' or 'both', got {lang!r}")
    return ("en", "zh") if lang == "both" else (lang,)


def _md(value: dict, langs, inline=False) -> str:
    return "".join(f'<div class="{x}">{markdown_to_anki(value[x], inline=inline)}</div>' for x in langs)


def _list(values: dict, langs) -> str:
    return "".join(f'<ul class="{x}">' + "".join(f"<li>{markdown_to_anki(v, inline=True)}</li>" for v in values[x])
                   + "</ul>" for x in langs)


def item_sides(item: dict, langs) -> tuple[str, str]:
    """Front and back HTML of one quiz item."""
    front = _md(item["prompt"], langs)
    if item["type"] == "choice":
        for x in langs:
            front += f'<ol type="A" class="{x}">' + "".join(
                f"<li>{markdown_to_anki(o[x], inline=True)}</li>" for o in item["options"]) + "</ol>"
        letter = "ABCD"[item["answer"]]
        back = f'<p class="right">{letter}</p>' + "".join(
            f'<div class="{x}"><ol type="A">' + "".join(
                f"<li>{markdown_to_anki(e[x], inline=True)}</li>" for e in item["explain"]) + "</ol></div>"
            for x in langs)
    elif item["type"] == "short":
        back = _list(item["key_points"], langs)
    else:
        back = _md(item["solution"], langs)
    return front, back


def build_deck(entries, out_path, lang: str = "both") -> dict:
    """Write the ``.apkg``; return ``{"path", "notes", "entries"}``."""
    import genanki

    langs = _sides(lang)
    out_path = Path(out_path)
    if out_path.suffix != ".apkg":
        raise ValueError(f"build_deck: the output file must end in .apkg, got {str(out_path)!r}")
    model = _model()
    deck = genanki.Deck(DECK_ID, DECK_NAME)
    for entry in entries:
        d = entry.data
        tags = ["deepnotes", f"family::{entry.family}", *(f"id::{i}" for i in entry.ids)]
        label = html.escape(f"{entry.id} · " + " / ".join(d["title"][x] for x in langs))
        front = _md(d["question"], langs)
        back = _md(d["short"], langs) + _list(d["checks"], langs)
        deck.add_note(genanki.Note(model=model, fields=[front, back, label], tags=tags,
                                   guid=genanki.guid_for("deepnotes", entry.id, "q")))
        for i, item in enumerate(d["quiz"]):
            front, back = item_sides(item, langs)
            deck.add_note(genanki.Note(model=model, fields=[front, back, label], tags=tags,
                                       guid=genanki.guid_for("deepnotes", entry.id, str(i))))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(out_path))
    return {"path": str(out_path), "notes": len(deck.notes), "entries": len(entries)}
