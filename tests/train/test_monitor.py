"""GradientMonitor: per-layer gradient and activation norms, as a fit callback and by hand (I2, I6, O7)."""

import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.optim as optim
from deepnotes.data import DataLoader, TensorDataset
from deepnotes.train import GradientMonitor, fit
from deepnotes.train.monitor import capture_outputs
from tests.doctests import assert_examples_run

cross_entropy = nn.functional.cross_entropy


def _data(n=40, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    return TensorDataset(x, np.argmax(x[:, :classes], axis=1).astype(np.int64))


def _mlp():
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))


@pytest.mark.covers("I2", "I6")
@pytest.mark.parametrize("every", [1, 3])
def test_records_every_step_of_fit_with_layer_names(every):
    model = _mlp()
    monitor = GradientMonitor(every=every)
    loader = DataLoader(_data(), batch_size=8, shuffle=True)
    fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), loader, val_loader=loader, epochs=3,
        callbacks=[monitor], progress=False)
    total = 3 * 5  # epochs x batches
    assert monitor.steps == list(range(0, total, every))
    assert list(monitor.grad_norms) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert list(monitor.activation_norms) == ["0", "2", "4"]  # the Linear layers
    for values in (*monitor.grad_norms.values(), *monitor.activation_norms.values()):
        assert len(values) == len(monitor.steps) and np.all(np.isfinite(values)) and min(values) > 0
    assert list(monitor.latest()) == ["0.weight", "2.weight", "4.weight"]
    assert not any(m.has_hooks for m in model.modules())  # detached at the end of training


@pytest.mark.covers("I2")
def test_recorded_values_are_the_gradient_norms_and_activation_rms():
    model = _mlp().double()
    monitor = GradientMonitor().attach(model)
    rng = np.random.default_rng(1)
    expected_grads, expected_acts = [], []
    for _ in range(3):
        x = dn.tensor(rng.normal(size=(6, 5)))
        model.zero_grad()
        h0 = model[0](x)  # the first layer's output, computed separately for the expectation
        expected_acts.append(np.sqrt(np.mean(h0.numpy() ** 2)))
        model(x).pow(2).mean().backward()
        expected_grads.append(np.linalg.norm(model[2].weight.grad.numpy()))
        monitor.record()
    monitor.detach()
    # The separate call above also went through the wrapped layer; the monitor keeps the last training forward.
    np.testing.assert_allclose(monitor.grad_norms["2.weight"], expected_grads, rtol=1e-12)
    np.testing.assert_allclose(monitor.activation_norms["0"], expected_acts, rtol=1e-12)


@pytest.mark.covers("I2")
def test_validation_forwards_are_not_recorded():
    model = _mlp()
    monitor = GradientMonitor().attach(model)
    x = dn.randn(4, 5)
    model.eval()
    model(x)
    with dn.no_grad():
        model.train()
        model(x)
    monitor.record()  # no training forward since the last record
    assert all(np.isnan(v[-1]) for v in monitor.activation_norms.values())
    assert all(np.isnan(v[-1]) for v in monitor.grad_norms.values())  # and no gradients yet
    monitor.detach()


@pytest.mark.covers("I2")
def test_wrappers_nest_and_unwind():
    model = _mlp()
    before = model(dn.ones(2, 5)).numpy().copy()
    monitor = GradientMonitor().attach(model)
    with capture_outputs(model, (nn.Linear, nn.ReLU)) as outputs:
        during = model(dn.ones(2, 5)).numpy()
    assert [len(v) for v in outputs.values()] == [1, 1, 1, 1]
    assert model[0].has_hooks  # the monitor's hook is still there
    monitor.detach()
    assert not any(m.has_hooks for m in model.modules())
    np.testing.assert_array_equal(before, during)
    np.testing.assert_array_equal(before, model(dn.ones(2, 5)).numpy())


@pytest.mark.covers("I2")
def test_plot_and_bad_arguments(tmp_path):
    model = _mlp()
    monitor = GradientMonitor(model).attach()
    for _ in range(4):
        model.zero_grad()
        model(dn.randn(4, 5)).pow(2).mean().backward()
        monitor.record()
    monitor.detach()
    out = monitor.plot(tmp_path / "norms.png")
    assert out.exists() and out.stat().st_size > 5_000
    with pytest.raises(ValueError, match="every"):
        GradientMonitor(every=0)
    with pytest.raises(ValueError, match="no model"):
        GradientMonitor().attach()


@pytest.mark.covers("I2")
def test_docstring_examples():
    assert_examples_run("deepnotes.train.monitor")
