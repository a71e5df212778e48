"""Activation layers and their functional forms vs PyTorch (inventory A1-A6)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from tests.oracle import assert_close, check_fn, check_module, random_inputs

SHAPES = [(7,), (1, 5), (4, 6), (2, 3, 4, 5)]

# (deepnotes module, torch module): the same options on both sides.
MODULES = {
    "sigmoid": (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    "tanh": (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    "relu": (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    "leaky_relu": (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    "leaky_relu_0.2": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    "elu": (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    "elu_0.5": (lambda: nn.ELU(alpha=0.5), lambda: torch.nn.ELU(alpha=0.5)),
    "gelu": (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    "gelu_tanh": (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    "prelu": (lambda: nn.PReLU(), lambda: torch.nn.PReLU()),
    "softmax_last": (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    "softmax_0": (lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0)),
    "log_softmax_last": (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    "log_softmax_0": (lambda: nn.LogSoftmax(dim=0), lambda: torch.nn.LogSoftmax(dim=0)),
}


def _with_zeros(x):
    """Put exact zeros (the kink of ReLU-like units) into an input."""
    x = x.copy()
    x.flat[:: 3] = 0.0
    return x


@pytest.mark.covers("A1", "A2", "A3", "A4", "A5")
@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("shape", SHAPES)
def test_module_matches_torch(name, shape):
    make_dn, make_torch = MODULES[name]
    (x,) = random_inputs([shape], seed=len(shape), low=-4, high=4)
    check_module(make_dn(), make_torch(), [_with_zeros(x)])


@pytest.mark.covers("A4")
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 4)])
def test_prelu_per_channel_matches_torch(shape):
    dn_layer = nn.PReLU(num_parameters=3, init=0.1)
    dn_layer.weight.data[:] = [0.1, -0.3, 0.7]  # distinct slopes per channel
    (x,) = random_inputs([shape], seed=3)
    check_module(dn_layer, torch.nn.PReLU(3), [_with_zeros(x)])


@pytest.mark.covers("A4")
@pytest.mark.parametrize("shape", [(), (5,), (4, 3), (2, 3, 5)])
def test_prelu_functional_shared_slope_matches_torch(shape):
    (x,) = random_inputs([shape], seed=4)
    check_fn(F.prelu, TF.prelu, [_with_zeros(x), np.array([-0.3])])


@pytest.mark.covers("A4")
def test_prelu_rejects_wrong_number_of_slopes():
    with pytest.raises(ValueError, match=r"prelu: weight has 2 slopes, expected 1 or the input's 3 channels"):
        F.prelu(dn.randn(4, 3), dn.ones(2))
    with pytest.raises(ValueError, match=r"expected 1 or the input's 1 channels"):
        F.prelu(dn.randn(3), dn.ones(3))  # a 1-d input has one channel (PyTorch's rule)


FUNCTIONALS = [
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("relu", F.relu, torch.relu),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.3), lambda x: TF.leaky_relu(x, 0.3)),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    ("gelu", F.gelu, TF.gelu),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    ("softmax", lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1)),
]


@pytest.mark.covers("A1", "A2", "A3", "A4", "A5")
@pytest.mark.parametrize("name,dn_fn,torch_fn", FUNCTIONALS, ids=[f[0] for f in FUNCTIONALS])
def test_functional_matches_torch_including_extremes(name, dn_fn, torch_fn):
    (x,) = random_inputs([(5, 8)], seed=11, low=-3, high=3)
    x[0] = [-800.0, -40.0, -10.0, -1e-3, 0.0, 1e-3, 10.0, 40.0]  # saturation and the kink
    x[1] = [1000.0, 999.0, 0.0, -1000.0, 5.0, 5.0, 5.0, 5.0]  # softmax overflow without the max shift
    check_fn(dn_fn, torch_fn, [x])


@pytest.mark.covers("A1", "A2", "A3", "A4", "A5")
@pytest.mark.parametrize("name,dn_fn,torch_fn", FUNCTIONALS, ids=[f[0] for f in FUNCTIONALS])
def test_float32_stays_float32(name, dn_fn, torch_fn):
    x = dn.randn(3, 4)
    out = dn_fn(x)
    assert out.dtype == np.float32
    assert_close(out, torch_fn(torch.from_numpy(x.numpy())), name, atol=1e-6, rtol=1e-5)


@pytest.mark.covers("A5")
@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0, 10.0])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_temperature_is_softmax_of_scaled_logits(temperature, dim):
    (x,) = random_inputs([(3, 4, 5)], seed=2, low=-5, high=5)
    check_fn(lambda z: F.softmax(z, dim, temperature=temperature),
             lambda z: TF.softmax(z / temperature, dim), [x])
    check_fn(lambda z: F.log_softmax(z, dim, temperature=temperature),
             lambda z: TF.log_softmax(z / temperature, dim), [x])


@pytest.mark.covers("A5")
def test_temperature_limits_flatten_and_sharpen():
    z = dn.tensor([[1.0, 2.0, 4.0]], dtype=np.float64)
    hot = F.softmax(z, dim=1, temperature=1e4).numpy()
    cold = F.softmax(z, dim=1, temperature=1e-3).numpy()
    np.testing.assert_allclose(hot, np.full((1, 3), 1 / 3), atol=1e-3)
    np.testing.assert_allclose(cold, [[0.0, 0.0, 1.0]], atol=1e-12)


@pytest.mark.covers("A5")
def test_softmax_large_logits_do_not_overflow():
    z = np.array([[1000.0, 1001.0, 1002.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would warn
        p = F.softmax(dn.tensor(z), dim=1).numpy()
        logp = F.log_softmax(dn.tensor(z), dim=1).numpy()
    assert np.isfinite(p).all() and np.isfinite(logp).all()
    shifted = np.exp(np.array([-2.0, -1.0, 0.0]))
    np.testing.assert_allclose(p[0], shifted / shifted.sum(), rtol=1e-6)
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum()
    assert np.isnan(naive).all()  # the failure the max subtraction avoids


@pytest.mark.covers("A5")
@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_softmax_implicit_dim_follows_torch_and_warns(ndim):
    (x,) = random_inputs([(2, 3, 4, 5)[:ndim]], seed=ndim)
    with pytest.warns(UserWarning, match="implicit dimension"):
        ours = nn.Softmax()(dn.tensor(x)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Softmax()(torch.tensor(x))
    assert_close(ours, theirs, "softmax with dim=None")


@pytest.mark.covers("A1")
def test_sigmoid_derivative_peaks_at_quarter_and_saturates():
    x = dn.tensor(np.linspace(-30, 30, 6001), requires_grad=True)
    F.sigmoid(x).sum().backward()
    assert x.grad.numpy().max() == pytest.approx(0.25, abs=1e-12)  # s(1 - s) at x = 0
    assert np.argmax(x.grad.numpy()) == 3000
    assert x.grad.numpy()[np.abs(x.numpy()) > 20].max() < 3e-9  # saturated: the gradient vanishes


@pytest.mark.covers("A2")
def test_tanh_derivative_peaks_at_one_and_is_four_times_sigmoids():
    x = dn.tensor(np.linspace(-5, 5, 1001), requires_grad=True)
    F.tanh(x).sum().backward()
    assert x.grad.numpy().max() == pytest.approx(1.0, abs=1e-12)
    # tanh(x) = 2 sigmoid(2x) - 1, so the two derivatives at 0 are 1 and 1/4
    np.testing.assert_allclose(F.tanh(x).numpy(), 2 * F.sigmoid(x * 2.0).numpy() - 1, atol=1e-14)


@pytest.mark.covers("A3")
def test_relu_derivative_at_zero_is_zero_and_dead_units_get_no_gradient():
    x = dn.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    # A unit whose bias pushes it negative for every input is dead: no gradient reaches it.
    layer = nn.Linear(4, 3)
    with dn.no_grad():
        layer.bias.data[:] = [-100.0, 0.0, 0.0]
    F.relu(layer(dn.rand(16, 4))).sum().backward()
    assert not layer.weight.grad.numpy()[0].any() and layer.bias.grad.numpy()[0] == 0
    assert layer.weight.grad.numpy()[1:].any()


@pytest.mark.covers("A4")
def test_leaky_relu_and_elu_keep_a_gradient_for_negative_inputs():
    x = dn.tensor([-3.0, -0.5], dtype=np.float64, requires_grad=True)
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.1])  # slope * z: derivative = slope
    x.grad = None
    F.elu(x, 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([-3.0, -0.5]))
    assert F.elu(dn.tensor([-1e3], dtype=np.float64), 2.0).item() == pytest.approx(-2.0)  # saturates at -alpha


@pytest.mark.covers("A4")
def test_prelu_slope_is_learned():
    layer = nn.PReLU()
    x = dn.tensor([[-2.0, 3.0], [-1.0, -4.0]])
    layer(x).sum().backward()
    assert layer.weight.grad.numpy().shape == (1,)
    assert layer.weight.grad.numpy()[0] == pytest.approx(-7.0)  # d/da sum(a z, z < 0) = sum of negative z


@pytest.mark.covers("A6")
def test_two_class_softmax_is_sigmoid_of_the_logit_difference():
    (z,) = random_inputs([(10, 2)], seed=5, low=-6, high=6)
    p = F.softmax(dn.tensor(z), dim=1).numpy()[:, 1]
    s = F.sigmoid(dn.tensor(z[:, 1] - z[:, 0])).numpy()
    np.testing.assert_allclose(p, s, rtol=1e-13)


@pytest.mark.covers("A6")
def test_sigmoid_outputs_are_independent_softmax_outputs_compete():
    z = dn.tensor([[2.0, 2.0, 2.0]], dtype=np.float64)
    assert F.sigmoid(z).numpy().sum() == pytest.approx(3 * 0.8807970779778823)  # multi-label: no sum constraint
    assert F.softmax(z, dim=1).numpy().sum() == pytest.approx(1.0)  # one distribution over exclusive classes
    raised = dn.tensor([[5.0, 2.0, 2.0]], dtype=np.float64)
    assert F.sigmoid(raised).numpy()[0, 1] == F.sigmoid(z).numpy()[0, 1]  # raising one logit leaves others
    assert F.softmax(raised, dim=1).numpy()[0, 1] < F.softmax(z, dim=1).numpy()[0, 1]  # ... or takes mass from them


REPRS = [
    (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()), (nn.ReLU(), torch.nn.ReLU()),
    (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)), (nn.LeakyReLU(), torch.nn.LeakyReLU()),
    (nn.LeakyReLU(0.2, True), torch.nn.LeakyReLU(0.2, True)), (nn.PReLU(3), torch.nn.PReLU(3)),
    (nn.ELU(), torch.nn.ELU()), (nn.ELU(0.5, True), torch.nn.ELU(0.5, True)), (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")), (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)), (nn.Softmax(), torch.nn.Softmax()),
]


@pytest.mark.covers("A1", "A3", "A4", "A5")
@pytest.mark.parametrize("ours,theirs", REPRS, ids=[repr(t) for _, t in REPRS])
def test_repr_matches_torch(ours, theirs):
    assert repr(ours) == repr(theirs)


@pytest.mark.covers("A4")
def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(dn.ones(2), approximate="fast")
