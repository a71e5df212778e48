"""Normalization layers vs PyTorch, the fused kernel vs its composition from primitives,
and which axes each layer normalizes over (inventory N1, N2, N4)."""
import doctest

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.utils import normalization_axes
from deepnotes.nn.functional import normalization as functional_norm
from deepnotes.ops import normalization as norm_ops
from tests.oracle import assert_close, assert_grad_close, check_module, copy_parameters, random_inputs

# ---------------------------------------------------------------------------------------- helpers


def _randomize_affine(dn_module, seed):
    """Non-trivial weight and bias, so their gradients and effect are checked (defaults are 1 and 0)."""
    rng = np.random.default_rng(seed)
    for p in dn_module.parameters():
        p.data = rng.uniform(0.5, 1.5, size=p.shape).astype(p.dtype)


def _batch(shape, seed, scale=2.0, shift=1.5):
    """Inputs with a nonzero mean and non-unit spread, so running statistics move visibly."""
    return random_inputs([shape], seed=seed)[0] * scale + shift


def _check_train_steps_then_eval(dn_m, th_m, shape, steps=5):
    """`steps` training steps on the same batches (outputs, all grads and every buffer compared after
    each step), then an eval-mode comparison that uses the running statistics."""
    _randomize_affine(dn_m, seed=7)
    for step in range(steps):
        dn_m.train()
        th_m.train()
        dn_m.zero_grad()
        th_m.zero_grad()
        check_module(dn_m, th_m, [_batch(shape, seed=step)], seed=step)
        th_buffers = dict(th_m.named_buffers())
        assert set(th_buffers) == {n for n, _ in dn_m.named_buffers()}
        for name, buf in dn_m.named_buffers():
            assert_close(buf, th_buffers[name], f"{name} after training step {step + 1}")
    dn_m.eval()
    th_m.eval()
    dn_m.zero_grad()
    th_m.zero_grad()
    check_module(dn_m, th_m, [_batch(shape, seed=100, scale=3.0, shift=-0.5)], seed=100)


def _compare_graphs(fn_a, fn_b, inputs, atol=1e-10):
    """Run two deepnotes implementations on the same float64 inputs: outputs and all input grads equal."""
    results = []
    for fn in (fn_a, fn_b):
        tensors = [dn.tensor(a, requires_grad=True) for a in inputs]
        out = fn(*tensors)
        cot = np.random.default_rng(3).uniform(0.5, 1.5, size=out.shape)
        (out * dn.tensor(cot)).sum().backward()
        results.append((out.numpy(), [t.grad.numpy() for t in tensors]))
    (out_a, grads_a), (out_b, grads_b) = results
    np.testing.assert_allclose(out_a, out_b, atol=atol, rtol=1e-9, err_msg="forward")
    for i, (ga, gb) in enumerate(zip(grads_a, grads_b)):
        np.testing.assert_allclose(ga, gb, atol=atol, rtol=1e-8, err_msg=f"gradient of input {i}")


def _composed_normalize(x, weight, bias, axes, eps=1e-5):
    """The same normalization from primitive ops (mean, biased var, sqrt, div, mul, add)."""
    mean = x.mean(dim=axes, keepdim=True)
    var = x.var(dim=axes, keepdim=True, correction=0)
    return (x - mean) / (var + eps).sqrt() * weight + bias


# --------------------------------------------------------------------------------------- BatchNorm

BN_CASES = [
    # (layer, shape, options)
    ("BatchNorm1d", (2, 3), {}),  # batch size 2
    ("BatchNorm1d", (7, 5), {"momentum": None}),
    ("BatchNorm1d", (3, 4, 5), {"affine": False}),
    ("BatchNorm1d", (5, 2, 3), {"momentum": 0.3, "eps": 1e-3}),
    ("BatchNorm2d", (2, 3, 4, 5), {}),
    ("BatchNorm2d", (3, 2, 5, 3), {"momentum": None}),
    ("BatchNorm2d", (4, 1, 3, 3), {"affine": False, "momentum": 0.5}),
    ("BatchNorm2d", (3, 4, 1, 1), {}),  # 1x1 maps: statistics over the batch only
    ("BatchNorm2d", (2, 3, 3, 2), {"bias": False}),
]


