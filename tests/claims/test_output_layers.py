"""Sanity tests of the hierarchical-softmax claim (K34): the measurements are run on deliberately
broken variants (a tree built from uniform counts, which ignores frequency; probabilities that are
not normalized) and must lose their effect; tests/claims/test_smoke.py runs the claim at the tiny budget. No test asserts
a claim's verdict."""
import math

import numpy as np
import pytest

import deepnotes.nn as nn
from deepnotes.claims.experiments import output_layers as O
from deepnotes.claims.experiments._toolkit_a import log_tol_effect



@pytest.mark.covers("K34", "S7")
def test_k34_tree_that_ignores_counts_loses_the_depth_effect():
    counts = O.corpus_counts(0)
    assert counts[0] >= counts[-1] and len(counts) > 1000
    huffman = O.spearman(counts, nn.HierarchicalSoftmax(counts, 2).code_lengths())
    uniform = O.spearman(counts, nn.HierarchicalSoftmax(np.ones_like(counts), 2).code_lengths())
    assert -uniform < 0.5 <= -huffman  # the broken tree cannot meet the criterion


@pytest.mark.covers("K34", "S7")
def test_k34_normalization_error_sees_an_unnormalized_distribution():
    rng = np.random.default_rng(0)
    err = O.normalization_error(200, rng)
    assert log_tol_effect(err["sum_error"], 1e-9) > 0 and err["path_gap"] < 1e-10
    # broken variant: each word's probability an independent sigmoid (no tree): the sum is far from 1
    scores = rng.standard_normal((32, 200))
    broken = float(np.max(np.abs((1 / (1 + np.exp(-scores))).sum(axis=1) - 1)))
    assert log_tol_effect(broken, 1e-9) < 0


@pytest.mark.covers("K34", "P4")
def test_k34_timing_takes_the_least_disturbed_call():
    calls = []
    assert O.best_time(lambda: calls.append(1), repeats=3, min_seconds=0.0) >= 0 and len(calls) == 3
    out = O.time_layers(300, np.random.default_rng(0), repeats=2)
    assert set(out) == {"full_forward", "full_train", "hierarchical_forward", "hierarchical_train"}
    assert all(v > 0 and math.isfinite(v) for v in out.values())
