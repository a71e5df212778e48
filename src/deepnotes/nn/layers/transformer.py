"""The Transformer encoder (Vaswani et al. 2017; inventory S5, N4).

One encoder layer is two residual sublayers, each wrapped with dropout and
LayerNorm:

    post-LN (norm_first=False, the paper):  x = LN1(x + SA(x));     x = LN2(x + FF(x))
    pre-LN  (norm_first=True):              x = x + SA(LN1(x));     x = x + FF(LN2(x))

SA is multi-head self-attention, FF = Linear(d_model, dim_feedforward) ->
activation -> dropout -> Linear(dim_feedforward, d_model), applied to every
position independently.

Why LayerNorm and not BatchNorm here (N4): LN normalizes each token's vector
over its features, so it does not depend on the batch or on padding and
sequence length, and it behaves the same in training and inference.  Where
it goes matters: post-LN keeps normalizing the residual stream and needs a
learning-rate warm-up to train deep stacks; pre-LN leaves an identity path
from input to output, so gradients reach the first layers undamped and deep
stacks train without warm-up (Xiong et al. 2020), which is why most later
models use it (then with a final LayerNorm after the stack: the `norm`
argument of `TransformerEncoder`).
"""
from __future__ import annotations

import copy

import numpy as np

from ... import fast
from ...autograd.tensor import Tensor, as_tensor
from .. import functional as F
from ..containers import ModuleList
from ..module import Module
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm


def generate_square_subsequent_mask(sz, dtype=np.float32):
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees 0..i),
    as torch.nn.Transformer.generate_square_subsequent_mask."""
    return Tensor(np.triu(np.full((sz, sz), -np.inf, dtype=dtype), k=1))


def _activation(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, got {activation!r}")


class TransformerEncoderLayer(Module):
    """Self-attention and a position-wise feed-forward network, each with a residual
    connection, dropout and LayerNorm (Vaswani et al. 2017), as torch.nn.TransformerEncoderLayer.

    Args:
        d_model: E.  nhead: attention heads (E must divide evenly).
        dim_feedforward: hidden size of the feed-forward network (2048).
        dropout: on the attention weights, inside FF, and on each sublayer's output (0.1).
        activation: 'relu' | 'gelu' | a callable.
        layer_norm_eps: LayerNorm's epsilon.  batch_first: (N, L, E) instead of (L, N, E).
        norm_first: pre-LN (True) or post-LN (False, the paper's).
        bias: biases in the Linear layers and LayerNorms.

    Submodules (torch's names): self_attn, linear1, dropout, linear2, norm1, norm2,
    dropout1, dropout2.

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> layer(dn.randn(2, 7, 16)).shape
        (2, 7, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)
        self.d_model, self.batch_first = d_model, batch_first

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """src (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E) -> same shape.

        src_mask: (L, L) or (N * nhead, L, L), bool True = not allowed, or float added.
        src_key_padding_mask: (N, L), bool True = padding (ignored as a key).
        """
        x = as_tensor(src)
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ValueError(f"TransformerEncoderLayer(d_model={self.d_model}): expected src of shape "
                             f"(L, N, {self.d_model}), (N, L, {self.d_model}) or (L, {self.d_model}), "
                             f"got {x.shape}")
        inference = None if is_causal else fast.get("transformer_encoder_inference")
        if inference is not None:  # PyTorch's "fast path" for evaluation; see deepnotes/fast/
            out = inference(self, x, (src_mask, src_key_padding_mask))
            if out is not None:
                return out
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        dropout_off = type(self.dropout) is Dropout and not self.dropout.has_hooks and (
            self.dropout.p == 0 or not self.training)
        if self.activation is F.relu and dropout_off:
            chain = fast.get("feed_forward_chain")  # Linear, ReLU, Linear as one node, the ReLU in place
            out = None if chain is None else chain(self.linear1, self.linear2, x)
            if out is not None:
                return self.dropout2(out)
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def extra_repr(self):
        return f"norm_first={self.norm_first}"


def _is_causal_mask(mask, size):
    """Whether `mask` is exactly the (size, size) causal mask (float -inf above the diagonal,
    or bool True above it), as torch detects it."""
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.shape != (size, size):
        return False
    above = np.triu(np.ones((size, size), dtype=bool), k=1)
    if data.dtype == bool:
        return bool(np.array_equal(data, above))
    return bool(np.all(np.where(above, data == -np.inf, data == 0)))


def _mask_is_causal(layers, x, mask):
    """Whether `mask` is the causal mask for the sequence `x` fed to a stack of `layers`."""
    batch_first = getattr(layers[0], "batch_first", False) if len(layers) else False
    seq_len = x.shape[1] if batch_first and x.ndim == 3 else x.shape[0]
    return mask is not None and _is_causal_mask(mask, seq_len)


class TransformerEncoder(Module):
    """A stack of `num_layers` deep copies of `encoder_layer`, then `norm` if given
    (torch.nn.TransformerEncoder; parameter names layers.0.self_attn.in_proj_weight, ...).

    The copies start with identical parameters, as in torch; re-initialize them
    if that matters.  `enable_nested_tensor` and `mask_check` are accepted for
    torch compatibility (they select torch's inference fast path).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """src (L, N, E) or (N, L, E) (the layers' batch_first) -> same shape.

        is_causal: None detects whether `mask` is the causal mask; True builds one
        when `mask` is None.
        """
        x = as_tensor(src)
        if is_causal is None:
            is_causal = _mask_is_causal(self.layers, x, mask)
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return x if self.norm is None else self.norm(x)