@pytest.mark.covers("N1")
@pytest.mark.parametrize("layer, shape, options", BN_CASES)
def test_batchnorm_train_steps_then_eval_matches_torch(layer, shape, options):
    dn_m, th_m = getattr(nn, layer)(shape[1], **options), getattr(torch.nn, layer)(shape[1], **options)
    _check_train_steps_then_eval(dn_m, th_m, shape)


@pytest.mark.covers("N1")
@pytest.mark.parametrize(
    "layer, shape", [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (3, 2, 5)), ("BatchNorm2d", (3, 2, 4, 3))]
)
def test_batchnorm_without_running_stats_uses_batch_stats_in_eval(layer, shape):
    dn_m = getattr(nn, layer)(shape[1], track_running_stats=False)
    th_m = getattr(torch.nn, layer)(shape[1], track_running_stats=False)
    _check_train_steps_then_eval(dn_m, th_m, shape, steps=2)
    assert dn_m.running_mean is None and list(dn_m.state_dict()) == ["weight", "bias"]
    x = _batch(shape, seed=5)
    with dn.no_grad():
        y = dn_m(dn.tensor(x)).numpy()
    axes = normalization_axes("batch", shape)
    np.testing.assert_allclose(y.mean(axis=axes), dn_m.bias.numpy(), atol=1e-9)


@pytest.mark.covers("N1")
def test_batchnorm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(3, momentum=None)
    batches = [_batch((6, 3), seed=s) for s in range(4)]
    for x in batches:
        bn(dn.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean(axis=0) for b in batches], axis=0), rtol=1e-5)
    np.testing.assert_allclose(
        bn.running_var.numpy(), np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0), rtol=1e-5
    )
    assert bn.num_batches_tracked.item() == 4


@pytest.mark.covers("N1")
def test_batchnorm_running_var_is_unbiased_and_eval_ignores_the_batch():
    bn = nn.BatchNorm2d(2, momentum=1.0)  # momentum 1: the running estimate is the last batch's
    x = _batch((3, 2, 2, 2), seed=1)
    bn(dn.tensor(x))
    np.testing.assert_allclose(bn.running_var.numpy(), x.var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    bn.eval()
    one = bn(dn.tensor(x[:1])).numpy()
    many = bn(dn.tensor(x)).numpy()[:1]
    np.testing.assert_allclose(one, many, rtol=1e-6)  # in eval an example's output ignores its batch


@pytest.mark.covers("N1")
@pytest.mark.parametrize(
    "layer, shape", [("BatchNorm1d", (1, 3)), ("BatchNorm1d", (1, 3, 1)), ("BatchNorm2d", (1, 3, 1, 1))]
)
def test_batchnorm_needs_more_than_one_value_per_channel_when_training(layer, shape):
    bn = getattr(nn, layer)(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(dn.zeros(*shape))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        getattr(torch.nn, layer)(3)(torch.zeros(*shape))
    bn.eval()
    assert bn(dn.zeros(*shape)).shape == shape  # eval uses the running estimates: fine


@pytest.mark.covers("N1")
def test_batchnorm_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 4D input"):
        nn.BatchNorm2d(3)(dn.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input with 3 channels"):
        nn.BatchNorm1d(3)(dn.zeros(4, 5))


@pytest.mark.covers("N1")
def test_batchnorm_keeps_float32_and_repr():
    bn = nn.BatchNorm2d(4)
    x = dn.randn(3, 4, 2, 2, requires_grad=True)
    y = bn(x)
    (y * y).sum().backward()
    assert y.dtype == np.float32 and x.grad.numpy().dtype == np.float32 and bn.weight.grad.numpy().dtype == np.float32
    assert bn.running_mean.dtype == np.float32
    assert repr(bn) == "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


# ------------------------------------------------------- fused kernel vs the composed computation


@pytest.mark.covers("N1")
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5), (3, 1, 2, 2)])
def test_fused_batchnorm_equals_composed_primitives(shape):
    channels, axes = shape[1], normalization_axes("batch", shape)
    param_shape = (channels,) + (1,) * (len(shape) - 2)
    x, w, b = random_inputs([shape, (channels,), (channels,)], seed=len(shape))

    def fused(x, w, b):
        return nn.functional.batch_norm(x, None, None, w, b, training=True)

    def composed(x, w, b):
        return _composed_normalize(x, w.reshape(param_shape), b.reshape(param_shape), axes)

    _compare_graphs(fused, composed, [x * 3 + 1, w, b])


