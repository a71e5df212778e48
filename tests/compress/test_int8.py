"""The integer path against the fake-quantized model: each layer within one quantization step."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.compress import int8, qmodel


@pytest.mark.covers("P2")
def test_fixed_point_multiplier():
    m = np.array([0.375, 1e-3, 0.9999999, 0.1234567])
    m0, shift = int8.quantize_multiplier(m)
    assert np.all((m0 >= 2 ** 30) & (m0 < 2 ** 31))
    np.testing.assert_allclose(m0 / 2.0 ** shift, m, rtol=2 ** -30)
    acc = np.array([1000, -1000, 12345, 7], dtype=np.int32)
    np.testing.assert_array_equal(int8.requantize(acc, m0, shift), np.floor(acc * (m0 / 2.0 ** shift) + 0.5))
    with pytest.raises(ValueError, match="quantize_multiplier"):
        int8.quantize_multiplier(0.0)


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(20, 24), nn.BatchNorm1d(24), nn.ReLU(), nn.Linear(24, 10)), (64, 20)),
    "conv1d": (lambda: nn.Sequential(nn.Conv1d(1, 6, 5, stride=2, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                                     nn.Conv1d(6, 6, 3, padding=1, dilation=1), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(60, 10)), (32, 1, 40)),
    "conv2d": (lambda: nn.Sequential(nn.Conv2d(2, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                                     nn.Conv2d(6, 6, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(96, 10)), (32, 2, 8, 8)),
}


@pytest.mark.covers("P2")
@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("per_channel", [True, False])
def test_each_integer_layer_is_within_one_step_of_the_fake_quantized_layer(name, per_channel):
    build, shape = MODELS[name]
    dn.manual_seed(0)
    model = build()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    model.train()
    model(dn.tensor(x))
    q = qmodel.quantize_ptq(model.eval(), [x], per_channel=per_channel)
    imodel = int8.convert_int8(q)
    # feed each integer layer the fake model's own (quantized) input and compare the outputs
    with dn.no_grad():
        h = q[0](dn.tensor(x))
        codes = imodel.quantize_input(x)
        np.testing.assert_allclose((codes.astype(np.float32) - imodel.in_zero_point) * imodel.in_scale, h.numpy(),
                                   atol=1e-6)
        layers = iter(s for k, s in imodel.steps if k == "int8")
        for stage in list(q)[1:]:
            out = stage(h)
            if isinstance(stage, qmodel.QuantStage):
                layer = next(layers)
                in_codes = np.rint(h.numpy() / layer.in_scale + layer.in_zero_point).astype(np.uint8)
                got = (layer(in_codes).astype(np.float64) - layer.out_zero_point) * layer.out_scale
                assert np.abs(got - out.numpy()).max() <= layer.out_scale * (1 + 1e-4)
                assert np.mean(np.abs(got - out.numpy()) > 1e-6) < 0.05  # most outputs agree exactly
            h = out
        whole = imodel(x)
    assert np.abs(whole - h.numpy()).max() <= 3 * imodel.out_scale
    assert whole.argmax(1).tolist() == h.numpy().argmax(1).tolist() or np.mean(whole.argmax(1) == h.numpy().argmax(1)) > 0.9
    assert imodel.nbytes() < sum(p.numpy().nbytes for p in model.parameters())


@pytest.mark.covers("P2")
def test_convert_needs_a_prepared_model():
    with pytest.raises(ValueError, match="convert_int8: expected a model from"):
        int8.convert_int8(nn.Sequential(nn.Linear(2, 2)))
