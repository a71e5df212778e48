"""The TransformerEncoderLayer's inference fast path (`deepnotes.fast.transformer`):
taken exactly when PyTorch's would be, equal to the graph path and to torch (inventory S5, N4)."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.errors import NonFiniteError
from deepnotes.fast import transformer as fast_transformer
from deepnotes.nn.layers.transformer import generate_square_subsequent_mask
from tests.nn.test_transformer import D_MODEL, FF, NHEAD, _layer_pair
from tests.oracle import random_inputs


def _fast_path_calls(layer, monkeypatch):
    """Count the layer's fast-path calls (the inference path taken without masks or gradients)."""
    calls = []
    original = fast_transformer.encoder_layer_arrays

    def counting(called_layer, src):
        if called_layer is layer:
            calls.append(src.shape)
        return original(called_layer, src)

    monkeypatch.setattr(fast_transformer, "encoder_layer_arrays", counting)
    return calls


@pytest.mark.covers("S5", "N4")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("shape", [(3, 5, D_MODEL), (4, D_MODEL)], ids=["batched", "unbatched"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_inference_fast_path_equals_forward_and_torch(norm_first, activation, shape, batch_first, bias, monkeypatch):
    """Evaluation without gradients takes the array fast path: the same output as the graph
    path (which runs when the parameters need gradients) and as torch's evaluation mode."""
    ours, theirs = _layer_pair(norm_first=norm_first, activation=activation, batch_first=batch_first, bias=bias,
                               dropout=0.3)
    ours.double().eval()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    theirs.double().eval()
    (x,) = random_inputs([shape], seed=len(shape) + int(norm_first))
    calls = _fast_path_calls(ours, monkeypatch)
    graph_path = ours(dn.tensor(x)).numpy()  # parameters require gradients: the graph path
    assert not calls
    with dn.no_grad():
        fast = ours(dn.tensor(x)).numpy()
    assert calls == [shape]
    np.testing.assert_allclose(fast, graph_path, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        reference = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(fast, reference, rtol=1e-10, atol=1e-10)


@pytest.mark.covers("S5")
def test_fast_path_not_taken_in_training_with_masks_or_gradients(monkeypatch):
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, dim_feedforward=FF, batch_first=True)
    calls = _fast_path_calls(layer, monkeypatch)
    x = dn.randn(2, 5, D_MODEL)
    with dn.no_grad():
        layer(x)  # training mode: dropout is on
        layer.eval()
        layer(x, src_key_padding_mask=np.zeros((2, 5), dtype=bool))
        layer(x, src_mask=generate_square_subsequent_mask(5))
        layer(x, is_causal=True)
    layer(x)  # gradients wanted for the parameters
    assert calls == []
    with dn.no_grad():
        out = layer(x)
    assert len(calls) == 1
    assert out.dtype == np.float32 and out.shape == x.shape  # float32 in, float32 out


@pytest.mark.covers("S5")
def test_fast_path_reports_a_nan_like_the_graph_path():
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, dim_feedforward=FF, batch_first=True).eval()
    x = dn.randn(2, 5, D_MODEL)
    x.data[1, 2, 3] = np.nan
    for grad in (True, False):
        # the attention sees the NaN first and names itself (a NonFiniteError, also a ValueError)
        with dn.set_grad_enabled(grad), pytest.raises(ValueError, match=r"MultiheadAttention\(8, num_heads=2\): query .* NaN"):
            layer(x)


@pytest.mark.covers("S5")
def test_fast_path_nan_inside_the_layer_gives_the_graph_paths_error():
    """A NaN weight (not an input) makes NaN inside the layer: both paths raise the same error, from
    the first checked layer the NaN reaches (the norm after the feed-forward block)."""
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, dim_feedforward=FF, batch_first=True).eval()
    layer.linear2.weight.data[0, 0] = np.nan
    x = dn.randn(2, 5, D_MODEL)
    messages = []
    for grad in (True, False):
        with dn.set_grad_enabled(grad), pytest.raises(NonFiniteError, match=r"LayerNorm\(\(8,\)\): input .* NaN") as info:
            layer(x)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.covers("S5")
def test_fast_path_leaves_a_dtype_mismatch_to_the_graph_paths_error(monkeypatch):
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, dim_feedforward=FF, batch_first=True).eval()
    calls = _fast_path_calls(layer, monkeypatch)
    with dn.no_grad(), pytest.raises(TypeError, match="dtype"):
        layer(dn.tensor(np.zeros((2, 5, D_MODEL))))  # float64 input, float32 weights
    assert calls == []