@pytest.mark.covers("N2", "N4")
@pytest.mark.parametrize(
    "kind, shape, groups",
    [("layer", (4, 6), None), ("layer", (2, 3, 4, 5), None), ("instance", (3, 2, 7), None),
     ("instance", (2, 3, 4, 4), None), ("group", (2, 6, 3, 3), 3), ("group", (3, 4, 5), 2)],
)
def test_fused_layer_instance_group_norm_equal_composed_primitives(kind, shape, groups):
    channels = shape[1]
    x, wc, bc = random_inputs([shape, (channels,), (channels,)], seed=11)
    if kind == "layer":
        wl, bl = random_inputs([shape[1:], shape[1:]], seed=12)
        axes = normalization_axes("layer", shape)
        _compare_graphs(
            lambda x, w, b: nn.functional.layer_norm(x, shape[1:], w, b),
            lambda x, w, b: _composed_normalize(x, w, b, axes),
            [x, wl, bl],
        )
        return
    param_shape = (channels,) + (1,) * (len(shape) - 2)
    axes = normalization_axes(kind, shape)
    if kind == "instance":
        def fused(x, w, b):
            return nn.functional.instance_norm(x, weight=w, bias=b)

        def composed(x, w, b):
            return _composed_normalize(x, w.reshape(param_shape), b.reshape(param_shape), axes)
    else:
        view = (shape[0], groups, channels // groups) + shape[2:]

        def fused(x, w, b):
            return nn.functional.group_norm(x, groups, w, b)

        def composed(x, w, b):
            xhat = _composed_normalize(x.reshape(view), 1.0, 0.0, axes).reshape(shape)
            return xhat * w.reshape(param_shape) + b.reshape(param_shape)

    _compare_graphs(fused, composed, [x, wc, bc])


@pytest.mark.covers("N1")
def test_fused_kernel_with_fixed_statistics_equals_composed():
    shape = (3, 2, 4)
    x, w, b, rm = random_inputs([shape, (2,), (2,), (2,)], seed=4)
    rv = np.array([0.5, 2.0])
    running_mean, running_var = dn.tensor(rm), dn.tensor(rv)

    def fused(x, w, b):
        return nn.functional.batch_norm(x, running_mean, running_var, w, b, training=False)

    def composed(x, w, b):
        mean, var = dn.tensor(rm.reshape(2, 1)), dn.tensor(rv.reshape(2, 1))
        return (x - mean) / dn.sqrt(var + 1e-5) * w.reshape(2, 1) + b.reshape(2, 1)

    _compare_graphs(fused, composed, [x, w, b])


def _gradient_penalty(module, lib, x, cot):
    """x's gradient g = d<c, module(x)>/dx with create_graph, then ||g||^2 backpropagated: (g, x.grad, weight.grad)."""
    xt = lib.tensor(x, requires_grad=True)
    first = (module(xt) * lib.tensor(cot)).sum()
    (g,) = (dn.autograd.grad if lib is dn else torch.autograd.grad)(first, xt, create_graph=True)
    (g * g).sum().backward()
    return g, xt.grad, module.weight.grad


SECOND_ORDER_CASES = [
    ("BatchNorm2d", (3,), (2, 3, 4, 5), True),
    ("BatchNorm1d", (3,), (6, 3), False),  # eval: fixed running statistics
    ("LayerNorm", ((4, 5),), (2, 3, 4, 5), True),
    ("GroupNorm", (3, 3), (2, 3, 4, 5), True),
    ("InstanceNorm2d", (3,), (2, 3, 4, 5), True),
]


@pytest.mark.covers("N1", "N2")
@pytest.mark.parametrize("layer, args, shape, training", SECOND_ORDER_CASES)
def test_second_derivatives_match_torch(layer, args, shape, training):
    """A gradient penalty through the fused kernel (create_graph=True uses `Normalize.backward_graph`)."""
    kwargs = {"affine": True} if layer == "InstanceNorm2d" else {}
    dn_m = getattr(nn, layer)(*args, **kwargs).double().train(training)
    th_m = getattr(torch.nn, layer)(*args, **kwargs).double().train(training)
    _randomize_affine(dn_m, seed=3)
    if not training:
        dn_m.running_mean.data[:] = [0.3, -0.2, 0.1]
        dn_m.running_var.data[:] = [0.5, 1.5, 2.0]
    copy_parameters(dn_m, th_m)
    x, cot = random_inputs([shape, shape], seed=8)
    ours, theirs = _gradient_penalty(dn_m, dn, x, cot), _gradient_penalty(th_m, torch, x, cot)
    for what, a, b in zip(("first derivative", "second derivative in x", "mixed derivative in weight"), ours, theirs):
        assert_grad_close(a, b, what, atol=1e-8)  # (in eval, g does not depend on x: no second derivative)


# ------------------------------------------------------------------------- LayerNorm / Instance / Group


LN_CASES = [
    ((4, 6), (6,), {}),
    ((3, 5, 8), 8, {}),  # a Transformer's (N, T, d_model) input
    ((2, 3, 4, 5), (4, 5), {}),
    ((2, 3, 4, 5), (3, 4, 5), {}),
    ((3, 4, 5), (4, 5), {"elementwise_affine": False}),
    ((3, 7), (7,), {"bias": False, "eps": 1e-3}),
]


@pytest.mark.covers("N2", "N4")
@pytest.mark.parametrize("shape, normalized_shape, options", LN_CASES)
def test_layernorm_matches_torch(shape, normalized_shape, options):
    dn_m, th_m = nn.LayerNorm(normalized_shape, **options), torch.nn.LayerNorm(normalized_shape, **options)
    _randomize_affine(dn_m, seed=1)
    check_module(dn_m, th_m, [_batch(shape, seed=0)])
    dn_m.eval()
    th_m.eval()
    check_module(dn_m, th_m, [_batch(shape, seed=1)], grad=False)  # the same in eval


@pytest.mark.covers("N2")
def test_layernorm_rejects_wrong_trailing_shape():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4, 5\)\): expected input with trailing shape \(4, 5\)"):
        nn.LayerNorm((4, 5))(dn.zeros(2, 5, 4))


