"""Attention: scaled dot-product and multi-head (inventory S4); positional encodings: positional.py.

Attention lets each output position read a weighted mixture of all input
positions, the weights computed from the data (Bahdanau et al. 2015; Vaswani
et al. 2017).  Why it helped: a recurrent encoder squeezes a whole input into
one fixed-length vector, a bottleneck that hurts long inputs; attention keeps
every position and lets the decoder look back at any of them in one step, and
its weights can be read as "where the model looked".

Mask conventions differ between PyTorch's two entry points, and deepnotes
keeps both exactly:

- `scaled_dot_product_attention`: a bool `attn_mask` is True where a query
  MAY attend (True = take part); a float mask is added to the scores.
- `MultiheadAttention`: a bool `attn_mask` or `key_padding_mask` is True where
  attention is NOT allowed (True = masked out, e.g. padding); float masks are
  added.

A query whose keys are all masked gets zero weights (and output 0 before the
output projection), as in PyTorch's scaled_dot_product_attention; PyTorch's
MultiheadAttention returns NaN there when need_weights=True.
"""
from __future__ import annotations

import numpy as np

from ..._checks import check_nan
from ...autograd.tensor import as_tensor
from ...errors import ShapeError
from .. import init
from ..module import Module, Parameter
from ..functional.attention import multi_head_attention_forward
from .linear import Linear


def _xavier_uniform(*shape):
    return Parameter(init.xavier_uniform_(np.empty(shape, dtype=np.float32)))


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017) with torch.nn.MultiheadAttention's layout.

    Parameters: `in_proj_weight` (3E, E) and `in_proj_bias` (3E,) stacking the
    query, key and value projections (or `q_proj_weight` (E, E),
    `k_proj_weight` (E, kdim), `v_proj_weight` (E, vdim) when kdim or vdim
    differ from E), `out_proj` a Linear(E, E), and with `add_bias_kv`
    `bias_k`, `bias_v` (1, 1, E).  Init as torch: Xavier-uniform projections,
    zero biases.

    Args:
        embed_dim: E, split evenly over `num_heads` heads of size E / heads.
        dropout: dropout on the attention weights (training mode only).
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E).

    Example:
        >>> import deepnotes as dn, deepnotes.nn as nn
        >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = dn.randn(3, 5, 8)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple "
                             f"of num_heads ({num_heads})")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _xavier_uniform(3 * E, E)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = _xavier_uniform(E, E)
            self.k_proj_weight = _xavier_uniform(E, self.kdim)
            self.v_proj_weight = _xavier_uniform(E, self.vdim)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias)
        if bias:
            self.out_proj.bias._data[...] = 0
        if add_bias_kv:
            self.bias_k = Parameter(init.xavier_normal_(np.empty((1, 1, E), dtype=np.float32)))
            self.bias_v = Parameter(init.xavier_normal_(np.empty((1, 1, E), dtype=np.float32)))
        else:
            self.bias_k = self.bias_v = None

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """query (N, L, E) if batch_first else (L, N, E); key/value (.., S, .., kdim/vdim).

        Returns (attn_output shaped like query, attn_weights (N, L, S) or
        (N, heads, L, S) if not `average_attn_weights`, or None).
        """
        query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
        self._check_dims(query, key, value)
        # batch_first inputs go in as they are (no transposes): the functional form
        # takes a batch_first flag, and `query is key is value` keeps the packed
        # self-attention path.
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
            self.out_proj.bias, training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal, batch_first=self.batch_first)
        return out, weights

    def _check_dims(self, query, key, value):
        for name, t, dim in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if t.ndim not in (2, 3) or t.shape[-1] != dim:
                raise ShapeError(f"{self._name()}: expected {name} with last dimension {dim} and 2 or 3 "
                                 f"dims, got shape {t.shape}")
        for name, t in (("query", query), ("key", key), ("value", value)):
            if name == "query" or (t is not query and (name == "key" or t is not key)):  # each tensor once
                check_nan(self._name, t._data, name)

    def _name(self):
        return f"MultiheadAttention({self.embed_dim}, num_heads={self.num_heads})"

    def extra_repr(self):
        extra = "" if self._qkv_same_embed_dim else f", kdim={self.kdim}, vdim={self.vdim}"
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, " \
               f"batch_first={self.batch_first}{extra}"
