"""train.diagnose: each finding fires on the pattern it names and stays quiet otherwise (O7, I6, I2)."""
import doctest
import importlib
from collections import OrderedDict

import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.optim as optim
from deepnotes.data import DataLoader, TensorDataset
from deepnotes.train import GradientMonitor, History, diagnose, fit

D = importlib.import_module("deepnotes.train.diagnose")  # the module (`train.diagnose` is the function)


def codes(findings):
    return sorted(f.code for f in findings)


def decaying(n=30, start=2.0, rate=0.85, floor=0.1):
    return [floor + (start - floor) * rate ** k for k in range(n)]


# ------------------------------------------------------------------ loss curves
@pytest.mark.covers("O7", "I6")
@pytest.mark.parametrize("losses,fires", [
    (decaying(10) + [float("nan")], True),
    (decaying(10) + [float("inf")], True),
    (decaying(10) + [0.5, 0.6, 0.75, 0.9], True),  # rising 3 epochs in a row, +80%
    (decaying(10) + [0.5, 0.502, 0.504, 0.506], False),  # rising, but by 1% only
    (decaying(10) + [0.5, 0.6, 0.55, 0.9], False),  # not rising every epoch
    (decaying(20), False),
])
def test_divergence(losses, fires):
    finding = D.check_divergence(losses)
    assert (finding is not None) == fires
    if fires:
        assert finding.code == "divergence" and finding.evidence["reason"] in ("non-finite", "rising")
        assert codes(diagnose(losses)).count("divergence") == 1


@pytest.mark.covers("O7")
def test_oscillation():
    zigzag = [1.0 + 0.4 * (-1) ** k for k in range(15)]
    assert codes(diagnose(zigzag)) == ["oscillation"]
    assert diagnose(zigzag)[0].evidence["flip_fraction"] == 1.0
    jitter = [1.0 + 0.01 * (-1) ** k for k in range(15)]  # flips, but small swings: noise, not a bad lr
    assert D.check_oscillation(jitter) is None
    assert D.check_oscillation(decaying(15)) is None


@pytest.mark.covers("O7")
def test_lr_too_low():
    crawl = [3.0 - 0.001 * k for k in range(40)]  # the same tiny gain every epoch
    finding = D.check_lr_too_low(crawl)
    assert finding is not None and finding.evidence["relative_change"] < 0.05
    assert codes(diagnose(crawl)) == ["lr_too_low"]
    assert D.check_lr_too_low(decaying(40)) is None  # converging: the gains shrink geometrically
    assert D.check_lr_too_low([3.0 - 0.05 * k for k in range(40)]) is None  # 33% in 20 epochs: fine
    noisy = [1.0 + 0.002 * np.sin(3 * k) for k in range(40)]  # a plateau, not a crawl
    assert D.check_lr_too_low(noisy) is None
    assert D.check_lr_too_low([1e-5 - 1e-9 * k for k in range(40)]) is None  # already converged
    assert D.check_lr_too_low(crawl[:15]) is None  # too short to tell


@pytest.mark.covers("O7")
def test_overfitting_from_a_history():
    history = History()
    for k, (tr, va) in enumerate(zip(decaying(12), decaying(8) + [0.45, 0.5, 0.55, 0.6])):
        history.append({"epoch": k, "train_loss": tr, "val_loss": va})
    assert codes(diagnose(history)) == ["overfitting"]
    healthy = {"train_loss": decaying(12), "val_loss": decaying(12, start=2.5)}
    assert diagnose(healthy) == []


@pytest.mark.covers("O7", "I6")
def test_real_runs_with_learning_rates_too_low_right_and_too_high():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x @ rng.normal(size=(4, 1)) + 0.1 * rng.normal(size=(64, 1))).astype(np.float32)
    loader = DataLoader(TensorDataset(x, y), batch_size=64)
    found = {}
    for lr in (1e-4, 0.1, 1.2):
        dn.manual_seed(0)
        model = nn.Linear(4, 1)
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(model, nn.functional.mse_loss, optim.SGD(model.parameters(), lr=lr), loader, epochs=40,
                          metrics=(), progress=False)
        found[lr] = codes(diagnose(history))
    assert found == {1e-4: ["lr_too_low"], 0.1: [], 1.2: ["divergence"]}


