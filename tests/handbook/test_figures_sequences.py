"""The sequence figure builders (handbook entries S2, S4, S7): the Huffman layout is read from the tree the code
builds, and every builder writes an image."""
import numpy as np
import pytest

from deepnotes.handbook.figures import build_figure
from deepnotes.handbook.figures import sequences as figures


@pytest.mark.covers("S7")
def test_huffman_layout_is_a_prefix_free_binary_tree_with_frequent_words_shallow():
    counts = list(figures.HUFFMAN_WORDS.values())
    edges, codes = figures.huffman_layout(counts)
    words = list(codes.values())
    assert len(set(words)) == len(words)
    assert not any(a != b and b.startswith(a) for a in words for b in words)       # prefix-free
    assert len(edges) == 2 * len(counts) - 2                                        # a full binary tree
    lengths = np.array([len(codes[i]) for i in range(len(counts))])
    assert np.all(np.diff(lengths[np.argsort(counts)[::-1]]) >= 0)                 # more frequent, not deeper
    assert sum(2.0 ** -len(c) for c in words) == pytest.approx(1.0)                 # Kraft equality


@pytest.mark.covers("S1", "S2", "S4", "S7")
@pytest.mark.parametrize("name", ["huffman_tree_diagram", "lstm_cell_diagram", "attention_weights_diagram",
                                  "gradient_through_time_diagram"])
def test_builder_writes_an_image(name, tmp_path):
    out = build_figure(f"deepnotes.handbook.figures.sequences.{name}", tmp_path / f"{name}.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.covers("S4")
def test_attention_example_rows_are_distributions_peaking_at_the_matching_key():
    weights, perm = figures.attention_example()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(weights.argmax(axis=1), perm)


@pytest.mark.covers("S1", "S2")
def test_gradient_through_time_vanishes_for_the_rnn_and_survives_an_open_forget_gate():
    """At initialization the RNN's gradient to the first of 40 inputs is negligible; an LSTM whose forget gate
    starts near 1 keeps it; and the figure leaves the global random state as it found it."""
    import deepnotes as dn

    dn.manual_seed(123)
    expected = dn.randn(3).data
    dn.manual_seed(123)
    curves = figures.gradient_through_time(length=40, hidden=16)
    np.testing.assert_array_equal(dn.randn(3).data, expected)
    rnn, lstm, lstm_open = curves.values()
    assert rnn[0] < 1e-6 < 0.1 < lstm_open[0] and lstm[0] < 1e-3
    assert all(c[-1] == 1.0 for c in curves.values())
