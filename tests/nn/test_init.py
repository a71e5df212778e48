"""nn.init vs torch.nn.init: gains, fans, and the distributions they fill (inventory I1).

The numbers drawn differ (different generators); the *distributions* must be
the same: exact bounds for uniform fills, mean and std within sampling error of
the formula and of torch's fill of the same shape.
"""
import math

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn import init

SHAPES = [(512, 512), (64, 32, 3, 3)]  # a Linear weight and a Conv2d weight

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.covers("I1")
@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity), abs=1e-15)


@pytest.mark.covers("I1")
@pytest.mark.parametrize("slope", [0, 0.01, 0.2, 1, math.sqrt(5)])
def test_leaky_relu_gain_matches_torch(slope):
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", slope), abs=1e-15)


@pytest.mark.covers("I1")
def test_calculate_gain_rejects_unknown_names_and_bad_slopes():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True is not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.covers("I1")
@pytest.mark.parametrize("shape", [(3, 5), (64, 32, 3, 3), (8, 4, 5), (2, 3, 1, 2, 2)])
def test_fans_match_torch_including_the_receptive_field(shape):
    ours = init._calculate_fan_in_and_fan_out(dn.zeros(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.covers("I1")
def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(nn.Parameter(np.zeros(5, dtype=np.float32)))


def _fill_both(name, shape, **kwargs):
    ours = nn.Parameter(np.zeros(shape, dtype=np.float32))
    theirs = torch.empty(shape)
    torch.manual_seed(0)
    out = getattr(init, name)(ours, **kwargs)
    getattr(torch.nn.init, name)(theirs, **kwargs)
    assert out is ours  # in place, returns its argument
    assert ours.dtype == np.float32
    return ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64)


def _fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


# (function, kwargs, expected std, uniform bound or None) as functions of (fan_in, fan_out)
CASES = [
    ("uniform_", dict(a=-0.3, b=0.7), lambda i, o: 1 / math.sqrt(12), lambda i, o: None),
    ("normal_", dict(mean=0.0, std=0.02), lambda i, o: 0.02, lambda i, o: None),
    ("xavier_uniform_", {}, lambda i, o: math.sqrt(2 / (i + o)), lambda i, o: math.sqrt(6 / (i + o))),
    ("xavier_uniform_", dict(gain=5 / 3), lambda i, o: 5 / 3 * math.sqrt(2 / (i + o)),
     lambda i, o: 5 / 3 * math.sqrt(6 / (i + o))),
    ("xavier_normal_", {}, lambda i, o: math.sqrt(2 / (i + o)), lambda i, o: None),
    ("kaiming_uniform_", {}, lambda i, o: math.sqrt(2 / (1 + 0.0)) / math.sqrt(i),
     lambda i, o: math.sqrt(6 / i)),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), lambda i, o: 1 / math.sqrt(3 * i), lambda i, o: 1 / math.sqrt(i)),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), lambda i, o: math.sqrt(2 / o),
     lambda i, o: math.sqrt(6 / o)),
    ("kaiming_normal_", {}, lambda i, o: math.sqrt(2 / i), lambda i, o: None),
    ("kaiming_normal_", dict(a=0.2, mode="fan_out"), lambda i, o: math.sqrt(2 / (1.04 * o)), lambda i, o: None),
    ("kaiming_normal_", dict(nonlinearity="tanh"), lambda i, o: 5 / 3 / math.sqrt(i), lambda i, o: None),
]


@pytest.mark.covers("I1")
@pytest.mark.parametrize("name,kwargs,std_of,bound_of", CASES,
                         ids=[f"{c[0]}{'-' if c[1] else ''}{'-'.join(map(str, c[1].values()))}" for c in CASES])