# ------------------------------------------------------------------ gradients
@pytest.mark.covers("I2", "I6")
@pytest.mark.parametrize("norms,expected", [
    ([1e-6, 1e-4, 1e-2, 1.0], ["vanishing_gradients"]),
    ([0.5, 0.8, 0.6, 1.0], []),
    ([1e4, 1e2, 1.0, 0.1], ["exploding_gradients"]),
    ([0.5, float("nan"), 1.0], ["exploding_gradients"]),
    ([5e3, 4e3, 3e3], ["exploding_gradients"]),  # balanced, but huge
    ([1e-9, 1e-9, 1e-9], ["vanishing_gradients"]),  # balanced, but all but zero
])
def test_gradient_findings_from_norms(norms, expected):
    grads = OrderedDict((f"{i}.weight", v) for i, v in enumerate(norms))
    findings = diagnose(monitor=grads)
    assert codes(findings) == expected
    for f in findings:
        assert f.evidence["grad_norms"] == dict(grads)


def deep_mlp(activation, depth=8, width=32, he_init=False):
    layers, d = [], 10
    for _ in range(depth):
        linear = nn.Linear(d, width)
        if he_init:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, 1))


@pytest.mark.covers("I2", "I6", "A1")
def test_deep_sigmoid_net_is_flagged_and_relu_with_he_init_is_not():
    rng = np.random.default_rng(0)
    x = dn.tensor(rng.normal(size=(64, 10)).astype(np.float32))
    y = dn.tensor(rng.normal(size=(64, 1)).astype(np.float32))
    results = {}
    for name, model in (("sigmoid", deep_mlp(nn.Sigmoid)), ("relu_he", deep_mlp(nn.ReLU, he_init=True))):
        monitor = GradientMonitor().attach(model)
        opt = optim.SGD(model.parameters(), lr=0.01)
        for _ in range(3):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            monitor.record()
            opt.step()
        monitor.detach()
        results[name] = diagnose(model=model, batch=(x, y), monitor=monitor)
    assert codes(results["sigmoid"]) == ["vanishing_gradients"]
    assert results["sigmoid"][0].evidence["first_to_last_ratio"] < 1e-5  # measured: 7e-8 through 8 sigmoids
    assert results["relu_he"] == []


# ------------------------------------------------------------------ model and data
@pytest.mark.covers("A3", "I6")
def test_dead_relu_units():
    model = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 2))
    x = dn.randn(32, 6)
    assert D.check_dead_relu(model, x) is None
    with dn.no_grad():
        model[0].bias.data[:6] = -100.0  # six units that no input can switch on
    finding = D.check_dead_relu(model, (x, None))
    assert finding is not None and finding.evidence["dead_fractions"] == {"1": 0.6}
    assert finding.evidence["batch_size"] == 32
    model[0].bias.data[:6] = 0.0
    model[0].bias.data[:2] = -100.0  # 20% dead: below the 30% threshold
    assert D.check_dead_relu(model, x) is None
    assert D.check_dead_relu(model, x, max_dead_fraction=0.1) is not None


@pytest.mark.covers("A3", "I6")
def test_dead_relu_channels_in_a_conv_net_and_modes_are_restored():
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    with dn.no_grad():
        model[0].bias.data[:2] = -100.0
    model.train()
    fractions = D.dead_relu_fractions(model, dn.randn(5, 2, 6, 6))
    assert fractions == {"1": 0.5}
    assert all(m.training for m in model.modules())
    assert not any(m.has_hooks for m in model.modules())


@pytest.mark.covers("I6")
def test_unnormalized_inputs():
    rng = np.random.default_rng(0)
    standardized = rng.normal(size=(100, 8))
    assert D.check_inputs(standardized) is None
    pixels = rng.uniform(0, 255, size=(100, 8))
    finding = D.check_inputs((pixels, None))
    assert finding is not None and finding.evidence["n_flagged"] == 8 and finding.evidence["max_abs_mean"] > 100
    mixed = standardized.copy()
    mixed[:, 3] = mixed[:, 3] * 1000 + 5000  # one feature in other units (a price next to ratios)
    finding = D.check_inputs(mixed)
    assert finding.evidence["n_flagged"] == 1 and finding.evidence["worst_features"] == [3]
    assert D.check_inputs(standardized * 1e-4) is not None  # everything squashed to nothing
    images = rng.uniform(0, 1, size=(10, 3, 4, 4))  # channels are the features; [0, 1] pixels are fine
    assert D.check_inputs(images) is None


@pytest.mark.covers("I6")
def test_healthy_run_reports_nothing_and_report_formats():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype(np.float32)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    findings = diagnose(decaying(30), model=model, batch=(x, None), monitor={"0.weight": 0.3, "2.weight": 0.5})
    assert findings == [] and D.report(findings) == "no problems found"
    text = D.report(diagnose([1.0, float("nan")]))
    assert text.startswith("[divergence]")


@pytest.mark.covers("I6")
def test_docstring_examples():
    result = doctest.testmod(D, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
