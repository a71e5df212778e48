"""Sanity tests of the dropout claims (K22, K45) on deliberately broken variants (no rescale, dropout
left on at eval, p = 0), and each claim once at the tiny budget. No test asserts a claim's verdict."""
import math

import numpy as np
import pytest

import deepnotes as dn
from deepnotes.claims.experiments import dropout as D
from deepnotes.claims.experiments import _toolkit_c as T
from tests.claims.tiny import assert_runs_at_tiny


@pytest.mark.covers("K22", "R1")
def test_k22_rescale_check_catches_plain_dropout():
    inverted = D.rescale_z(0.5, 0, draws=20)
    plain = D.rescale_z(0.5, 0, draws=20, rescale=False)  # non-inverted dropout halves the mean
    assert 3.0 - abs(plain) < 0 and abs(plain) > 10 * max(abs(inverted), 1.0)


@pytest.mark.covers("K22", "R1")
def test_k22_eval_check_catches_dropout_left_on():
    assert D.eval_error(0.5, 0) == 0.0
    assert D.eval_error(0.5, 0, training=True) > 1e-3
    assert D.eval_error(0.0, 0, training=True) == 0.0  # p = 0 is the identity even in train mode


@pytest.mark.covers("K22", "R7")
def test_k22_ensemble_view_without_dropout_is_one_network():
    split = T.mnist1d_split()
    x, y = split[2][:200], split[3][:200]
    dn.manual_seed(0)
    plain = T.norm_mlp(40, 32, 2, 10, dropout=0.0)
    view = D.ensemble_view(plain, x, y, samples=4, seed=0)  # every "thinned" net is the same net
    assert view["agreement"] == 1.0
    assert view["ensemble_accuracy"] == view["single_thinned_accuracy"] == view["weight_scaled_accuracy"]
    dn.manual_seed(0)
    dropped = T.norm_mlp(40, 32, 2, 10, dropout=0.5)
    view = D.ensemble_view(dropped, x, y, samples=4, seed=0)
    assert view["agreement"] < 1.0  # the thinned nets do differ from the weight-scaled one


@pytest.mark.covers("K22")
def test_max_norm_caps_each_hidden_unit():
    dn.manual_seed(0)
    model = T.norm_mlp(40, 16, 2, 10, init="he", scale=5.0)
    D.max_norm_(model, 2.0)
    for layer in T.block_linears(model)[:-1]:
        assert np.linalg.norm(layer.weight.data, axis=1).max() <= 2.0 + 1e-5
    head = T.block_linears(model)[-1]
    assert np.linalg.norm(head.weight.data, axis=1).max() > 2.0  # the output layer is not constrained


@pytest.mark.covers("K45", "R1")
def test_k45_p_zero_gives_zero_effects():
    split = T.mnist1d_split()
    a = D.k45_run(0.0, 100, 2, 0, split, width=16)
    b = D.k45_run(0.0, 100, 2, 0, split, width=16)  # the "dropout" arm with p = 0
    assert a == b
    assert math.log10(b["epochs_to_target"] / a["epochs_to_target"]) == 0.0
    x = np.abs(np.random.default_rng(0).standard_normal((32, 40))).astype(np.float32)
    dn.manual_seed(0)
    dead = T.norm_mlp(40, 16, 1, 10)
    with dn.no_grad():
        dead[0].weight.data[...] = -1.0  # every pre-activation negative on positive inputs: all zero
        dead[0].bias.data[...] = 0.0
    assert D.near_zero_fraction(dead, x) == 1.0


@pytest.mark.covers("K22", "K45")
@pytest.mark.parametrize("claim_id", ["K22", "K45"])
def test_claim_runs_at_tiny(claim_id, tmp_path):
    assert_runs_at_tiny(claim_id, tmp_path)
