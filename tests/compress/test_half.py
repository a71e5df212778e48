"""float16: overflow, underflow, and mixed-precision training with dynamic loss scaling."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim
from deepnotes.compress import half


@pytest.mark.covers("P2")
def test_fp16_range_overflow_and_underflow():
    assert half.FP16_MAX == 65504.0 and half.FP16_MIN_NORMAL == 2.0 ** -14
    report = half.cast_report([70000.0, 65504.0, 1e-8, 3e-6, 1.0 / 3])
    assert report["overflow"] == 1 and report["underflow"] == 1 and report["subnormal"] == 1
    assert 0 < report["max_relative_error"] <= 2.0 ** -11


@pytest.mark.covers("P2")
def test_grad_scaler_skips_inf_steps_and_adjusts_the_scale():
    p = dn.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    scaler = half.GradScaler(init_scale=8.0, growth_interval=2)
    p.grad = dn.tensor(np.array([np.inf, 1.0], dtype=np.float32))
    assert not scaler.step(opt) and np.array_equal(p.numpy(), [1, 1])
    scaler.update()
    assert scaler.get_scale() == 4.0
    for _ in range(2):
        p.grad = dn.tensor(np.array([4.0, 4.0], dtype=np.float32))
        assert scaler.step(opt)
        scaler.update()
    assert scaler.get_scale() == 8.0 and np.allclose(p.numpy(), 1 - 2 * 0.1 * 1.0)
    with pytest.raises(ValueError, match="GradScaler"):
        half.GradScaler(growth_factor=0.5)


def trainer(scaler, seed=0):
    dn.manual_seed(seed)
    master = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    dn.manual_seed(seed)
    model16 = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.SGD(master.parameters(), lr=0.5)
    return half.MixedPrecisionTrainer(master, model16, opt, nn.CrossEntropyLoss(), scaler)


@pytest.mark.covers("P2")
def test_loss_scaling_keeps_small_gradients_that_underflow_without_it():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((32, 8)) * 1e-6).astype(np.float32)  # tiny inputs: tiny weight gradients
    y = rng.integers(0, 3, 32)
    plain, scaled = trainer(None), trainer(half.GradScaler(init_scale=2.0 ** 12))
    plain.step(x, y)
    scaled.step(x, y)
    assert plain.zero_grad_fraction[0] > scaled.zero_grad_fraction[0] + 0.2
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    losses = [scaled.step(x, y) for _ in range(30)]
    assert losses[-1] < 0.8 * losses[0] and scaled.master[0].weight.numpy().dtype == np.float32
