"""Scaled dot-product attention and MultiheadAttention vs PyTorch (inventory S4)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from tests.oracle import check_fn, check_module, gradcheck, random_inputs
from tests.doctests import assert_examples_run


# ------------------------------------------------- scaled_dot_product_attention
def _sdpa_pair(**kw):
    def ours(q, k, v, *mask):
        return F.scaled_dot_product_attention(q, k, v, *mask, **kw)

    def theirs(q, k, v, *mask):
        return TF.scaled_dot_product_attention(q, k, v, *mask, **kw)

    return ours, theirs


SHAPES = [  # q, k, v
    ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)),   # L != S, Ev != E
    ((4, 1, 8), (4, 3, 8), (4, 3, 2)),            # one query
    ((5, 3), (5, 3), (5, 3)),                     # no batch axes
    ((2, 3, 4, 6), (2, 1, 5, 6), (2, 1, 5, 6)),   # key/value broadcast over heads
]


@pytest.mark.covers("S4")
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch(shapes, scale):
    ours, theirs = _sdpa_pair(scale=scale)
    check_fn(ours, theirs, random_inputs(shapes, seed=len(shapes[0])))


@pytest.mark.covers("S4")
@pytest.mark.parametrize("mask_shape", [(5, 6), (2, 1, 5, 6), (2, 3, 5, 6)])
def test_sdpa_bool_mask_true_means_take_part(mask_shape):
    q, k, v = random_inputs(SHAPES[0], seed=1)
    mask = np.random.default_rng(2).random(mask_shape) > 0.4
    mask[..., 0] = True
    ours, theirs = _sdpa_pair()
    check_fn(ours, theirs, [q, k, v, mask])


@pytest.mark.covers("S4")
def test_sdpa_float_mask_is_added_and_gets_its_gradient():
    q, k, v, mask = random_inputs(list(SHAPES[0]) + [(1, 3, 5, 6)], seed=3)
    ours, theirs = _sdpa_pair()
    check_fn(ours, theirs, [q, k, v, mask])  # the mask is float: its gradient is compared too


@pytest.mark.covers("S4")
@pytest.mark.parametrize("shapes", [SHAPES[0], ((3, 6, 4), (3, 6, 4), (3, 6, 4))])
def test_sdpa_causal_matches_torch(shapes):
    ours, theirs = _sdpa_pair(is_causal=True)
    check_fn(ours, theirs, random_inputs(shapes, seed=4))


@pytest.mark.covers("S4")
def test_sdpa_fully_masked_query_gets_zero_output_as_torch():
    q, k, v = random_inputs(SHAPES[0], seed=5)
    mask = np.ones((5, 6), dtype=bool)
    mask[2] = False  # query 2 may attend nothing
    ours, theirs = _sdpa_pair()
    out = check_fn(ours, theirs, [q, k, v, mask])[0]
    assert np.all(out.numpy()[:, :, 2] == 0) and np.isfinite(out.numpy()).all()


@pytest.mark.covers("S4")
@pytest.mark.parametrize("score_scale", [1.0, 40.0])
def test_sdpa_softmax_exact_for_rows_far_below_the_largest_score(score_scale):
    """The softmax shifts every row by the largest score of the whole array (or not at all
    when it is small); rows whose scores lie far below it (a float mask of -800 and -2000
    here, beyond float64's underflow) are redone with their own maximum.  Large scores
    (score_scale 40) take the shifted path.  Values and gradients as torch's."""
    q, k, v = random_inputs(SHAPES[0], seed=6)
    q *= score_scale
    bias = np.zeros((2, 3, 5, 6))
    bias[0, 1, 2] = -800.0
    bias[1, :, 4] = -2000.0
    bias[1, 2, 0, ::2] = -np.inf
    ours, theirs = _sdpa_pair()
    check_fn(ours, theirs, [q, k, v, bias])


@pytest.mark.covers("S4")
def test_sdpa_softmax_float32_rows_far_below_the_largest_score():
    """float32 underflows sooner (exp(-104) is 0): a row 150 below the largest score still
    gets float32-accurate weights."""
    q, k, v = (a.astype(np.float32) for a in random_inputs(SHAPES[0], seed=7))
    bias = np.zeros((2, 3, 5, 6), dtype=np.float32)
    bias[0, 0, 1] = -150.0
    bias[1, 2, 3, :3] = -90.0
    ours = F.scaled_dot_product_attention(dn.tensor(q), dn.tensor(k), dn.tensor(v), dn.tensor(bias)).numpy()
    theirs = TF.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v, bias))).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.covers("S4")
