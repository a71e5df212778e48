"""Sanity tests of the attention claim (K33): with attention switched off in the "attention" arm the
two arms are the same model and every effect is zero; the attention map is a distribution over the
source; tests/claims/test_smoke.py runs the claim at the tiny budget. No test asserts a claim's verdict."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.claims.experiments import attention as A



@pytest.mark.covers("K33", "S4")
def test_k33_attention_switched_off_loses_the_effect():
    plain, _ = A.train_seq2seq(False, 3, (3, 5), 0, hidden=8)
    broken, _ = A.train_seq2seq(False, 3, (3, 5), 0, hidden=8)  # the "attention" arm with attention off
    acc = [[A.copy_accuracy(m, n, 0, n=16) for n in (3, 8)] for m in (plain, broken)]
    assert acc[0] == acc[1]  # same model: the difference the criteria measure is exactly zero
    assert plain.greedy(np.ones((2, 4), dtype=np.int64))[1] is None


@pytest.mark.covers("K33", "S4")
def test_k33_attention_map_is_a_distribution_over_the_source():
    dn.manual_seed(0)
    model = A.Seq2Seq(hidden=8, attention=True)
    src = A.strings(3, 7, np.random.default_rng(0))
    preds, maps = model.greedy(src)
    assert preds.shape == (3, 7) and preds.min() >= 1 and preds.max() <= A.SYMBOLS
    assert maps.shape == (3, 7, 7) and np.allclose(maps.sum(axis=-1), 1.0, atol=1e-5)
    # teacher-forced forward and greedy decoding agree on the first step
    first = model(src, np.zeros((3, 1), dtype=np.int64)).numpy()[:, 0, 1:].argmax(-1) + 1
    assert np.array_equal(first, preds[:, 0])
