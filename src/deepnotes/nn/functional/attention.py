"""Functional forms: attention (the stateless math the `nn.attention` layers call)."""
from __future__ import annotations

import math
import numpy as np
from ...autograd.tensor import Tensor, as_tensor
from ...ops import matmul as M
from ...ops import shape as S
from ...ops.api import cat
from ...ops.attention import AttentionWeights, PackedScaledDotProductAttention, ScaledDotProductAttention
from ...ops.dropout import check_probability, scaled_keep_mask


def _float_mask(mask, dtype, true_means_keep, who):
    """A bool mask becomes an additive one (0 or -inf); a float mask stays as it is."""
    if mask is None:
        return None
    kind = mask.dtype.kind
    if kind == "b":
        keep = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        keep = keep if true_means_keep else ~keep
        return Tensor(np.where(keep, 0, -np.inf).astype(dtype))
    if kind != "f":
        raise TypeError(f"{who}: masks must be bool or floating point, got dtype {mask.dtype}")
    return as_tensor(mask)


def causal_mask(target_len, source_len):
    """(L, S) bool mask, True where query i may attend key j (j <= i), as torch's is_causal."""
    return np.tril(np.ones((target_len, source_len), dtype=bool))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, need_weights=False):
    """softmax(Q K^T * scale + mask) V  (Vaswani et al. 2017), over any leading batch axes.

    Args:
        query: (..., L, E).  key: (..., S, E).  value: (..., S, Ev).  Leading
            axes broadcast (e.g. (N, H, ...) against (N, 1, ...)).
        attn_mask: bool, True where a query may attend (PyTorch's convention
            for this function), or float, added to the scores; broadcastable
            to (..., L, S).
        dropout_p: probability of dropping an attention weight (applied
            whenever > 0, as in PyTorch; pass 0.0 in evaluation).
        is_causal: query i attends keys 0..i only (top-left aligned when
            L != S); cannot be combined with `attn_mask`.
        scale: multiplies the scores; default 1 / sqrt(E), which keeps the
            scores' variance near 1 when q and k have unit-variance entries, so
            the softmax does not saturate as E grows.
        need_weights: also return the attention weights (after dropout, the
            ones that multiplied V), shape (..., L, S).

    Returns:
        (..., L, Ev), or (output, weights) when `need_weights`.
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    who = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"{who}: query, key and value need at least 2 dims (..., L, E), "
                         f"got shapes {q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{who}: expected query (..., L, E), key (..., S, E), value (..., S, Ev), "
                         f"got {q.shape}, {k.shape}, {v.shape}")
    L, S_len = q.shape[-2], k.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{who}: pass either attn_mask or is_causal=True, not both")
        attn_mask = causal_mask(L, S_len)
    bias = _float_mask(attn_mask, q.dtype, True, who)
    if bias is not None:
        try:
            np.broadcast_shapes(bias.shape, q.shape[:-2] + (L, S_len))
        except ValueError:
            raise ValueError(f"{who}: attn_mask of shape {bias.shape} does not broadcast to "
                             f"the scores' shape {q.shape[:-2] + (L, S_len)}") from None
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    dropout_mask = None
    check_probability(who, dropout_p)
    if dropout_p > 0.0:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], () if bias is None else bias.shape[:-2])
        dropout_mask = scaled_keep_mask(batch + (L, S_len), dropout_p, q.dtype)
    extra = () if bias is None else (bias,)
    if not need_weights:
        return ScaledDotProductAttention.apply(q, k, v, *extra, scale=scale, dropout_mask=dropout_mask)
    weights = AttentionWeights.apply(q, k, *extra, scale=scale)
    if dropout_mask is not None:
        weights = weights * Tensor(dropout_mask)
    return weights @ v, weights


def _split_heads(x, num_heads, batch_first=False):
    """(T, N, E), or (N, T, E) if `batch_first`, -> (N, heads, T, E / heads):
    heads become a batch axis for one matmul."""
    A, B, E = x.shape
    x = x.reshape(A, B, num_heads, E // num_heads)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _packed_self_attention(qkv, num_heads, mask, dropout_p, batch_first):
    """Self-attention from the packed projection qkv = x W_in^T + b_in, (T, N, 3E) or
    (N, T, 3E) if `batch_first`, to the heads' outputs (N, heads, T, E / heads).

    One reshape and one permute give (3, N, heads, T, E / heads), which the fused
    kernel takes whole: its backward fills one gradient array instead of the
    three zero-padded ones that slicing out q, k and v would cost.
    """
    A, B, three_e = qkv.shape
    head_dim = three_e // (3 * num_heads)
    qkv = qkv.reshape(A, B, 3, num_heads, head_dim)
    qkv = qkv.permute(2, 0, 3, 1, 4) if batch_first else qkv.permute(2, 1, 3, 0, 4)
    N, T = qkv.shape[1], qkv.shape[3]
    dropout_mask = None
    if dropout_p > 0.0:
        batch = np.broadcast_shapes((N, num_heads), () if mask is None else mask.shape[:-2])
        dropout_mask = scaled_keep_mask(batch + (T, T), dropout_p, qkv.dtype)
    extra = () if mask is None else (mask,)
    return PackedScaledDotProductAttention.apply(qkv, *extra, scale=1.0 / math.sqrt(head_dim),
                                                 dropout_mask=dropout_mask)


def _append_column(mask):
    """Pad an additive mask with one allowed (0) key at the end."""
    if mask is None:
        return None
    width = ((0, 0),) * (mask.ndim - 1) + ((0, 1),)
    return S.Pad.apply(mask, pad_width=width, value=0.0)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False, batch_first=False):
    """Multi-head attention on sequence-first inputs, as torch.nn.functional's.

        head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(d) + mask) V W_i^V,  d = E / heads
        out    = concat(head_1 .. head_h) W^O + b^O

    Args:
        query: (L, N, E) or unbatched (L, E).  key: (S, N, kdim).  value: (S, N, vdim).
        embed_dim_to_check: E, checked against the query.
        key_padding_mask: (N, S) (or (S,) unbatched); bool True = ignore that key.
        attn_mask: (L, S) or (N * heads, L, S); bool True = not allowed.
        static_k, static_v: (N * heads, S, E / heads) keys / values used as they
            are, instead of projecting `key` / `value`.
        is_causal: a causal mask; when `attn_mask` is None one is built (PyTorch
            requires the mask itself and raises).
        batch_first: (deepnotes only) batched query, key, value and output are
            (N, L, E) instead of (L, N, E); saves transposing in and out.

    Returns:
        (output (L, N, E), weights (N, L, S) averaged over heads, or
        (N, heads, L, S) per head, or None when not `need_weights`).
    """
    who = "multi_head_attention_forward"
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    batched = query.ndim == 3
    batch_first = batch_first and batched
    seq_axis = 1 if batch_first else 0
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{who}: expected query, key, value all (L, N, E) or all unbatched (L, E), "
                         f"got {query.shape}, {key.shape}, {value.shape}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = as_tensor(key_padding_mask).unsqueeze(0)
    L, N, E = query.shape
    if batch_first:
        N, L = L, N
    S_len = key.shape[seq_axis] if static_k is None else static_k.shape[1]
    if E != embed_dim_to_check:
        raise ValueError(f"{who}: expected embedding dimension {embed_dim_to_check}, got query {query.shape}")
    if E % num_heads:
        raise ValueError(f"{who}: embed_dim {E} is not divisible by num_heads {num_heads}")
    if key.shape[:2] != value.shape[:2] or key.shape[1 - seq_axis] != N:
        raise ValueError(f"{who}: key {key.shape} and value {value.shape} must share (S, N) with N = {N}")
    dtype = query.dtype

    # Masks: both become additive float masks, summed; bool True means "not allowed" here.
    padding = _float_mask(key_padding_mask, dtype, False, who)
    if padding is not None and padding.shape != (N, S_len):
        raise ValueError(f"{who}: key_padding_mask must have shape {(N, S_len)}, got {padding.shape}")
    if is_causal and attn_mask is None:
        attn_mask = ~causal_mask(L, S_len)
    mask = _float_mask(attn_mask, dtype, False, who)
    if mask is not None:
        if mask.ndim == 2 and mask.shape == (L, S_len):
            mask = mask.reshape(1, 1, L, S_len)
        elif mask.ndim == 3 and mask.shape == (N * num_heads, L, S_len):
            mask = mask.reshape(N, num_heads, L, S_len)
        else:
            raise ValueError(f"{who}: attn_mask must have shape {(L, S_len)} or "
                             f"{(N * num_heads, L, S_len)}, got {tuple(mask.shape)}")

    dropout_p = dropout_p if training else 0.0

    # Input projections.  Self-attention uses the packed (3E, E) weight in one GEMM.
    self_attention = not use_separate_proj_weight and query is key and key is value
    if self_attention and not (need_weights or add_zero_attn or static_k is not None or static_v is not None
                               or (bias_k is not None and bias_v is not None)):
        qkv = M.Linear.apply(query, in_proj_weight, *_opt(in_proj_bias))
        if padding is not None:
            padding = padding.reshape(N, 1, 1, S_len)
            mask = padding if mask is None else mask + padding
        out = _packed_self_attention(qkv, num_heads, mask, dropout_p, batch_first)
        return _merge_heads(out, out_proj_weight, out_proj_bias, None, batched, batch_first, average_attn_weights)
    if not use_separate_proj_weight:
        if self_attention:
            qkv = M.Linear.apply(query, in_proj_weight, *_opt(in_proj_bias))
            qkv = qkv.reshape(*qkv.shape[:2], 3, E).permute(2, 0, 1, 3)
            q, k, v = qkv[0], qkv[1], qkv[2]
        else:
            w_q, w_k, w_v = in_proj_weight[:E], in_proj_weight[E:2 * E], in_proj_weight[2 * E:]
            b = (None, None, None) if in_proj_bias is None else (
                in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:])
            q = M.Linear.apply(query, w_q, *_opt(b[0]))
            k = M.Linear.apply(key, w_k, *_opt(b[1]))
            v = M.Linear.apply(value, w_v, *_opt(b[2]))
    else:
        b = (None, None, None) if in_proj_bias is None else (
            in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:])
        q = M.Linear.apply(query, q_proj_weight, *_opt(b[0]))
        k = M.Linear.apply(key, k_proj_weight, *_opt(b[1]))
        v = M.Linear.apply(value, v_proj_weight, *_opt(b[2]))

    if bias_k is not None and bias_v is not None:  # one learned extra key/value (add_bias_kv)
        extra_shape = (N, 1, E) if batch_first else (1, N, E)
        k = cat([k, bias_k.expand(*extra_shape)], dim=seq_axis)
        v = cat([v, bias_v.expand(*extra_shape)], dim=seq_axis)
        mask, padding = _append_column(mask), _append_column(padding)

    q, k, v = (_split_heads(t, num_heads, batch_first) for t in (q, k, v))
    head_dim = E // num_heads
    for name, static in (("static_k", static_k), ("static_v", static_v)):
        if static is not None:
            static = as_tensor(static)
            if static.ndim != 3 or static.shape[0] != N * num_heads or static.shape[2] != head_dim:
                raise ValueError(f"{who}: {name} must have shape ({N * num_heads}, S, {head_dim}), "
                                 f"got {static.shape}")
            if name == "static_k":
                k = static.reshape(N, num_heads, static.shape[1], head_dim)
            else:
                v = static.reshape(N, num_heads, static.shape[1], head_dim)
    if add_zero_attn:  # one all-zero key/value that every query may attend
        zeros = Tensor(np.zeros((N, num_heads, 1, head_dim), dtype=dtype))
        k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
        mask, padding = _append_column(mask), _append_column(padding)

    if padding is not None:
        padding = padding.reshape(N, 1, 1, padding.shape[-1])
        mask = padding if mask is None else mask + padding
    out = scaled_dot_product_attention(q, k, v, mask, dropout_p, need_weights=need_weights)
    out, weights = out if need_weights else (out, None)
    return _merge_heads(out, out_proj_weight, out_proj_bias, weights, batched, batch_first, average_attn_weights)


def _merge_heads(out, out_proj_weight, out_proj_bias, weights, batched, batch_first, average_attn_weights):
    """Heads' outputs (N, heads, L, d) -> concat(heads) W^O + b^O, (L, N, E) or (N, L, E)
    if `batch_first` (or (L, E) unbatched); weights averaged over heads if asked."""
    N, H, L, d = out.shape
    out = out.permute(0, 2, 1, 3) if batch_first else out.permute(2, 0, 1, 3)
    out = out.reshape(*out.shape[:2], H * d)
    out = M.Linear.apply(out, out_proj_weight, *_opt(out_proj_bias))
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _opt(bias):
    return () if bias is None else (bias,)
