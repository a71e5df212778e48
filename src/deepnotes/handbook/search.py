"""Bilingual search over the handbook: one tokenizer for English and Chinese, BM25 over fields.

Tokenizer (`tokenize`): Unicode NFKC, lower case; Latin/digit runs are words kept whole
("l2", "relu6", "adamw", "1x1"); every run of CJK characters gives its character unigrams
*and* bigrams ("梯度消失" -> 梯 度 消 失 梯度 度消 消失), so no word segmenter is needed; a short
stop list drops function words ("the", "what", "的", "是"...). Bigrams carry the word order that
unigrams lose, unigrams keep recall when a bigram straddles two words.

Ranking (`Index.search`): BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
BM25 and Beyond", 2009) computed per field and summed with the field's boost::

    score(q, d) = sum_f boost_f * sum_{t in q} idf(t) * tf_{f,t} (k1 + 1) / (tf_{f,t} + k1 (1 - b + b |d_f| / avgdl_f))
    idf(t) = ln(1 + (N - n_t + 0.5) / (n_t + 0.5))

with k1 = 1.2, b = 0.75, N the number of entries and n_t the entries containing t in any field.
Query terms are counted once each. Before tokenizing, the query is expanded with a synonym table
(`synonyms.yaml`: variants, abbreviations and speech-to-text errors -> canonical terms, e.g.
"坦克函数" -> "tanh"), so garbled interview notes still find their entry.

The site's search box runs the same algorithm in JavaScript on `Index.to_json()`; the browser
test checks that both rank alike.

>>> tokenize("BN层的作用")
['bn', '层', '作', '用', '层的', '的作', '作用']
>>> tokenize("Why does AdamW use L2?")
['adamw', 'use', 'l2']
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

K1 = 1.2
B = 0.75
SYNONYMS_PATH = Path(__file__).with_name("synonyms.yaml")

# Field name -> boost. Titles and keywords say what an entry is about; the answers say much more.
FIELD_BOOSTS = {"title": 3.0, "keywords": 3.0, "question": 2.0, "short": 1.0, "body": 0.5}

# CJK ideographs (basic + extension A + compatibility) -- the characters that get unigrams + bigrams.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[a-z0-9]+|[{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")

# Function words that carry no topic. Single CJK characters here are dropped as unigrams only
# (their bigrams stay: "的" goes, "目的" stays).
STOPWORDS = frozenset("""
a an and are as at be but by can do does did for from how i if in into is it its me my of on or
so than that the their them then there these they this to was we what when where which who whom
why will with would you your vs versus about between explain tell please there's what's
的 了 是 吗 呢 吧 啊 么 和 与 在 有 就 都 也 很 要 会 个 这 那 我 你 他 它 们 为 什 怎 样 哪 呀
""".split())


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str) -> list[str]:
    """Tokens of `text`: Latin words whole, CJK runs as unigrams then bigrams; stop words dropped."""
    tokens = []
    for run in _TOKEN.findall(normalize(text)):
        if _IS_CJK.match(run):
            tokens += [c for c in run if c not in STOPWORDS]
            tokens += [run[i:i + 2] for i in range(len(run) - 1)]
        elif run not in STOPWORDS:
            tokens.append(run)
    return tokens


@lru_cache(maxsize=1)
def load_synonyms(path: str | None = None) -> tuple[tuple[str, str], ...]:
    """The synonym table as ``(variant, canonical)`` pairs, both normalized, longest variant first."""
    import yaml

    data = yaml.safe_load(Path(path or SYNONYMS_PATH).read_text(encoding="utf-8")) or {}
    pairs = []
    for canonical, variants in data.items():
        for variant in variants:
            pairs.append((normalize(str(variant)), normalize(str(canonical))))
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def _variant_pattern(variant: str) -> re.Pattern:
    # a Latin variant must match whole words ("ln" is not in "learning"); a CJK one anywhere
    return re.compile(rf"(?<![a-z0-9]){re.escape(variant)}(?![a-z0-9])")


def expand_query(query: str, synonyms=None) -> str:
    """`query` normalized, followed by the canonical term of every variant it contains."""
    text = normalize(query)
    pairs = load_synonyms() if synonyms is None else synonyms
    extra = [canonical for variant, canonical in pairs if _variant_pattern(variant).search(text)]
    return " ".join([text, *dict.fromkeys(extra)])


class Index:
    """A BM25 index over documents made of named fields (see `FIELD_BOOSTS`).

    Args:
        docs: ``{doc_id: {field: text}}``; a field missing from a document counts as empty.
        boosts: field -> weight; defaults to `FIELD_BOOSTS`.
        synonyms: ``(variant, canonical)`` pairs for query expansion; defaults to `load_synonyms()`.
    """

    def __init__(self, docs: dict, boosts: dict | None = None, synonyms=None, k1: float = K1, b: float = B):
        if not isinstance(docs, dict) or not docs:
            raise ValueError(f"Index: docs must be a non-empty dict {{doc_id: {{field: text}}}}, got {docs!r:.80}")
        self.boosts = dict(FIELD_BOOSTS if boosts is None else boosts)
        self.synonyms = load_synonyms() if synonyms is None else tuple(synonyms)
        self.k1, self.b = k1, b
        self.ids = list(docs)
        self.tf = {f: [Counter(tokenize(docs[d].get(f, ""))) for d in self.ids] for f in self.boosts}
        self.lengths = {f: [sum(c.values()) for c in self.tf[f]] for f in self.boosts}
        self.avgdl = {f: (sum(v) / len(v)) or 1.0 for f, v in self.lengths.items()}
        df = Counter()
        for i in range(len(self.ids)):
            df.update(set().union(*(self.tf[f][i] for f in self.boosts)))
        n = len(self.ids)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def query_terms(self, query: str) -> list[str]:
        """The distinct tokens of the synonym-expanded query, in order."""
        return list(dict.fromkeys(tokenize(expand_query(query, self.synonyms))))

    def scores(self, query: str) -> list[float]:
        """The BM25 score of every document (in `self.ids` order)."""
        terms = [t for t in self.query_terms(query) if t in self.idf]
        out = [0.0] * len(self.ids)
        for f, boost in self.boosts.items():
            avgdl, tfs, lengths = self.avgdl[f], self.tf[f], self.lengths[f]
            for i, counts in enumerate(tfs):
                norm = self.k1 * (1 - self.b + self.b * lengths[i] / avgdl)
                s = 0.0
                for t in terms:
                    tf = counts.get(t)
                    if tf:
                        s += self.idf[t] * tf * (self.k1 + 1) / (tf + norm)
                out[i] += boost * s
        return out

    def search(self, query: str, top: int = 5) -> list[tuple[str, float]]:
        """The `top` best ``(doc_id, score)`` pairs with a positive score, best first (ties by id order)."""
        if not isinstance(top, int) or top < 1:
            raise ValueError(f"Index.search: top must be a positive int, got {top!r}")
        ranked = sorted(((s, -i) for i, s in enumerate(self.scores(query)) if s > 0), reverse=True)
        return [(self.ids[-i], s) for s, i in ranked[:top]]

    def to_json(self) -> dict:
        """Everything the site's JavaScript needs to score exactly like `scores`."""
        return {
            "k1": self.k1, "b": self.b, "ids": self.ids, "boosts": self.boosts, "avgdl": self.avgdl,
            "idf": self.idf, "lengths": self.lengths,
            "tf": {f: [dict(c) for c in self.tf[f]] for f in self.boosts},
            "stopwords": sorted(STOPWORDS), "synonyms": [list(p) for p in self.synonyms], "cjk": _CJK,
        }


