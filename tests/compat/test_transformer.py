"""nn.TransformerDecoderLayer, nn.TransformerDecoder and the encoder-decoder nn.Transformer against PyTorch
(outputs, input and parameter gradients, float64, dropout off), with causal and padding masks (S5)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from tests.oracle import check_module


def _inputs(seed, batch_first, s=5, t=4, n=3, e=8):
    rng = np.random.default_rng(seed)
    src, tgt = rng.normal(size=(s, n, e)), rng.normal(size=(t, n, e))
    if batch_first:
        src, tgt = src.transpose(1, 0, 2).copy(), tgt.transpose(1, 0, 2).copy()
    return src, tgt


@pytest.mark.covers("S5")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer_matches_torch(norm_first, batch_first):
    tgt_mask = dn.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    kwargs = dict(dim_feedforward=16, dropout=0.0, batch_first=batch_first, norm_first=norm_first)
    memory, tgt = _inputs(0, batch_first)
    check_module(nn.TransformerDecoderLayer(8, 2, **kwargs), torch.nn.TransformerDecoderLayer(8, 2, **kwargs),
                 [tgt, memory], call=lambda m, x, mem: m(x, mem, tgt_mask=type(x)(tgt_mask) if isinstance(x, dn.Tensor)
                                                         else torch.tensor(tgt_mask)))


@pytest.mark.covers("S5")
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch_with_masks(batch_first):
    kwargs = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
                  batch_first=batch_first)
    ours, theirs = nn.Transformer(**kwargs), torch.nn.Transformer(**kwargs)
    src, tgt = _inputs(1, batch_first)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    pad = np.zeros((3, 5), dtype=bool)
    pad[1, 3:] = True

    def call(model, s, t):
        lib = dn if isinstance(s, dn.Tensor) else torch
        return model(s, t, tgt_mask=lib.tensor(tgt_mask), src_key_padding_mask=lib.tensor(pad),
                     memory_key_padding_mask=lib.tensor(pad))

    check_module(ours, theirs, [src, tgt], call=call, atol=1e-8, rtol=1e-6)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_transformer_init_is_xavier_and_encoder_works_alone():
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight.numpy()
    bound = np.sqrt(6 / (w.shape[0] + w.shape[1]))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    model.eval()
    assert model.encoder(dn.randn(5, 2, 16)).shape == (5, 2, 16)

    class Seq2Seq(nn.Transformer):  # subclassable, as tutorials do
        def forward(self, src, tgt):
            return super().forward(src, tgt, tgt_mask=self.generate_square_subsequent_mask(tgt.shape[0]))

    out = Seq2Seq(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)(
        dn.randn(5, 2, 16), dn.randn(3, 2, 16))
    assert out.shape == (3, 2, 16)