IN_CASES = [
    ("InstanceNorm1d", (3, 2, 5), {}),
    ("InstanceNorm1d", (2, 4, 7), {"affine": True}),
    ("InstanceNorm1d", (2, 3, 6), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm2d", (2, 3, 4, 5), {}),
    ("InstanceNorm2d", (3, 2, 3, 3), {"affine": True}),
    ("InstanceNorm2d", (2, 3, 4, 3), {"track_running_stats": True, "momentum": 0.3}),
    ("InstanceNorm2d", (1, 2, 3, 3), {"affine": True, "track_running_stats": True}),  # batch size 1 is fine
    ("InstanceNorm1d", (2, 3, 5), {"track_running_stats": True, "momentum": None}),  # None means 0 here (torch)
]


@pytest.mark.covers("N2")
@pytest.mark.parametrize("layer, shape, options", IN_CASES)
def test_instancenorm_train_steps_then_eval_matches_torch(layer, shape, options):
    dn_m, th_m = getattr(nn, layer)(shape[1], **options), getattr(torch.nn, layer)(shape[1], **options)
    _check_train_steps_then_eval(dn_m, th_m, shape)


@pytest.mark.covers("N2")
@pytest.mark.parametrize("layer, shape", [("InstanceNorm1d", (3, 5)), ("InstanceNorm2d", (2, 3, 4))])
def test_instancenorm_unbatched_input_matches_torch(layer, shape):
    dn_m, th_m = getattr(nn, layer)(shape[0], affine=True), getattr(torch.nn, layer)(shape[0], affine=True)
    _randomize_affine(dn_m, seed=2)
    check_module(dn_m, th_m, [_batch(shape, seed=3)])


@pytest.mark.covers("N2")
def test_instancenorm_channel_mismatch_warns_without_affine_and_raises_with_it():
    with pytest.warns(UserWarning, match="num_features is not used"):
        nn.InstanceNorm1d(4)(dn.randn(2, 3, 5))
    with pytest.raises(ValueError, match=r"InstanceNorm1d\(4\): expected input with 4 channels at dim 1"):
        nn.InstanceNorm1d(4, affine=True)(dn.randn(2, 3, 5))


@pytest.mark.covers("N2")
def test_instancenorm_needs_more_than_one_spatial_element():
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        nn.InstanceNorm1d(3)(dn.zeros(2, 3, 1))


GN_CASES = [((2, 6, 3, 3), 1), ((2, 6, 3, 3), 2), ((3, 6, 2, 4), 6), ((4, 4, 5), 2), ((2, 8), 4)]


@pytest.mark.covers("N2")
@pytest.mark.parametrize("shape, groups", GN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm_matches_torch(shape, groups, affine):
    dn_m, th_m = nn.GroupNorm(groups, shape[1], affine=affine), torch.nn.GroupNorm(groups, shape[1], affine=affine)
    _randomize_affine(dn_m, seed=groups)
    check_module(dn_m, th_m, [_batch(shape, seed=groups)])


@pytest.mark.covers("N2")
def test_groupnorm_with_one_group_is_layernorm_over_c_h_w():
    x = dn.tensor(_batch((3, 4, 2, 5), seed=0))
    gn = nn.GroupNorm(1, 4, affine=False)
    ln = nn.LayerNorm((4, 2, 5), elementwise_affine=False)
    np.testing.assert_allclose(gn(x).numpy(), ln(x).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.covers("N2")
def test_groupnorm_with_c_groups_is_instancenorm():
    x = dn.tensor(_batch((3, 4, 2, 5), seed=1))
    gn, inorm = nn.GroupNorm(4, 4), nn.InstanceNorm2d(4, affine=True)
    _randomize_affine(gn, seed=5)
    inorm.load_state_dict(gn.state_dict())
    np.testing.assert_allclose(gn(x).numpy(), inorm(x).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.covers("N2")
def test_groupnorm_channels_must_divide_into_groups():
    with pytest.raises(ValueError, match="GroupNorm: num_channels must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.functional.group_norm(dn.zeros(2, 4, 3), 3)


# ----------------------------------------------------------------------------- state dicts, repr


STATE_CASES = [
    ("BatchNorm1d", (4,), {}), ("BatchNorm2d", (4,), {"affine": False}),
    ("BatchNorm2d", (4,), {"track_running_stats": False}), ("BatchNorm1d", (4,), {"bias": False}),
    ("InstanceNorm1d", (4,), {}), ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}),
    ("LayerNorm", ((3, 4),), {}), ("LayerNorm", (4,), {"bias": False}),
    ("LayerNorm", (4,), {"elementwise_affine": False}),
    ("GroupNorm", (2, 4), {}), ("GroupNorm", (2, 4), {"affine": False}),
]


@pytest.mark.covers("N1", "N2")
@pytest.mark.parametrize("layer, args, options", STATE_CASES)
def test_state_dict_keys_shapes_and_dtypes_equal_torch(layer, args, options):
    dn_state = getattr(nn, layer)(*args, **options).state_dict()
    th_state = getattr(torch.nn, layer)(*args, **options).state_dict()
    assert list(dn_state) == list(th_state)
    for key, value in th_state.items():
        assert_close(dn_state[key], value.numpy() if value.dtype == torch.int64 else value.float(), key)


# --------------------------------------------------------------------------------- axes per kind


@pytest.mark.covers("N2")
@pytest.mark.parametrize(
    "kind, make",
    [
        ("batch", lambda shape: nn.BatchNorm2d(shape[1], affine=False)),
        ("layer", lambda shape: nn.LayerNorm(shape[1:], elementwise_affine=False)),
        ("instance", lambda shape: nn.InstanceNorm2d(shape[1])),
        ("group", lambda shape: nn.GroupNorm(2, shape[1], affine=False)),
    ],
)
def test_normalization_axes_are_exactly_the_axes_each_layer_normalizes(kind, make):
    shape = (4, 6, 3, 5)
    x = _batch(shape, seed=9) * np.arange(1, 7).reshape(1, 6, 1, 1)  # channels of different scales
    y = make(shape)(dn.tensor(x)).numpy()
    axes = normalization_axes(kind, shape)
    if kind == "group":
        y = y.reshape(shape[0], 2, shape[1] // 2, *shape[2:])
    # Every slice over the returned axes has mean 0 and variance 1 ...
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-9)
    np.testing.assert_allclose(y.var(axis=axes), 1.0, rtol=1e-3)
    # ... and no smaller set of axes is normalized: the answer is not too wide.
    for dropped in axes:
        fewer = tuple(a for a in axes if a != dropped)
        assert not np.allclose(y.var(axis=fewer), 1.0, rtol=1e-2), f"{kind}: also normalized without axis {dropped}"


@pytest.mark.covers("N2")
def test_normalization_axes_values_and_errors():
    assert normalization_axes("batch", (8, 3)) == (0,)
    assert normalization_axes("batch", (8, 3, 5)) == (0, 2)
    assert normalization_axes("layer", (8, 3, 4, 4)) == (1, 2, 3)
    assert normalization_axes("instance", (8, 3, 4, 4)) == (2, 3)
    assert normalization_axes("group", (8, 6, 4, 4)) == (2, 3, 4)
    with pytest.raises(ValueError, match="kind must be one of"):
        normalization_axes("weight", (8, 3))
    with pytest.raises(ValueError, match="'instance' needs an input"):
        normalization_axes("instance", (8, 3))


@pytest.mark.covers("N1", "N2")
def test_docstring_examples_run():
    import deepnotes.nn.layers.normalization as layers
    import deepnotes.nn.utils.normalization as axes_module

    for module in (layers, axes_module, norm_ops, functional_norm):
        result = doctest.testmod(module, raise_on_error=False)
        assert result.failed == 0, f"doctest failures in {module.__name__}"


@pytest.mark.covers("N1", "N2")
@pytest.mark.parametrize("make, shape", [(lambda: nn.BatchNorm2d(8), (16, 8, 32, 32)),
                                         (lambda: nn.LayerNorm(256), (32, 64, 256)),
                                         (lambda: nn.GroupNorm(4, 8), (16, 8, 32, 32))])
def test_the_graph_keeps_one_activation_per_normalization(make, shape):
    # The kernel saves the statistics only; xhat is recomputed from the input, which the graph
    # holds anyway. Keeping xhat too would double what a normalization layer adds to the graph.
    import tracemalloc

    layer, x = make(), dn.randn(*shape, requires_grad=True)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        y = layer(x)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1.25 * y.numpy().nbytes, f"{kept / 1e6:.1f} MB kept for a {y.numpy().nbytes / 1e6:.1f} MB output"
    y.sum().backward()
    assert x.grad is not None and layer.weight.grad is not None


@pytest.mark.covers("N1")
def test_eval_mode_gradient_uses_the_statistics_of_its_forward():
    # Backward recomputes xhat from the saved mean: a training forward in between updates the
    # running buffers in place, and must not change the gradient of the earlier evaluation step.
    x = random_inputs([(6, 3, 4)], seed=7)[0]
    grads = []
    for interleave in (False, True):
        layer = nn.BatchNorm1d(3).double()
        for name, buffer in layer.named_buffers():
            if "running" in name:
                buffer.data[...] = np.random.default_rng(1).uniform(0.5, 1.5, buffer.shape)
        layer.weight.data[...] = np.random.default_rng(2).uniform(0.5, 1.5, 3)
        inp = dn.tensor(x, requires_grad=True)
        y = layer.eval()(inp)
        if interleave:
            layer.train()(dn.tensor(x * 3 + 1))
        (y * dn.tensor(x)).sum().backward()
        grads.append((inp.grad.numpy(), layer.weight.grad.numpy()))  # d weight = sum g xhat
    for before, after in zip(*grads):
        np.testing.assert_array_equal(before, after)
