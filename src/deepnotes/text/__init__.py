"""deepnotes.text: tokenizing, vocabularies, a skip-gram trainer and embedding evaluation (inventory S6, S7).

    from deepnotes.text import corpora, SkipGram, evaluate_relatedness
    sentences = corpora.load_lee_corpus()
    model = SkipGram(vector_size=100, min_count=2, epochs=20, seed=0).fit(sentences)
    evaluate_relatedness(model.vectors, model.vocab, corpora.load_word_pairs("wordsim353"))

The corpora and evaluation sets come from gensim's bundled test data
(`pip install deepnotes[text]`); nothing is downloaded.
"""
from . import corpora
from .evaluate import (
    AnalogyResult, KMeansResult, RelatednessResult, analogy_answers, evaluate_analogies,
    evaluate_relatedness, kmeans, kmeans_plus_plus, nearest_neighbors, pca, pca_2d, purity, rankdata,
    spearman, unit_rows,
)
from .skipgram import SkipGram, hierarchical_softmax_grads, negative_sampling_grads
from .vocab import Vocab, tokenize
