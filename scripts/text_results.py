"""Embedding and Transformer results with deepnotes (inventory S4-S7, P4).

    .venv/bin/python scripts/text_results.py [--part skipgram|transformer|cost|all] [--seeds 3] [--quick]
                                             [--lengths 16,32] [--json results.json] [--figure pca.png]

1. Skip-gram on the Lee background corpus (gensim's bundled test data, 300
   news documents, ~60k tokens), deepnotes' trainer vs gensim's
   Word2Vec(sg=1) with the same settings (vector_size 100, window 5,
   min_count 2, sample 1e-3, negative 5 or hierarchical softmax, alpha 0.025
   -> 0.0001, 20 epochs, one worker thread), on the same tokens.  Both models'
   vectors go through the same deepnotes evaluators: WordSim-353 and
   SimLex-999 Spearman, analogy accuracy (3CosAdd, question words excluded),
   k-means purity on six hand-picked word categories, training time.  The Lee
   corpus is tiny, so absolute scores are low for both; the point is that the
   two implementations agree.
2. A small Transformer encoder (2 pre-LN layers, d_model 32, 4 heads,
   sinusoidal positions, a [CLS] token) on a synthetic long-range task:
   sequences of L random tokens; the label says whether the first token
   equals the last.  Nothing between them helps, so the model must relate two
   positions L - 1 apart; chance is 50%.  Training stops once the test
   accuracy has been >= 99% for two epochs (at most 50 epochs).
3. The output-layer cost model for 10 million classes (P4).

gensim is needed for the corpora (`pip install deepnotes[text]`); it is also
the reference trainer here.  Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim
from deepnotes.nn.layers.output_cost import output_layer_cost
from deepnotes.nn.layers.output_layers import expected_code_length
from deepnotes.text import (
    SkipGram, Vocab, corpora, evaluate_analogies, evaluate_relatedness, kmeans, nearest_neighbors, pca_2d,
    purity,
)

SETTINGS = dict(vector_size=100, window=5, min_count=2, sample=1e-3, alpha=0.025, min_alpha=1e-4, epochs=20)

CATEGORIES = {
    "days": "monday tuesday wednesday thursday friday saturday sunday",
    "months": "january february june july august september october november december",
    "numbers": "two three four five six seven eight nine ten hundred thousand million",
    "countries": "australia afghanistan pakistan israel india america britain china japan indonesia russia",
    "cities": "sydney melbourne canberra brisbane perth adelaide london washington jerusalem kabul hobart",
    "roles": "president minister leader police officer spokesman secretary chief commander",
}
PROBES = ["police", "afghanistan", "fire", "tuesday"]


# ------------------------------------------------------------------ skip-gram
def gensim_vectors(sentences, seed, hs, negative, epochs):
    from gensim.models import Word2Vec

    start = time.perf_counter()
    model = Word2Vec(sentences, sg=1, hs=int(hs), negative=negative, seed=seed, workers=1,
                     **{**SETTINGS, "epochs": epochs})
    seconds = time.perf_counter() - start
    words = model.wv.index_to_key
    vocab = Vocab({w: model.wv.get_vecattr(w, "count") for w in words})
    vectors = np.stack([model.wv[w] for w in vocab.itos])
    return vocab, vectors, seconds


def deepnotes_vectors(sentences, seed, hs, negative, epochs):
    model = SkipGram(hs=hs, negative=negative, seed=seed, **{**SETTINGS, "epochs": epochs}).fit(sentences)
    return model.vocab, model.vectors, model.train_seconds


def categorization(vectors, vocab, seed):
    words = [(w, c) for c, ws in CATEGORIES.items() for w in ws.split() if w in vocab]
    X = np.stack([vectors[vocab[w]] for w, _ in words])
    labels = [c for _, c in words]
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    best = min((kmeans(X, len(CATEGORIES), generator=np.random.default_rng(seed * 100 + r)) for r in range(10)),
               key=lambda r: r.inertia)
    rng = np.random.default_rng(seed)
    chance = np.mean([purity(labels, rng.permutation(best.labels)) for _ in range(200)])
    return purity(labels, best.labels), chance, words, X


def evaluate(vectors, vocab, seed, sets):
    rel = {name: evaluate_relatedness(vectors, vocab, pairs) for name, pairs in sets["pairs"].items()}
    ana = evaluate_analogies(vectors, vocab, sets["analogies"])
    ana5 = evaluate_analogies(vectors, vocab, sets["analogies"], k=5)
    pur, chance, _, _ = categorization(vectors, vocab, seed)
    return {
        "wordsim353_spearman": rel["wordsim353"].spearman, "wordsim353_coverage": rel["wordsim353"].coverage,
        "simlex999_spearman": rel["simlex999"].spearman, "simlex999_coverage": rel["simlex999"].coverage,
        "analogy_acc@1": ana.accuracy, "analogy_acc@5": ana5.accuracy, "analogy_evaluated": ana.evaluated,
        "category_purity": pur, "category_purity_chance": chance,
    }


def run_skipgram(seeds, epochs, figure=None):
    sentences = corpora.load_lee_corpus()
    sets = {"pairs": {n: corpora.load_word_pairs(n) for n in ("wordsim353", "simlex999")},
            "analogies": corpora.load_analogies()}
    print(f"Lee background corpus: {len(sentences)} documents, {sum(map(len, sentences)):,} tokens")
    results = {}
    for output, hs, negative in (("negative sampling", False, 5), ("hierarchical softmax", True, 0)):
        for name, train in (("deepnotes", deepnotes_vectors), ("gensim", gensim_vectors)):
            runs = []
            for seed in seeds:
                vocab, vectors, seconds = train(sentences, seed, hs, negative, epochs)
                runs.append({"seconds": seconds, "vocab": len(vocab), **evaluate(vectors, vocab, seed, sets)})
                print(f"  {output:20s} {name:9s} seed {seed}: WS353 {runs[-1]['wordsim353_spearman']:.3f}  "
                      f"SimLex {runs[-1]['simlex999_spearman']:.3f}  analogy@1 {runs[-1]['analogy_acc@1']:.3f}  "
                      f"purity {runs[-1]['category_purity']:.2f}  {seconds:.1f} s", flush=True)
            if seed == seeds[-1] and output == "negative sampling":
                for probe in PROBES:
                    near = ", ".join(w for w, _ in nearest_neighbors(vectors, vocab, probe, k=5))
                    print(f"    {name} nearest to {probe!r}: {near}")
                if figure and name == "deepnotes":
                    _plot(vectors, vocab, seed, figure)
            results[f"{output}/{name}"] = {"runs": runs, **_summary(runs)}
    print("\nmean (std) over seeds", seeds)
    keys = ["wordsim353_spearman", "simlex999_spearman", "analogy_acc@1", "analogy_acc@5", "category_purity",
            "seconds"]
    print(f"  {'':32s}" + "".join(f"{k:>22s}" for k in keys))
    for label, r in results.items():
        print(f"  {label:32s}" + "".join(f"{r[k]['mean']:>14.3f} ({r[k]['std']:.3f})" for k in keys))
    first = results["negative sampling/deepnotes"]["runs"][0]
    print(f"  coverage: WordSim-353 {first['wordsim353_coverage']:.0%}, SimLex-999 {first['simlex999_coverage']:.0%},"
          f" analogies {first['analogy_evaluated']} questions; category purity by chance "
          f"{first['category_purity_chance']:.2f}")
    return results


def _summary(runs):
    return {k: {"mean": float(np.mean([r[k] for r in runs])), "std": float(np.std([r[k] for r in runs]))}
            for k in runs[0]}


def _plot(vectors, vocab, seed, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, _, words, X = categorization(vectors, vocab, seed)
    xy = pca_2d(X)
    fig, ax = plt.subplots(figsize=(7, 6))
    for i, cat in enumerate(CATEGORIES):
        idx = [j for j, (_, c) in enumerate(words) if c == cat]
        ax.scatter(xy[idx, 0], xy[idx, 1], label=cat, color=f"C{i}")
        for j in idx:
            ax.annotate(words[j][0], xy[j], fontsize=7)
    ax.legend()
    ax.set_title("deepnotes skip-gram on the Lee corpus: PCA of six word categories")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"    wrote {path}")


# ---------------------------------------------------------------- Transformer
def first_equals_last(n, length, vocab_size, rng):
    """Token 0 is [CLS]; tokens 1..length are random in 2..V-1; label = token 1 == token `length`."""
    x = rng.integers(2, vocab_size, (n, length))
    same = rng.random(n) < 0.5
    x[same, -1] = x[same, 0]
    other = ~same
    shift = rng.integers(1, vocab_size - 2, other.sum())
    x[other, -1] = (x[other, 0] - 2 + shift) % (vocab_size - 2) + 2
    return np.concatenate([np.zeros((n, 1), dtype=np.int64), x], axis=1), same.astype(np.int64)


class TinyTransformer(nn.Module):
    def __init__(self, vocab_size, d_model=32, nhead=4, dim_feedforward=64, num_layers=2, max_len=128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.position = nn.SinusoidalPositionalEncoding(d_model, max_len=max_len, batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, 2)

    def forward(self, tokens):
        return self.head(self.encoder(self.position(self.embed(tokens)))[:, 0])   # the [CLS] position


def run_transformer(length, epochs, n_train=4000, n_test=1000, vocab_size=8, seed=0, lr=1e-3):
    dn.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train = first_equals_last(n_train, length, vocab_size, rng)
    x_test, y_test = first_equals_last(n_test, length, vocab_size, rng)
    model = TinyTransformer(vocab_size)
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    print(f"first-equals-last, L = {length} (the two tokens {length - 1} apart), {n_train} training sequences, "
          f"{sum(p.data.size for p in model.parameters()):,} parameters; chance 50%")
    history, start = [], time.perf_counter()
    for epoch in range(epochs):
        order = rng.permutation(n_train)
        for i in range(0, n_train, 64):
            batch = order[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(dn.tensor(x_train[batch])), dn.tensor(y_train[batch]))
            loss.backward()
            opt.step()
        with dn.no_grad():
            accuracy = float((model(dn.tensor(x_test)).data.argmax(1) == y_test).mean())
        history.append(accuracy)
        print(f"  epoch {epoch + 1:2d}: last batch loss {loss.item():.3f}, test accuracy {accuracy:.3f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
        if len(history) >= 2 and min(history[-2:]) >= 0.99:
            break  # solved
    return {"length": length, "test_accuracy": history[-1], "best_test_accuracy": max(history), "chance": 0.5,
            "history": history, "seconds": time.perf_counter() - start}


# ----------------------------------------------------------------------- cost
def run_cost():
    print("output layer for 10 million classes, hidden size 512, batch 256 (float32):")
    out = {}
    for kind, kw in (("full", {}), ("hierarchical", {}), ("sampled", {"num_samples": 64})):
        cost = output_layer_cost(10_000_000, 512, 256, kind=kind, **kw)
        out[kind] = cost.__dict__
        print("  " + cost.summary())
    counts = Vocab.build(corpora.load_lee_corpus(), min_count=2).counts
    out["lee_expected_code_length"] = expected_code_length(counts)
    out["lee_log2_vocab"] = float(np.log2(len(counts)))
    print(f"  Lee vocabulary ({len(counts)} words): mean Huffman code length {out['lee_expected_code_length']:.2f}"
          f" sigmoids per word vs log2 V = {out['lee_log2_vocab']:.2f}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["skipgram", "transformer", "cost", "all"], default="all")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 epochs, one seed")
    parser.add_argument("--lengths", default="16,32", help="sequence lengths of the Transformer task")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--figure", help="write a PCA plot of the word categories to this PNG")
    args = parser.parse_args()
    seeds = [0] if args.quick else list(range(args.seeds))
    results = {}
    with threadpool_limits(1):
        if args.part in ("cost", "all"):
            results["cost"] = run_cost()
        if args.part in ("skipgram", "all"):
            results["skipgram"] = run_skipgram(seeds, 2 if args.quick else SETTINGS["epochs"], args.figure)
        if args.part in ("transformer", "all"):
            results["transformer"] = [run_transformer(int(n), 2 if args.quick else 50)
                                      for n in args.lengths.split(",")]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=float)


if __name__ == "__main__":
    main()
