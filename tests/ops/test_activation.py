"""Activations (src/deepnotes/ops/activation.py) against PyTorch (inventory A1-A6)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepnotes as dn
from deepnotes.ops import api
from tests.oracle import check_fn, check_grad_grad, random_inputs

SHAPES = [(), (7,), (3, 4), (2, 3, 4)]


def _with_zeros(shape, seed=0):
    """Random values with some exact zeros (where ReLU-like derivatives are a convention)."""
    (a,) = random_inputs([shape], seed=seed, low=-3, high=3)
    a = np.asarray(a)
    if a.size > 1:
        a.flat[:: 3] = 0.0
    return a


@pytest.mark.covers("A1")
@pytest.mark.parametrize("shape", SHAPES)
def test_sigmoid(shape):
    check_fn(dn.sigmoid, torch.sigmoid, [_with_zeros(shape)])
    check_fn(lambda x: x.sigmoid(), lambda x: x.sigmoid(), [_with_zeros(shape)])


@pytest.mark.covers("A1")
def test_sigmoid_derivative_is_s_times_one_minus_s_at_most_a_quarter():
    z = dn.tensor(np.linspace(-8, 8, 161), requires_grad=True)
    s = z.sigmoid()
    s.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), s.numpy() * (1 - s.numpy()), rtol=1e-12)
    assert z.grad.numpy().max() == pytest.approx(0.25) and z.grad.numpy()[80] == 0.25  # the peak is at z = 0
    assert z.grad.numpy()[0] < 1e-3  # saturated: the gradient vanishes


@pytest.mark.covers("A2")
@pytest.mark.parametrize("shape", SHAPES)
def test_tanh(shape):
    check_fn(dn.tanh, torch.tanh, [_with_zeros(shape)])


@pytest.mark.covers("A3")
@pytest.mark.parametrize("shape", SHAPES)
def test_relu(shape):
    check_fn(dn.relu, torch.relu, [_with_zeros(shape)])


@pytest.mark.covers("A3")
def test_relu_derivative_at_zero_is_zero():
    z = dn.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    z.relu().sum().backward()
    assert z.grad.numpy().tolist() == [0.0, 0.0, 1.0]


@pytest.mark.covers("A4")
@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
@pytest.mark.parametrize("shape", SHAPES)
def test_leaky_relu(shape, slope):
    check_fn(lambda x: api.leaky_relu(x, slope), lambda x: F.leaky_relu(x, slope), [_with_zeros(shape)])


@pytest.mark.covers("A4")
def test_leaky_relu_negative_side_is_a_slope_times_z():
    z = dn.tensor([-4.0, -1.0, 3.0])
    assert api.leaky_relu(z, 0.1).tolist() == pytest.approx([-0.4, -0.1, 3.0])


@pytest.mark.covers("A4")
@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("shape", SHAPES)
def test_elu(shape, alpha):
    check_fn(lambda x: api.elu(x, alpha), lambda x: F.elu(x, alpha), [_with_zeros(shape)])


@pytest.mark.covers("A4")
@pytest.mark.parametrize("shape,weight_shape",
                         [((5, 3), (1,)), ((5, 3), (3,)), ((2, 3, 4, 4), (3,)), ((2, 3, 4), (1,))])
def test_prelu(shape, weight_shape):
    x = _with_zeros(shape)
    (w,) = random_inputs([weight_shape], seed=1, low=0.0, high=0.5)
    check_fn(api.prelu, F.prelu, [x, w])


DIMS = [((5,), -1), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((2, 3, 4), -1), ((1, 1), 0)]


@pytest.mark.covers("A5")
@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
@pytest.mark.parametrize("shape,dim", DIMS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax(name, shape, dim, temperature):
    (a,) = random_inputs([shape], seed=2, low=-4, high=4)
    th = getattr(torch, name)
    check_fn(lambda x: getattr(dn, name)(x, dim, temperature=temperature), lambda x: th(x / temperature, dim), [a])
    check_fn(lambda x: getattr(x, name)(dim, temperature), lambda x: th(x / temperature, dim), [a])


@pytest.mark.covers("A5")
def test_softmax_rows_sum_to_one():
    p = dn.softmax(dn.randn(4, 7), dim=1)
    np.testing.assert_allclose(p.sum(1).numpy(), 1.0, rtol=1e-6)


@pytest.mark.covers("A1", "A5")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sigmoid"])
def test_huge_logits_stay_finite_and_correct(name, dtype):
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]], dtype=dtype)
    fns = {"softmax": (lambda x: dn.softmax(x, 1), lambda x: torch.softmax(x, 1)),
           "log_softmax": (lambda x: dn.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1)),
           "sigmoid": (dn.sigmoid, torch.sigmoid)}
    dn_fn, th_fn = fns[name]
    c = np.random.default_rng(0).uniform(0.5, 1.5, size=a.shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp() would warn
        x = dn.tensor(a, requires_grad=True)
        out = dn_fn(x)
        (out * dn.tensor(c)).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    t_out = th_fn(t)
    (t_out * torch.tensor(c)).sum().backward()
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    assert out.dtype == dtype and x.grad.numpy().dtype == dtype
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.covers("A6", "A1", "A5")
@pytest.mark.parametrize("shape", [(), (6,), (2, 3)])
def test_two_class_softmax_is_the_sigmoid(shape):
    """softmax([z, 0])_0 = e^z / (e^z + 1) = sigmoid(z): a binary sigmoid output is a 2-class softmax."""
    (z,) = random_inputs([shape], seed=3, low=-6, high=6)

    def via_softmax(x):
        logits = dn.stack([x, dn.zeros_like(x, dtype=x.dtype)], -1)
        return dn.softmax(logits, -1)[..., 0]

    def via_sigmoid(x):
        return dn.sigmoid(x)

    dn_a, dn_b = dn.tensor(z, requires_grad=True), dn.tensor(z, requires_grad=True)
    out_a, out_b = via_softmax(dn_a), via_sigmoid(dn_b)
    np.testing.assert_allclose(out_a.numpy(), out_b.numpy(), rtol=1e-12, atol=1e-15)
    out_a.sum().backward()
    out_b.sum().backward()
    np.testing.assert_allclose(dn_a.grad.numpy(), dn_b.grad.numpy(), rtol=1e-10, atol=1e-15)
    check_fn(via_softmax, torch.sigmoid, [z])


SECOND_ORDER = {
    "sigmoid": (dn.sigmoid, torch.sigmoid),
    "tanh": (dn.tanh, torch.tanh),
    "relu": (lambda x: dn.relu(x) * x, lambda x: torch.relu(x) * x),
    "leaky_relu": (lambda x: api.leaky_relu(x, 0.2) ** 2, lambda x: F.leaky_relu(x, 0.2) ** 2),
    "elu": (lambda x: api.elu(x, 0.7), lambda x: F.elu(x, 0.7)),
    "softmax": (lambda x: dn.softmax(x, 1), lambda x: torch.softmax(x, 1)),
    "softmax_T": (lambda x: dn.softmax(x, 0, temperature=2.0), lambda x: torch.softmax(x / 2.0, 0)),
    "log_softmax": (lambda x: dn.log_softmax(x, -1), lambda x: torch.log_softmax(x, -1)),
    "log_softmax_T": (lambda x: dn.log_softmax(x, 1, temperature=0.5), lambda x: torch.log_softmax(x / 0.5, 1)),
}


@pytest.mark.covers("O5")
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives(name):
    (a,) = random_inputs([(3, 4)], seed=4)
    check_grad_grad(*SECOND_ORDER[name], [a])


@pytest.mark.covers("A4", "O5")
def test_prelu_second_derivatives():
    x, w = random_inputs([(2, 3, 4), (3,)], seed=5)
    check_grad_grad(lambda a, b: api.prelu(a, b) ** 2, lambda a, b: F.prelu(a, b) ** 2, [x, w])
