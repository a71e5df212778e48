"""nn.utils.rnn (pad/pack/unpack) and recurrent layers on PackedSequences, against PyTorch on random lengths."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.utils import rnn
from tests.oracle import assert_close, check_module


def _lengths(seed, batch, longest):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, longest + 1, batch)
    lengths[rng.integers(batch)] = longest
    return lengths


@pytest.mark.covers("S1")
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_match_torch(seed, batch_first):
    lengths = _lengths(seed, 5, 6)
    rng = np.random.default_rng(seed + 10)
    seqs = [rng.normal(size=(n, 3)) for n in lengths]
    dn_seqs = [dn.tensor(s, requires_grad=True) for s in seqs]
    th_seqs = [torch.tensor(s, requires_grad=True) for s in seqs]
    dn_pad = rnn.pad_sequence(dn_seqs, batch_first=batch_first, padding_value=-1.0)
    th_pad = torch.nn.utils.rnn.pad_sequence(th_seqs, batch_first=batch_first, padding_value=-1.0)
    assert_close(dn_pad, th_pad, "pad_sequence")
    dn_packed = rnn.pack_padded_sequence(dn_pad, dn.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
    th_packed = torch.nn.utils.rnn.pack_padded_sequence(th_pad, torch.tensor(lengths), batch_first=batch_first,
                                                        enforce_sorted=False)
    for field in ("data", "batch_sizes", "sorted_indices", "unsorted_indices"):
        assert_close(getattr(dn_packed, field), getattr(th_packed, field), f"PackedSequence.{field}")
    dn_out, dn_len = rnn.pad_packed_sequence(dn_packed, batch_first=batch_first, total_length=8, padding_value=0.5)
    th_out, th_len = torch.nn.utils.rnn.pad_packed_sequence(th_packed, batch_first=batch_first, total_length=8,
                                                            padding_value=0.5)
    assert_close(dn_out, th_out, "pad_packed_sequence")
    assert_close(dn_len, th_len, "lengths")
    weights = np.random.default_rng(seed + 20).normal(size=th_out.shape)
    (dn_out * dn.tensor(weights)).sum().backward()
    (th_out * torch.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(zip(dn_seqs, th_seqs)):
        assert_close(a.grad, b.grad, f"gradient of sequence {i}")


def test_pack_sequence_sorted_and_enforce_sorted_error():
    seqs = [np.arange(n, dtype=np.float64)[:, None] for n in (4, 3, 1)]
    dn_packed = rnn.pack_sequence([dn.tensor(s) for s in seqs])
    th_packed = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs])
    assert_close(dn_packed.data, th_packed.data, "data")
    assert dn_packed.sorted_indices is None and th_packed.sorted_indices is None
    with pytest.raises(RuntimeError, match="enforce_sorted"):
        rnn.pack_padded_sequence(dn.zeros(3, 2, 1), [1, 3])
    unpacked = rnn.unpack_sequence(dn_packed)
    assert [u.shape[0] for u in unpacked] == [4, 3, 1]


@pytest.mark.covers("S1", "S2")
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional,num_layers", [(False, 1), (True, 2)])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_recurrent_layers_on_packed_sequences_match_torch(kind, bidirectional, num_layers, enforce_sorted):
    lengths = _lengths(3, 6, 7)
    if enforce_sorted:
        lengths = np.sort(lengths)[::-1].copy()
    x = np.random.default_rng(4).normal(size=(6, 7, 3))
    dn_layer = getattr(nn, kind)(3, 4, num_layers=num_layers, batch_first=True, bidirectional=bidirectional)
    th_layer = getattr(torch.nn, kind)(3, 4, num_layers=num_layers, batch_first=True, bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    h0 = np.random.default_rng(5).normal(size=(num_layers * directions, 6, 4))

    def call(lib, utils):
        def run(module, inputs, h):
            packed = utils.pack_padded_sequence(inputs, lengths.tolist(), batch_first=True,
                                                enforce_sorted=enforce_sorted)
            state = (h, h * 0.5) if kind == "LSTM" else h
            out, final = module(packed, state)
            padded, _ = utils.pad_packed_sequence(out, batch_first=True)
            finals = list(final) if kind == "LSTM" else [final]
            return [padded, out.data] + finals
        return run

    check_module(dn_layer, th_layer, [x, h0], call=lambda m, a, h: call(dn, rnn)(m, a, h)
                 if isinstance(m, dn.nn.Module) else call(torch, torch.nn.utils.rnn)(m, a, h))


def test_packed_final_state_is_each_sequences_own_last_step():
    """Run each sequence alone through the layer: its final state equals the packed batch's row."""
    lstm = nn.LSTM(2, 3).double()
    lengths = [2, 5, 3]
    seqs = [dn.tensor(np.random.default_rng(i).normal(size=(n, 2))) for i, n in enumerate(lengths)]
    _, (h, c) = lstm(rnn.pack_sequence(seqs, enforce_sorted=False))
    for i, s in enumerate(seqs):
        _, (h_alone, _) = lstm(s[:, None, :])
        np.testing.assert_allclose(h.data[:, i], h_alone.data[:, 0], rtol=1e-12)