@pytest.mark.parametrize("mask_kind", [None, "bool", "float", "causal"])
def test_sdpa_weights_path_equals_fused_kernel(mask_kind):
    """need_weights=True (weights node + matmul) and the fused node agree, values and gradients."""
    q, k, v, fmask = random_inputs(list(SHAPES[0]) + [(5, 6)], seed=6)
    kw = {"is_causal": True} if mask_kind == "causal" else {}
    mask = {"bool": fmask > -1.0, "float": fmask}.get(mask_kind)
    grads = []
    for need in (False, True):
        ts = [dn.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = F.scaled_dot_product_attention(*ts, attn_mask=mask, need_weights=need, **kw)
        out = out[0] if need else out
        (out * dn.tensor(np.cos(np.arange(out.numpy().size)).reshape(out.shape))).sum().backward()
        grads.append([out.numpy()] + [t.grad.numpy() for t in ts])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.covers("S4")
def test_sdpa_returns_weights_as_torch_softmax():
    q, k, v = random_inputs(SHAPES[0], seed=7)
    mask = np.random.default_rng(0).random((5, 6)) > 0.3
    mask[:, 0] = True

    def theirs(q, k, v):
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        w = torch.softmax(scores.masked_fill(~torch.tensor(mask), float("-inf")), dim=-1)
        return w @ v, w

    check_fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask, need_weights=True), theirs, [q, k, v])


@pytest.mark.covers("S4")
def test_sdpa_gradcheck_with_float_mask():
    q, k, v, m = random_inputs([(2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)], seed=8)
    gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), [q, k, v, m])


@pytest.mark.covers("S4")
def test_sdpa_dropout_is_inverted_and_reproducible():
    q, k, v = (dn.tensor(a) for a in random_inputs([(64, 4, 8), (64, 10, 8), (64, 10, 8)], seed=9))
    ref = F.scaled_dot_product_attention(q, k, v).numpy()
    dn.manual_seed(1)
    out, w = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, need_weights=True)
    dn.manual_seed(1)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4).numpy()
    np.testing.assert_array_equal(out.numpy(), again)            # same seed, same mask, fused or not
    assert abs((w.numpy() == 0).mean() - 0.4) < 0.03              # about p of the weights dropped
    assert abs(w.numpy().sum(-1).mean() - 1.0) < 0.03             # kept ones rescaled by 1/(1-p)
    assert np.abs(out.numpy() - ref).max() > 1e-3


@pytest.mark.covers("S4")
def test_sdpa_keeps_float32_and_checks_shapes():
    q = dn.randn(2, 3, 4)
    assert F.scaled_dot_product_attention(q, q, q).dtype == np.float32
    with pytest.raises(ValueError, match="scaled_dot_product_attention.*key"):
        F.scaled_dot_product_attention(q, dn.randn(2, 3, 5), q)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match="attn_mask of shape"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 3), bool))
    with pytest.raises(TypeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), np.int64))


@pytest.mark.covers("S4")
def test_scaling_keeps_score_variance_near_one():
    """Why 1/sqrt(E): unit-variance q, k give q.k of variance E; scaled, 1."""
    rng = np.random.default_rng(0)
    for E in (16, 256):
        q, k = rng.standard_normal((2, 4000, E))
        assert abs((q * k).sum(1).var() / E - 1) < 0.1


# --------------------------------------------------------- MultiheadAttention
def _mha_pair(E, H, **kw):
    ours, theirs = nn.MultiheadAttention(E, H, **kw), torch.nn.MultiheadAttention(E, H, **kw)
    return ours, theirs


