"""Tokenizer, vocabulary and the corpora read from gensim's bundled test data (inventory S6)."""
import importlib.util
from collections import Counter

import numpy as np
import pytest

from deepnotes.text import Vocab, corpora, tokenize
from tests.doctests import assert_examples_run


@pytest.mark.covers("S6")
def test_tokenize_lowercases_and_keeps_inner_apostrophes():
    assert tokenize("The CAT's 2 hats -- AND a dog! e-mail") == ["the", "cat's", "2", "hats", "and", "a", "dog",
                                                                  "e", "mail"]
    assert tokenize("  ...  ") == []


@pytest.mark.covers("S6")
def test_vocab_orders_by_count_then_first_appearance():
    sentences = [["b", "a", "c", "a"], ["c", "d", "a", "b", "e"]]
    vocab = Vocab.build(sentences)
    assert vocab.itos == ["a", "b", "c", "d", "e"]
    np.testing.assert_array_equal(vocab.counts, [3, 2, 2, 1, 1])
    assert vocab.most_common(2) == [("a", 3), ("b", 2)]
    assert vocab["c"] == 2 and "z" not in vocab and vocab.count("z") == 0 and vocab.total == 9
    np.testing.assert_array_equal(vocab.encode(["c", "z", "a"]), [2, 0])   # out-of-vocabulary dropped
    assert vocab.decode([2, 0]) == ["c", "a"]
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        vocab["z"]


@pytest.mark.covers("S6")
def test_vocab_min_count_and_max_size():
    counter = Counter({"x": 5, "y": 1, "z": 3, "w": 2})
    assert Vocab(counter, min_count=2).itos == ["x", "z", "w"]
    assert Vocab(counter, max_size=2).itos == ["x", "z"]
    assert len(Vocab(counter, min_count=10)) == 0


@pytest.mark.covers("S6")
def test_corpora_come_from_the_installed_gensim_package():
    lee = corpora.load_lee_corpus()
    assert len(lee) == 300 and 55_000 < sum(map(len, lee)) < 65_000
    assert lee[0][:4] == ["hundreds", "of", "people", "have"]
    wordsim = corpora.load_word_pairs("wordsim353")
    assert len(wordsim) == 353 and wordsim[0] == ("love", "sex", 6.77)
    assert len(corpora.load_word_pairs("simlex999")) == 999
    analogies = corpora.load_analogies()
    assert len(analogies) == 14 and sum(map(len, analogies.values())) == 19544
    assert analogies["capital-common-countries"][0] == ("athens", "greece", "baghdad", "iraq")
    assert len(corpora.load_corpus("text8_head500", max_lines=3)) == 3


@pytest.mark.covers("S6")
def test_missing_gensim_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gensim" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install deepnotes\[text\]"):
        corpora.load_lee_corpus()
    with pytest.raises(KeyError, match="unknown data set"):
        corpora.data_path("nope")


@pytest.mark.covers("S6")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.text.vocab")
