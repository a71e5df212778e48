"""Tokenizer and vocabulary with counts (inventory S6).

The vocabulary orders words by decreasing count (ties by first appearance),
so id 0 is the most frequent word, as in word2vec and gensim; the counts are
what the skip-gram trainer uses for subsampling, the noise distribution and
the Huffman tree.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

# Lowercase letters and digits, with inner apostrophes kept ("don't", "world's").
TOKEN_PATTERN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


def tokenize(text):
    """Lowercase `text` and return its word tokens (runs of letters/digits).

    >>> tokenize("The cat's 2 hats -- AND a dog!")
    ['the', "cat's", '2', 'hats', 'and', 'a', 'dog']
    """
    return TOKEN_PATTERN.findall(text.lower())


class Vocab:
    """Words <-> ids, with counts.

    Args:
        counts: a mapping word -> count (a Counter), e.g. from `Vocab.build`.
        min_count: drop words seen fewer times.
        max_size: keep at most this many of the most frequent words.

    Attributes:
        itos: list of words by id.  stoi: dict word -> id.
        counts: (V,) int64 array of counts by id.
    """

    def __init__(self, counts, min_count=1, max_size=None):
        # Counter preserves first-insertion order; a stable sort keeps it among equal counts.
        items = [(w, c) for w, c in counts.items() if c >= min_count]
        items.sort(key=lambda wc: -wc[1])
        if max_size is not None:
            items = items[:max_size]
        self.itos = [w for w, _ in items]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.counts = np.array([c for _, c in items], dtype=np.int64)
        self.min_count = min_count

    @classmethod
    def build(cls, sentences, min_count=1, max_size=None):
        """Count the tokens of `sentences` (an iterable of token lists)."""
        counter = Counter()
        for sentence in sentences:
            counter.update(sentence)
        return cls(counter, min_count=min_count, max_size=max_size)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, word):
        return word in self.stoi

    def __getitem__(self, word):
        """The id of `word`; KeyError naming the word if it is not in the vocabulary."""
        try:
            return self.stoi[word]
        except KeyError:
            raise KeyError(f"Vocab: {word!r} is not in the vocabulary ({len(self)} words)") from None

    def get(self, word, default=None):
        return self.stoi.get(word, default)

    def count(self, word):
        return int(self.counts[self.stoi[word]]) if word in self.stoi else 0

    @property
    def total(self):
        """Number of tokens counted (of the kept words)."""
        return int(self.counts.sum())

    def most_common(self, n=None):
        """[(word, count), ...] by decreasing count."""
        n = len(self) if n is None else n
        return [(w, int(c)) for w, c in zip(self.itos[:n], self.counts[:n])]

    def encode(self, tokens):
        """ids of the in-vocabulary tokens (out-of-vocabulary ones are dropped), as int64."""
        stoi = self.stoi
        return np.array([stoi[t] for t in tokens if t in stoi], dtype=np.int64)

    def decode(self, ids):
        return [self.itos[int(i)] for i in ids]

    def __repr__(self):
        return f"Vocab({len(self)} words, {self.total} tokens, min_count={self.min_count})"
