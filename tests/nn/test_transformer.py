"""TransformerEncoderLayer and TransformerEncoder vs PyTorch, LayerNorm in both places (inventory S5, N4)."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.optim as optim
from deepnotes.nn.layers.transformer import generate_square_subsequent_mask
from tests.oracle import check_module, random_inputs
from tests.doctests import assert_examples_run

D_MODEL, NHEAD, FF = 8, 2, 16


def _pad_mask(N, L):
    pad = np.zeros((N, L), dtype=bool)
    pad[0, L - 2:] = True      # lengths L - 2, L, 1, ...
    if N > 2:
        pad[2, 1:] = True
    return pad


def _layer_pair(**kw):
    kw = {"dim_feedforward": FF, "dropout": 0.0, **kw}
    return nn.TransformerEncoderLayer(D_MODEL, NHEAD, **kw), torch.nn.TransformerEncoderLayer(D_MODEL, NHEAD, **kw)


def _call_with(src_mask=None, padding=None, is_causal=False, mask_kw="src_mask"):
    def call(m, x):
        torch_side = isinstance(m, torch.nn.Module)
        conv = (lambda a: None if a is None else torch.tensor(a)) if torch_side else (lambda a: a)
        return m(x, **{mask_kw: conv(src_mask)}, src_key_padding_mask=conv(padding), is_causal=is_causal)

    return call


@pytest.mark.covers("S5", "N4")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch_with_padding(norm_first, activation, batch_first):
    N, L = 3, 5
    ours, theirs = _layer_pair(norm_first=norm_first, activation=activation, batch_first=batch_first)
    (x,) = random_inputs([(N, L, D_MODEL) if batch_first else (L, N, D_MODEL)], seed=int(norm_first))
    check_module(ours, theirs, [x], call=_call_with(padding=_pad_mask(N, L)))


@pytest.mark.covers("S5", "N4")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_encoder_layer_causal_mask_and_no_bias_match_torch(norm_first, bias):
    L = 6
    ours, theirs = _layer_pair(norm_first=norm_first, bias=bias, batch_first=True)
    (x,) = random_inputs([(2, L, D_MODEL)], seed=3)
    mask = generate_square_subsequent_mask(L).numpy()
    check_module(ours, theirs, [x], call=_call_with(src_mask=mask, is_causal=True))


@pytest.mark.covers("S5")
def test_encoder_layer_unbatched_and_layer_norm_eps_match_torch():
    ours, theirs = _layer_pair(layer_norm_eps=1e-3, norm_first=True)
    (x,) = random_inputs([(4, D_MODEL)], seed=4)
    check_module(ours, theirs, [x])


@pytest.mark.covers("S5", "N4")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_encoder_two_layers_with_final_norm_matches_torch(norm_first, causal):
    N, L = 3, 6
    layer, tlayer = _layer_pair(norm_first=norm_first, batch_first=True)
    ours = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(D_MODEL))
    theirs = torch.nn.TransformerEncoder(tlayer, 2, norm=torch.nn.LayerNorm(D_MODEL), enable_nested_tensor=False)
    # Different parameters in each copy, so a mix-up between layers would show.
    for p in ours.parameters():
        p.data[...] = np.random.default_rng(p.numpy().size).uniform(-0.5, 0.5, p.shape) + (p.numpy() if p.ndim == 1 else 0)
    (x,) = random_inputs([(N, L, D_MODEL)], seed=5)
    # A bool causal mask (True = not allowed), the padding mask's type; is_causal=None detects it.
    mask = np.triu(np.ones((L, L), dtype=bool), 1) if causal else None
    check_module(ours, theirs, [x], call=_call_with(src_mask=mask, padding=_pad_mask(N, L), mask_kw="mask",
                                                    is_causal=None))


@pytest.mark.covers("S5")
def test_encoder_state_dict_names_as_torch_and_copies_are_independent():
    layer, tlayer = _layer_pair()
    ours = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(D_MODEL))
    theirs = torch.nn.TransformerEncoder(tlayer, 2, norm=torch.nn.LayerNorm(D_MODEL), enable_nested_tensor=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    a, b = ours.layers[0].linear1.weight, ours.layers[1].linear1.weight
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # deep copies start equal, as in torch
    a.data[...] = 0
    assert np.any(b.numpy() != 0)
    assert ours.layers[0].self_attn is not ours.layers[1].self_attn


@pytest.mark.covers("S5")
def test_causal_mask_is_detected_and_equals_explicit_hint():
    layer, _ = _layer_pair(batch_first=True)
    enc = nn.TransformerEncoder(layer, 2)
    x = dn.randn(2, 5, D_MODEL)
    mask = generate_square_subsequent_mask(5)
    np.testing.assert_allclose(enc(x, mask=mask).numpy(), enc(x, is_causal=True).numpy(), atol=1e-6)
    # Position 0's output cannot depend on later positions.
    y = x.numpy().copy()
    y[:, 3:] += 1.0
    np.testing.assert_allclose(enc(dn.tensor(y), mask=mask).numpy()[:, :3], enc(x, mask=mask).numpy()[:, :3], atol=1e-5)


@pytest.mark.covers("N4")
@pytest.mark.parametrize("norm_first", [False, True])
def test_post_ln_output_is_normalized_per_token_pre_ln_is_not(norm_first):
    """Post-LN ends with LayerNorm: every token's output has mean 0 and variance 1 over
    its features; pre-LN's output is the raw residual stream."""
    layer, _ = _layer_pair(norm_first=norm_first)
    out = layer(dn.randn(5, 3, D_MODEL) * 3.0 + 2.0).numpy().astype(np.float64)
    normalized = np.allclose(out.mean(-1), 0, atol=1e-5) and np.allclose(out.var(-1), 1, atol=1e-3)
    assert normalized is (not norm_first)