def entry_fields(entry) -> dict:
    """The searchable fields of one entry (both languages in every field)."""
    from .render import strip_markup

    d = entry.data

    def both(value):
        if isinstance(value, dict):
            return " ".join(both(value.get(lang, "")) for lang in ("en", "zh"))
        if isinstance(value, list):
            return " ".join(both(v) for v in value)
        return strip_markup(str(value))

    body = [d["checks"], d["full"]]
    for p in d["pitfalls"]:
        body += [p["wrong"], p["right"]]
    for q in d["quiz"]:
        body.append(q["prompt"])
    for g in d.get("graded", []):
        body += [g["prompt"], g["options"]]
    return {"title": both(d["title"]), "keywords": both(d["keywords"]) + " " + " ".join(d.get("related", [])),
            "question": both(d["question"]), "short": both(d["short"]), "body": both(body)}


def build_index(entries) -> Index:
    """A BM25 `Index` over loaded entries (see `deepnotes.handbook.entries.load_entries`)."""
    if not entries:
        raise ValueError("build_index: no entries to index")
    return Index({e.id: entry_fields(e) for e in entries})


def evaluate(index: Index, questions: list, top: int = 3) -> dict:
    """Retrieval accuracy: a question is a hit at k when any of its ``ids`` is in the top k.

    Args:
        questions: ``[{"q": text, "ids": [entry ids]}, ...]``.
    Returns:
        ``{"n", "top1", "top3", f"top{top}", "missed": [{"q", "ids", "got"}]}`` (missed: not in the top `top`).
    """
    if not isinstance(questions, list) or not all(isinstance(q, dict) and "q" in q and "ids" in q for q in questions):
        raise ValueError("evaluate: questions must be a list of {'q': text, 'ids': [entry ids]} objects")
    ks = sorted({1, 3, top})
    hits = dict.fromkeys(ks, 0)
    missed = []
    for item in questions:
        got = [doc for doc, _ in index.search(item["q"], top=max(ks))]
        wanted = set(item["ids"])
        for k in ks:
            hits[k] += bool(wanted & set(got[:k]))
        if not wanted & set(got[:top]):
            missed.append({"q": item["q"], "ids": item["ids"], "got": got[:top]})
    n = len(questions)
    return {"n": n, **{f"top{k}": hits[k] / n if n else 0.0 for k in ks}, "missed": missed}
