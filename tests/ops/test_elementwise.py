"""Elementwise ops (src/deepnotes/ops/elementwise.py) against PyTorch: values, gradients, broadcasting."""
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import deepnotes as dn
from tests.oracle import check_fn, check_grad_grad, random_inputs

PAIRS = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((), (3,)), ((1, 3), (4, 1)), ((2, 1, 3), (1, 5, 1)), ((1,), ())]

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "maximum": (dn.maximum, torch.maximum),
    "minimum": (dn.minimum, torch.minimum),
    "dn.add": (dn.add, torch.add),
    "dn.sub": (dn.sub, torch.sub),
    "dn.mul": (dn.mul, torch.mul),
    "dn.div": (dn.div, torch.div),
}


def _away_from_zero(x):
    return np.sign(x) * (np.abs(x) + 0.5)


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", PAIRS)
def test_binary_ops_broadcast(name, shapes):
    dn_fn, th_fn = BINARY[name]
    a, b = random_inputs(shapes, seed=len(name))
    check_fn(dn_fn, th_fn, [a, _away_from_zero(b) if "div" in name else b])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_with_python_scalars(name):
    dn_fn, th_fn = BINARY[name]
    (a,) = random_inputs([(2, 3)])
    check_fn(lambda x: dn_fn(x, 1.5), lambda x: th_fn(x, torch.tensor(1.5, dtype=torch.float64)), [a])
    check_fn(lambda x: dn_fn(-2.0, x), lambda x: th_fn(torch.tensor(-2.0, dtype=torch.float64), x),
             [_away_from_zero(a)])


@pytest.mark.covers("E1")
@settings(max_examples=40, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(BINARY)))
def test_binary_ops_on_any_broadcastable_shapes(data, name):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
    a, b = random_inputs(shapes.input_shapes, seed=data.draw(st.integers(0, 1000)))
    dn_fn, th_fn = BINARY[name]
    out = check_fn(dn_fn, th_fn, [a, _away_from_zero(b)])
    assert out[0].shape == shapes.result_shape


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_split_ties_like_torch(name):
    a = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    b = np.array([1.0, 0.0, 3.0])  # ties in column 0 and 2 of row 0
    dn_fn, th_fn = BINARY[name]
    check_fn(dn_fn, th_fn, [a, b])
    x = dn.tensor([2.0], requires_grad=True)
    dn_fn(x, x.detach()).sum().backward()
    assert x.grad.tolist() == [0.5]


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs", "neg", "neg_operator"])
def test_unary_ops(shape, name):
    (a,) = random_inputs([shape], seed=3)
    if name in ("log", "sqrt"):
        a = np.abs(a) + 0.1
    if name == "neg_operator":
        dn_fn, th_fn = (lambda x: -x), (lambda x: -x)
    else:
        dn_fn, th_fn = getattr(dn, name), getattr(torch, name)
    check_fn(dn_fn, th_fn, [a])


@pytest.mark.covers("E1")
def test_abs_gradient_at_zero_is_zero():
    check_fn(dn.abs, torch.abs, [np.array([-1.0, 0.0, 2.0])])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("exponent", [2, 3, -1, 0, 2.5, -0.5])
def test_pow_scalar_exponent(exponent):
    (a,) = random_inputs([(3, 4)], seed=1)
    if isinstance(exponent, float):
        a = np.abs(a) + 0.1  # a fractional power of a negative base is NaN
    else:
        a = _away_from_zero(a)  # negative bases with integer exponents are fine
    check_fn(lambda x: x ** exponent, lambda x: x ** exponent, [a])
    check_fn(lambda x: dn.pow(x, exponent), lambda x: torch.pow(x, exponent), [a])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3), (3,)), ((), (2, 2))])
def test_pow_tensor_exponent(shapes):
    a, b = random_inputs(shapes, seed=2)
    check_fn(lambda x, y: x ** y, lambda x, y: x ** y, [np.abs(a) + 0.1, b])


