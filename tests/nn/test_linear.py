"""nn.Linear and F.linear vs PyTorch (inventory E4, E5, E6, I1)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from tests.oracle import assert_close, check_fn, check_module, random_inputs


@pytest.mark.covers("E4")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("in_features,out_features,input_shape", [
    (3, 4, (5, 3)),
    (3, 4, (1, 3)),        # batch size 1
    (6, 2, (6,)),          # one unbatched sample
    (4, 7, (2, 3, 4)),     # extra leading axes
    (1, 1, (9, 1)),
])
def test_linear_matches_torch(in_features, out_features, input_shape, bias):
    (x,) = random_inputs([input_shape], seed=in_features)
    check_module(nn.Linear(in_features, out_features, bias), torch.nn.Linear(in_features, out_features, bias), [x])


@pytest.mark.covers("E4")
@pytest.mark.parametrize("with_bias", [True, False])
def test_functional_linear_matches_torch(with_bias):
    shapes = [(4, 2, 5), (3, 5)] + ([(3,)] if with_bias else [])
    check_fn(F.linear, TF.linear, random_inputs(shapes, seed=7))


@pytest.mark.covers("E4")
def test_neuron_is_weighted_sum_plus_bias():
    layer = nn.Linear(3, 1).double()
    x = np.array([[1.0, -2.0, 0.5]])
    z = layer(dn.tensor(x)).numpy()  # the logit of one neuron
    w, b = layer.weight.numpy()[0], layer.bias.numpy()[0]
    assert z[0, 0] == pytest.approx(w @ x[0] + b, abs=1e-15)


@pytest.mark.covers("E4")
def test_parameters_are_float32_shapes_and_names_as_torch():
    layer = nn.Linear(3, 4)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in torch.nn.Linear(3, 4).named_parameters()
    ]
    assert layer(dn.randn(2, 3)).dtype == np.float32
    assert nn.Linear(3, 4, dtype=np.float64).weight.dtype == np.float64
    assert nn.Linear(3, 4, bias=False).bias is None
    assert list(nn.Linear(3, 4, bias=False).state_dict()) == ["weight"]


@pytest.mark.covers("E4")
@pytest.mark.parametrize("bias", [True, False])
def test_repr_matches_torch(bias):
    assert repr(nn.Linear(3, 4, bias=bias)) == repr(torch.nn.Linear(3, 4, bias=bias))
    assert nn.Linear(3, 4).extra_repr() == "in_features=3, out_features=4, bias=True"


@pytest.mark.covers("I1")
def test_default_init_distribution_matches_torch():
    """Weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)): same bounds, same std as torch's layer."""
    in_features, out_features = 256, 4096
    ours = nn.Linear(in_features, out_features)
    torch.manual_seed(0)
    theirs = torch.nn.Linear(in_features, out_features)
    bound = 1 / math.sqrt(in_features)  # 1/16: exact in float32
    for name in ("weight", "bias"):
        values = getattr(ours, name).numpy()
        reference = getattr(theirs, name).detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
        assert values.max() > 0.99 * bound and values.min() < -0.99 * bound  # the whole range is used
        assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)  # std of U(-b, b) is b / sqrt 3
        assert values.std() == pytest.approx(reference.std(), rel=0.03)
        assert abs(values.mean()) < 4 * bound / math.sqrt(3 * values.size)


@pytest.mark.covers("I1")
def test_default_init_is_reproducible_and_uses_the_global_generator():
    dn.manual_seed(123)
    a = nn.Linear(5, 3)
    dn.manual_seed(123)
    b = nn.Linear(5, 3)
    c = nn.Linear(5, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(b.weight.numpy(), c.weight.numpy())


@pytest.mark.covers("E4")
def test_wrong_last_dimension_names_the_layer():
    layer = nn.Linear(784, 512)
    with pytest.raises(ValueError, match=r"Linear\(784, 512\): expected input of shape \(\.\.\., 784\), got \(64, 785\)"):
        layer(dn.zeros(64, 785))
    with pytest.raises(ValueError, match=r"linear: expected input of shape \(\.\.\., 3\), got \(2, 4\)"):
        F.linear(dn.zeros(2, 4), dn.zeros(5, 3))


@pytest.mark.covers("E4")
def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match=r"Linear\(3, 2\): expected a floating-point input tensor, got dtype int64"):
        nn.Linear(3, 2)(dn.tensor([[1, 2, 3]]))


@pytest.mark.covers("E4")
def test_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match=r"Linear\(3, 2\): input dtype float64 differs from the weight's float32"):
        nn.Linear(3, 2)(dn.tensor(np.ones((1, 3))))


@pytest.mark.covers("E4")
@pytest.mark.parametrize("out_features", [2, 5, 0])
@pytest.mark.parametrize("grad", [True, False])
def test_nan_input_is_caught_whether_the_output_or_the_input_is_searched(out_features, grad):
    """Narrowing layers search their (smaller) output for a NaN, widening ones their input:
    either way a NaN input raises, naming the layer; a NaN weight is not the input's fault."""
    layer = nn.Linear(3, out_features)
    x = np.ones((4, 3), dtype=np.float32)
    x[2, 1] = np.nan
    with dn.set_grad_enabled(grad), pytest.raises(
            ValueError, match=rf"Linear\(3, {out_features}\): input of shape \(4, 3\) contains 1 NaN"):
        layer(dn.tensor(x))
    if out_features:
        layer.weight.data[0, 0] = np.nan
        out = layer(dn.tensor(np.ones((4, 3), dtype=np.float32))).numpy()
        assert np.isnan(out[:, 0]).all() and not np.isnan(out[:, 1:]).any()