def _call(need_weights=True, **kw):
    def call(m, q, k, v):
        out = m(q, k, v, need_weights=need_weights, **kw)
        return out if need_weights else out[0]

    return call


@pytest.mark.covers("S4")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_matches_torch(batch_first, average, need_weights):
    ours, theirs = _mha_pair(8, 2, batch_first=batch_first)
    (x,) = random_inputs([(3, 5, 8)], seed=10)
    call = _call(need_weights, average_attn_weights=average)
    check_module(ours, theirs, [x], call=lambda m, x: call(m, x, x, x))


@pytest.mark.covers("S4")
@pytest.mark.parametrize("kdim,vdim", [(None, None), (5, 3), (8, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_mha_cross_attention_kdim_vdim_matches_torch(kdim, vdim, bias):
    ours, theirs = _mha_pair(6, 3, kdim=kdim, vdim=vdim, bias=bias)
    q, k, v = random_inputs([(4, 2, 6), (7, 2, kdim or 6), (7, 2, vdim or 6)], seed=11)
    check_module(ours, theirs, [q, k, v], call=_call(average_attn_weights=False))


# torch deprecates mixing a bool mask with a float one, so each pair has one type.
MASK_PAIRS = [(m, p) for m in ("bool2d", "float2d", "bool3d", "float3d", None) for p in ("bool", "float", None)
              if m is None or p is None or m.startswith(p)]


@pytest.mark.covers("S4")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mask,padding", MASK_PAIRS)
def test_mha_masks_match_torch(batch_first, mask, padding):
    N, L, E, H = 3, 5, 8, 2
    rng = np.random.default_rng(12)
    attn_mask = {
        "bool2d": rng.random((L, L)) > 0.7,
        "float2d": rng.uniform(-1, 1, (L, L)),
        "bool3d": rng.random((N * H, L, L)) > 0.7,
        "float3d": rng.uniform(-1, 1, (N * H, L, L)),
    }.get(mask)
    if attn_mask is not None and attn_mask.dtype == bool:
        attn_mask[:, ..., 0] = False  # key 0 always allowed: no fully masked rows (torch gives NaN there)
    pad = np.zeros((N, L), dtype=bool)
    pad[0, 3:], pad[2, 1:] = True, True  # sequences of lengths 3, 5, 1
    key_padding_mask = {"bool": pad, "float": np.where(pad, -1e9, 0.0)}.get(padding)
    ours, theirs = _mha_pair(E, H, batch_first=batch_first)
    (x,) = random_inputs([(N, L, E) if batch_first else (L, N, E)], seed=13)
    tm = None if attn_mask is None else torch.tensor(attn_mask)
    tp = None if key_padding_mask is None else torch.tensor(key_padding_mask)

    def call(m, x):
        torch_side = isinstance(m, torch.nn.Module)
        am = tm if torch_side else attn_mask
        kp = tp if torch_side else key_padding_mask
        return m(x, x, x, key_padding_mask=kp, attn_mask=am, average_attn_weights=False)

    check_module(ours, theirs, [x], call=call)


@pytest.mark.covers("S4")
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_causal_matches_torch(need_weights):
    L = 6
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    ours, theirs = _mha_pair(8, 4, batch_first=True)
    (x,) = random_inputs([(2, L, 8)], seed=14)

    def call(m, x):
        mask = torch.tensor(causal) if isinstance(m, torch.nn.Module) else causal
        out = m(x, x, x, attn_mask=mask, is_causal=True, need_weights=need_weights)
        return out if need_weights else out[0]

    check_module(ours, theirs, [x], call=call)
    # Without the mask deepnotes builds it (torch requires it).
    x = dn.tensor(x)
    np.testing.assert_allclose(ours(x, x, x, is_causal=True)[0].numpy(), ours(x, x, x, attn_mask=causal)[0].numpy())


@pytest.mark.covers("S4")
@pytest.mark.parametrize("add_bias_kv,add_zero_attn", [(True, False), (False, True), (True, True)])
def test_mha_bias_kv_and_zero_attn_match_torch(add_bias_kv, add_zero_attn):
    ours, theirs = _mha_pair(6, 2, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn)
    q, k = random_inputs([(3, 2, 6), (4, 2, 6)], seed=15)
    pad = np.zeros((2, 4), dtype=bool)
    pad[1, 2:] = True

    def call(m, q, k):
        kp = torch.tensor(pad) if isinstance(m, torch.nn.Module) else pad
        return m(q, k, k, key_padding_mask=kp)

    check_module(ours, theirs, [q, k], call=call)


@pytest.mark.covers("S4")
def test_mha_unbatched_matches_torch():
    ours, theirs = _mha_pair(6, 3)
    q, k = random_inputs([(4, 6), (5, 6)], seed=16)
    check_module(ours, theirs, [q, k], call=lambda m, q, k: m(q, k, k, average_attn_weights=False))


@pytest.mark.covers("S4")
@pytest.mark.parametrize("static", [False, True])
def test_functional_multi_head_attention_forward_matches_torch(static):
    """The functional form, with torch's positional signature, packed weights and static_k / static_v."""
    E, H, L, S, N = 6, 2, 3, 4, 2
    q, k, w_in, b_in, w_out, b_out, sk, sv = random_inputs(
        [(L, N, E), (S, N, E), (3 * E, E), (3 * E,), (E, E), (E,), (N * H, 5, E // H), (N * H, 5, E // H)], seed=17)

    def run(F_mha, q, k, w_in, b_in, w_out, b_out, sk, sv):
        extra = {"static_k": sk, "static_v": sv} if static else {}
        return F_mha(q, k, k, E, H, w_in, b_in, None, None, False, 0.0, w_out, b_out, **extra,
                     average_attn_weights=False)

    check_fn(lambda *a: run(F.multi_head_attention_forward, *a),
             lambda *a: run(TF.multi_head_attention_forward, *a), [q, k, w_in, b_in, w_out, b_out, sk, sv])


@pytest.mark.covers("S4")
def test_mha_dropout_only_in_training():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = dn.randn(2, 5, 8)
    a, b = mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy()
    assert np.abs(a - b).max() > 1e-4
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy())


@pytest.mark.covers("S4")
def test_mha_parameters_and_init_as_torch():
    ours, theirs = nn.MultiheadAttention(16, 4), torch.nn.MultiheadAttention(16, 4)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    sep = nn.MultiheadAttention(16, 4, kdim=3, vdim=5, add_bias_kv=True)
    tsep = torch.nn.MultiheadAttention(16, 4, kdim=3, vdim=5, add_bias_kv=True)
    assert sorted(sep.state_dict()) == sorted(tsep.state_dict())
    assert np.all(ours.in_proj_bias.numpy() == 0) and np.all(ours.out_proj.bias.numpy() == 0)
    bound = math.sqrt(6 / (16 + 48))  # Xavier-uniform on (3E, E)
    w = ours.in_proj_weight.numpy()
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


@pytest.mark.covers("S4")
def test_mha_errors_name_the_layer():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(8, num_heads=2\).*last dimension 8.*\(5, 2, 7\)"):
        x = dn.randn(5, 2, 7)
        mha(x, x, x)
    x = dn.randn(5, 2, 8)
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        mha(x, x, x, key_padding_mask=np.zeros((5, 2), bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha(x, x, x, attn_mask=np.zeros((4, 5), bool))


@pytest.mark.covers("S4")
def test_attention_weights_show_where_the_model_looks():
    """Interpretability: a key equal to the query (scaled up) takes nearly all the weight."""
    rng = np.random.default_rng(0)
    keys = rng.standard_normal((1, 6, 16))
    query = keys[:, 3:4] * 4.0
    _, w = F.scaled_dot_product_attention(dn.tensor(query), dn.tensor(keys), dn.tensor(keys), need_weights=True)
    assert w.numpy()[0, 0].argmax() == 3 and w.numpy()[0, 0, 3] > 0.99


@pytest.mark.covers("S4")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.nn.layers.attention")