@pytest.mark.covers("E1")
def test_pow_negative_base_integer_valued_tensor_exponent():
    # d/da is finite; d/db = a^b ln a is NaN for a < 0, in both libraries.
    check_fn(lambda x, y: x ** y, lambda x, y: x ** y, [np.array([-2.0, -0.5, 3.0]), np.array([2.0, 3.0, -1.0])])


@pytest.mark.covers("E1")
def test_pow_edge_cases_at_zero_follow_torch():
    a = np.array([0.0, 0.0, 0.0, 2.0])
    b = np.array([0.0, 2.0, 0.5, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_fn(lambda x, y: x ** y, lambda x, y: x ** y, [a, b])
    check_fn(lambda y: 2.0 ** y, lambda y: 2.0 ** y, [b])


CLAMPS = [dict(min=-0.5), dict(max=0.7), dict(min=-0.5, max=0.7)]


@pytest.mark.covers("E1")
@pytest.mark.parametrize("bounds", CLAMPS, ids=str)
@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4)])
def test_clamp(bounds, shape):
    (a,) = random_inputs([shape], seed=4)
    check_fn(lambda x: x.clamp(**bounds), lambda x: x.clamp(**bounds), [a])
    check_fn(lambda x: dn.clip(x, **bounds), lambda x: torch.clip(x, **bounds), [a])


@pytest.mark.covers("E1")
def test_clamp_passes_gradient_at_the_bounds_inclusively():
    check_fn(lambda x: x.clamp(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), [np.array([-0.5, 0.5, 0.6, -0.7, 0.0])])
    with pytest.raises(ValueError, match="clamp"):
        dn.tensor([1.0]).clamp()


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((2, 1), (1, 3), (2, 3)), ((4,), (), (2, 4))])
def test_where(shapes):
    a, b, c = random_inputs(shapes, seed=5)
    cond = c > 0
    check_fn(lambda x, y, m: dn.where(m, x, y), lambda x, y, m: torch.where(m, x, y), [a, b, cond])


@pytest.mark.covers("E1")
def test_where_with_a_python_number():
    (a,) = random_inputs([(3, 4)], seed=6)
    cond = a > 0
    check_fn(lambda x, m: dn.where(m, x, 0.0), lambda x, m: torch.where(m, x, 0.0), [a, cond])
    check_fn(lambda x, m: dn.where(m, 1.0, x), lambda x, m: torch.where(m, 1.0, x), [a, cond])
    assert dn.where(dn.tensor([True, False]), dn.tensor([1.0, 2.0]), 0.0).dtype == np.float32


SECOND_ORDER = {
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a.abs() ** b, lambda a, b: a.abs() ** b),
    "pow_scalar": (lambda a, b: a ** 3 + b ** -1, lambda a, b: a ** 3 + b ** -1),
    "exp_log_sqrt": (lambda a, b: a.exp() * b.abs().log() + b.abs().sqrt(),
                     lambda a, b: a.exp() * b.abs().log() + b.abs().sqrt()),
    "sub_neg": (lambda a, b: -(a - b) * a, lambda a, b: -(a - b) * a),
    "max_min": (lambda a, b: dn.maximum(a, b) * dn.minimum(a, b),
                lambda a, b: torch.maximum(a, b) * torch.minimum(a, b)),
    "clamp": (lambda a, b: a.clamp(-0.5, 0.5) * b, lambda a, b: a.clamp(-0.5, 0.5) * b),
    "where": (lambda a, b: dn.where(a.data > 0, a * a, b * a), lambda a, b: torch.where(a > 0, a * a, b * a)),
}


@pytest.mark.covers("E1", "O5")
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives(name):
    a, b = random_inputs([(2, 3), (3,)], seed=7)
    dn_fn, th_fn = SECOND_ORDER[name]
    check_grad_grad(dn_fn, th_fn, [a, _away_from_zero(b)])
