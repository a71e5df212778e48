"""Small text corpora and word-embedding evaluation sets, read from gensim's test data.

gensim's wheel ships, under `gensim/test/test_data`, the Lee news corpus
(Lee et al. 2005; 300 background documents), the first 500 lines of text8
(stemmed), WordSim-353 (Finkelstein et al. 2002), SimLex-999 (Hill et al.
2015) and Mikolov et al.'s (2013) analogy questions.  deepnotes reads them
from the installed package, never from the network; install them with
`pip install deepnotes[text]`.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .vocab import tokenize

FILES = {
    "lee_background": "lee_background.cor",
    "lee": "lee.cor",
    "text8_head500": "head500.noblanks.cor",
    "wordsim353": "wordsim353.tsv",
    "simlex999": "simlex999.txt",
    "questions_words": "questions-words.txt",
}


def gensim_test_data_dir():
    """The folder of gensim's bundled test data, found without importing gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "deepnotes.text.corpora: the corpora and evaluation sets come from gensim's bundled test data, "
            "and gensim is not installed; install it with `pip install deepnotes[text]` (or `pip install gensim`)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data"


def data_path(name):
    """Path of one of `FILES` (by key, e.g. 'wordsim353')."""
    if name not in FILES:
        raise KeyError(f"deepnotes.text.corpora: unknown data set {name!r}; known: {sorted(FILES)}")
    path = gensim_test_data_dir() / FILES[name]
    if not path.exists():
        raise FileNotFoundError(f"deepnotes.text.corpora: {path} is missing from the installed gensim; "
                                "reinstall it with `pip install --force-reinstall gensim`")
    return path


def load_corpus(name="lee_background", max_lines=None):
    """A corpus as a list of token lists, one per line (document), tokenized by `tokenize`."""
    sentences = []
    with open(data_path(name), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if max_lines is not None and i >= max_lines:
                break
            tokens = tokenize(line)
            if tokens:
                sentences.append(tokens)
    return sentences


def load_lee_corpus(max_lines=None):
    """The Lee background corpus: 300 news documents, about 60 thousand tokens."""
    return load_corpus("lee_background", max_lines)


def load_word_pairs(name="wordsim353"):
    """Scored word pairs [(w1, w2, score), ...], lowercased ('wordsim353' or 'simlex999')."""
    pairs = []
    with open(data_path(name), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            w1, w2, score = line.split("\t")[:3]
            pairs.append((w1.lower(), w2.lower(), float(score)))
    return pairs


def load_analogies(name="questions_words"):
    """Analogy questions by section: {section: [(a, b, c, d), ...]} for "a is to b as c is to d"."""
    sections, current = {}, None
    with open(data_path(name), encoding="utf-8") as f:
        for line in f:
            if line.startswith(":"):
                current = line[1:].strip()
                sections[current] = []
            elif line.strip():
                sections[current].append(tuple(line.lower().split()))
    return sections