@pytest.mark.parametrize("shape", SHAPES, ids=["linear", "conv"])
def test_fill_distribution_matches_formula_and_torch(name, kwargs, std_of, bound_of, shape):
    ours, theirs = _fill_both(name, shape, **kwargs)
    fan_in, fan_out = _fans(shape)
    std, bound = std_of(fan_in, fan_out), bound_of(fan_in, fan_out)
    mean = (kwargs.get("a", 0) + kwargs.get("b", 0)) / 2 if name == "uniform_" else kwargs.get("mean", 0.0)
    assert ours.std() == pytest.approx(std, rel=0.02)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    assert abs(ours.mean() - mean) < 5 * std / math.sqrt(ours.size)
    if name == "uniform_":
        bound_low, bound_high = kwargs["a"], kwargs["b"]
    elif bound is not None:
        bound_low, bound_high = -bound, bound
    else:  # normal: symmetric, with the Gaussian's kurtosis of 3
        assert np.mean((ours - mean) ** 4) / ours.var() ** 2 == pytest.approx(3.0, rel=0.05)
        return
    bound_low, bound_high = float(np.float32(bound_low)), float(np.float32(bound_high))  # as stored
    assert ours.min() >= bound_low and ours.max() <= bound_high
    assert theirs.min() >= bound_low and theirs.max() <= bound_high
    span = bound_high - bound_low
    assert ours.min() < bound_low + 0.001 * span and ours.max() > bound_high - 0.001 * span


@pytest.mark.covers("I1")
def test_constant_fills():
    p = nn.Parameter(np.empty((3, 4), dtype=np.float32))
    assert init.zeros_(p) is p and not p.numpy().any()
    init.ones_(p)
    np.testing.assert_array_equal(p.numpy(), 1.0)
    init.constant_(p, 0.25)
    np.testing.assert_array_equal(p.numpy(), 0.25)
    assert p.dtype == np.float32


@pytest.mark.covers("I1")
def test_fill_keeps_float64_and_rejects_integer_tensors():
    p = nn.Parameter(np.zeros((20, 10)))
    init.kaiming_normal_(p)
    assert p.dtype == np.float64 and p.numpy().std() > 0
    with pytest.raises(TypeError, match="uniform_: expected a floating-point tensor, got dtype int64"):
        init.uniform_(dn.zeros(3, 3, dtype=np.int64))


@pytest.mark.covers("I1")
def test_reproducible_from_the_global_seed_and_the_generator_argument():
    a, b = (nn.Parameter(np.zeros((8, 8), dtype=np.float32)) for _ in range(2))
    dn.manual_seed(7)
    init.xavier_normal_(a)
    dn.manual_seed(7)
    init.xavier_normal_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())

    state = dn.get_rng_state()
    init.kaiming_uniform_(a, generator=np.random.default_rng(1))
    init.kaiming_uniform_(b, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert dn.get_rng_state() == state  # an explicit generator leaves the global one alone


@pytest.mark.covers("I1")
def test_bad_mode_is_an_error():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        init.kaiming_uniform_(nn.Parameter(np.zeros((3, 3), dtype=np.float32)), mode="fan_avg")


@pytest.mark.covers("I1")
def test_zero_element_tensor_is_left_alone():
    p = nn.Parameter(np.zeros((0, 4), dtype=np.float32))
    assert init.kaiming_uniform_(p) is p and p.shape == (0, 4)


@pytest.mark.covers("I1")
def test_he_init_keeps_relu_activations_alive_through_depth_xavier_shrinks_them():
    """Var(a_l) stays O(1) with He init; with Glorot's gain 1 it halves at every ReLU layer."""
    depth, width = 12, 256
    x = dn.tensor(np.random.default_rng(0).standard_normal((512, width)))

    def final_variance(fill):
        h = x
        with dn.no_grad():
            for _ in range(depth):
                layer = nn.Linear(width, width, bias=False).double()
                fill(layer.weight)
                h = nn.functional.relu(layer(h))
        return float((h.numpy()**2).mean())  # second moment: the quantity the derivation preserves

    he = final_variance(lambda w: init.kaiming_normal_(w, nonlinearity="relu"))
    glorot = final_variance(init.xavier_normal_)
    assert 0.5 < he < 2.0
    assert glorot < 2.0 ** -depth * 4