@pytest.mark.covers("N4")
def test_layer_norm_ignores_padding_unlike_batch_statistics():
    """A token's output does not change when other sequences in the batch (or padding) change."""
    layer, _ = _layer_pair(batch_first=True)
    layer.eval()
    x = dn.randn(2, 4, D_MODEL)
    pad = np.array([[False, False, False, True], [False, False, False, False]])
    y = x.numpy().copy()
    y[0, 3] = 100.0   # the padded token
    y[1] = -y[1]      # another sequence
    a = layer(x, src_key_padding_mask=pad).numpy()[0, :3]
    b = layer(dn.tensor(y), src_key_padding_mask=pad).numpy()[0, :3]
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.covers("S5")
def test_encoder_layer_rejects_wrong_width():
    layer, _ = _layer_pair()
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer\(d_model=8\).*got \(5, 2, 7\)"):
        layer(dn.randn(5, 2, 7))
    with pytest.raises(ValueError, match="activation must be"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


@pytest.mark.covers("S5")
def test_tiny_transformer_learns_to_find_a_token():
    """Classify whether token 1 occurs anywhere in the sequence: needs attention across positions."""
    rng = np.random.default_rng(0)
    N, L, V = 64, 8, 6
    tokens = rng.integers(2, V, (N, L))
    labels = rng.random(N) < 0.5
    tokens[labels, rng.integers(0, L, labels.sum())] = 1
    emb = nn.Embedding(V, 16)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 1)
    head = nn.Linear(16, 2)
    params = list(emb.parameters()) + list(enc.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(60):
        opt.zero_grad()
        logits = head(enc(emb(dn.tensor(tokens))).mean(dim=1))
        loss = loss_fn(logits, dn.tensor(labels.astype(np.int64)))
        loss.backward()
        opt.step()
    accuracy = (logits.numpy().argmax(1) == labels).mean()
    assert accuracy > 0.9, accuracy


@pytest.mark.covers("S5")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.nn.layers.transformer")