@pytest.mark.covers("E4")
def test_nan_input_names_the_layer_and_infinities_pass():
    layer = nn.Linear(3, 2)
    x = np.ones((4, 3), dtype=np.float32)
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"Linear\(3, 2\): input of shape \(4, 3\) contains 1 NaN"):
        layer(dn.tensor(x))
    x[2, 1], x[0, 0] = np.inf, -np.inf  # the sum is NaN but there is no NaN: not an error
    with np.errstate(invalid="ignore"):
        assert layer(dn.tensor(x)).shape == (4, 2)


@pytest.mark.covers("E6")
def test_stack_without_activation_collapses_to_one_linear_map():
    """W3 (W2 (W1 x + b1) + b2) + b3 = (W3 W2 W1) x + (W3 W2 b1 + W3 b2 + b3), to rounding."""
    dn.manual_seed(3)
    stack = nn.Sequential(nn.Linear(6, 8), nn.Linear(8, 5), nn.Linear(5, 3)).double()
    w1, w2, w3 = (m.weight.numpy() for m in stack)
    b1, b2, b3 = (m.bias.numpy() for m in stack)
    single = nn.Linear(6, 3).double()
    with dn.no_grad():
        single.weight.data[:] = w3 @ w2 @ w1
        single.bias.data[:] = w3 @ (w2 @ b1 + b2) + b3
    (x,) = random_inputs([(20, 6)], seed=1)
    assert_close(stack(dn.tensor(x)), single(dn.tensor(x)), "collapsed stack", atol=1e-14, rtol=1e-13)


@pytest.mark.covers("E6")
def test_a_relu_between_layers_breaks_the_collapse():
    """With a ReLU in between, the best single affine map leaves a large residual."""
    dn.manual_seed(4)
    (x,) = random_inputs([(400, 2)], seed=2)
    linear_stack = nn.Sequential(nn.Linear(2, 16), nn.Linear(16, 1)).double()
    relu_stack = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1)).double()
    design = np.hstack([x, np.ones((len(x), 1))])

    def affine_fit_residual(model):
        y = model(dn.tensor(x)).numpy()[:, 0]
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        return np.linalg.norm(design @ coef - y) / np.linalg.norm(y - y.mean())

    assert affine_fit_residual(linear_stack) < 1e-12
    assert affine_fit_residual(relu_stack) > 1e-2


def _mlp_pair(sizes, activation):
    """The same MLP in deepnotes and torch: Linear, activation, ..., Linear (a head of sizes[-1] outputs)."""
    dn_layers, th_layers = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        dn_layers.append(nn.Linear(a, b))
        th_layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            dn_layers.append(getattr(nn, activation)())
            th_layers.append(getattr(torch.nn, activation)())
    return nn.Sequential(*dn_layers), torch.nn.Sequential(*th_layers)


@pytest.mark.covers("E5", "L1")
@pytest.mark.parametrize("activation", ["ReLU", "Tanh"])
def test_mlp_regression_head_matches_torch(activation):
    """Input 8 -> hidden 16 -> hidden 16 -> 1 output (e.g. a price), trained with MSE."""
    ours, theirs = _mlp_pair([8, 16, 16, 1], activation)
    x, y = random_inputs([(32, 8), (32, 1)], seed=5)
    losses = {nn.Sequential: nn.MSELoss(), torch.nn.Sequential: torch.nn.MSELoss()}
    check_module(ours, theirs, [x, y], call=lambda m, x, y: losses[type(m)](m(x), y))


@pytest.mark.covers("E5", "L2")
def test_mlp_classification_head_training_trajectory_matches_torch():
    """Input 4 -> hidden 16 -> 3 logits with cross-entropy; 25 SGD steps stay equal to torch's."""
    ours, theirs = _mlp_pair([4, 16, 3], "Tanh")
    ours.double()
    theirs.double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(ours.state_dict()[name].numpy()))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4))
    labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)  # three classes
    dn_loss_fn, th_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    dn_losses, th_losses = [], []
    for _ in range(25):
        ours.zero_grad()
        theirs.zero_grad()
        dn_loss = dn_loss_fn(ours(dn.tensor(x)), dn.tensor(labels))
        th_loss = th_loss_fn(theirs(torch.tensor(x)), torch.tensor(labels))
        dn_loss.backward()
        th_loss.backward()
        dn_losses.append(dn_loss.item())
        th_losses.append(th_loss.item())
        with dn.no_grad(), torch.no_grad():
            for p in ours.parameters():
                p.data -= 0.5 * p.grad
            for p in theirs.parameters():
                p -= 0.5 * p.grad
    np.testing.assert_allclose(dn_losses, th_losses, rtol=1e-10)
    assert dn_losses[-1] < 0.6 * dn_losses[0]  # it learns
    for name, p in theirs.named_parameters():
        assert_close(ours.state_dict()[name], p, f"{name} after 25 steps", atol=1e-10, rtol=1e-9)
