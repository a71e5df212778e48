"""Fake quantization and observers against PyTorch (forward, straight-through gradient, qparams)."""
import numpy as np
import pytest
import torch
from torch.ao import quantization as tq

import deepnotes as dn
from deepnotes.compress import quantize as Q
from tests.oracle import check_fn


def inputs(rng, shape, scale, dtype, ties):
    x = rng.standard_normal(shape) * 3
    if ties:  # exactly half-way between two levels: round half to even decides
        x = (np.round(x / scale * 2) / 2 + 0.5 * (np.round(x / scale * 2) % 2 == 0)) * scale
    return x.astype(dtype)


@pytest.mark.covers("P2")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ties", [False, True])
def test_fake_quantize_per_tensor_matches_torch(dtype, ties):
    rng = np.random.default_rng(int(ties))
    for _ in range(5):
        scale, zp = 2.0 ** -int(rng.integers(1, 5)), int(rng.integers(-20, 40))  # powers of 2: exact halves
        x = inputs(rng, (4, 9), scale, dtype, ties)
        check_fn(lambda t: Q.fake_quantize_per_tensor_affine(t, scale, zp, -20, 40),
                 lambda t: torch.fake_quantize_per_tensor_affine(t, scale, zp, -20, 40), [x], atol=0, rtol=0)
    for _ in range(5):  # any scale, not only powers of two
        scale, zp = float(rng.uniform(0.003, 0.5)), int(rng.integers(-20, 40))
        x = (rng.standard_normal((4, 9)) * 3).astype(dtype)
        check_fn(lambda t: Q.fake_quantize_per_tensor_affine(t, scale, zp, -20, 40),
                 lambda t: torch.fake_quantize_per_tensor_affine(t, scale, zp, -20, 40), [x], atol=0, rtol=0)
    x = dn.tensor(np.array([0.5, 1.5, 2.5, -0.5, -2.5], dtype=dtype))
    assert Q.fake_quantize_per_tensor_affine(x, 1.0, 0, -8, 7).numpy().tolist() == [0, 2, 2, 0, -2]


@pytest.mark.covers("P2")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_fake_quantize_per_channel_matches_torch(dtype, axis):
    rng = np.random.default_rng(axis + 5)
    x = (rng.standard_normal((3, 5, 4)) * 2).astype(dtype)
    c = x.shape[axis]
    scale = rng.uniform(0.01, 0.3, size=c).astype(np.float32)
    zp = rng.integers(-10, 10, size=c).astype(np.int32)
    check_fn(lambda t: Q.fake_quantize_per_channel_affine(t, scale, zp, axis, -16, 15),
             lambda t: torch.fake_quantize_per_channel_affine(t, torch.from_numpy(scale), torch.from_numpy(zp), axis,
                                                              -16, 15), [x], atol=0, rtol=0)


@pytest.mark.covers("P2")
def test_straight_through_gradient_is_zero_only_where_clamped():
    x = dn.tensor(np.array([-9.0, -1.2, 0.0, 3.4, 9.0]), requires_grad=True)
    Q.fake_quantize_per_tensor_affine(x, 1.0, 0, -4, 3).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def observed(ours, theirs, batches):
    for b in batches:
        ours(dn.tensor(b))
        theirs(torch.from_numpy(b))
    scale, zp = ours.calculate_qparams()
    tscale, tzp = theirs.calculate_qparams()
    np.testing.assert_array_equal(np.atleast_1d(scale), tscale.numpy())
    np.testing.assert_array_equal(np.atleast_1d(zp), tzp.numpy().astype(np.int64))


@pytest.mark.covers("P2")
@pytest.mark.parametrize("kwargs", [
    {}, {"dtype": "qint8", "qscheme": "per_tensor_symmetric"}, {"qscheme": "per_tensor_symmetric"},
    {"quant_min": 0, "quant_max": 15}, {"dtype": "qint8"}])
def test_minmax_observers_match_torch(kwargs):
    rng = np.random.default_rng(len(kwargs))
    batches = [(rng.standard_normal(64) * 2 + 0.7).astype(np.float32) for _ in range(3)]
    tkw = {k: (getattr(torch, v) if k in ("dtype", "qscheme") else v) for k, v in kwargs.items()}
    observed(Q.MinMaxObserver(**kwargs), tq.MinMaxObserver(**tkw), batches)
    observed(Q.MovingAverageMinMaxObserver(averaging_constant=0.2, **kwargs),
             tq.MovingAverageMinMaxObserver(averaging_constant=0.2, **tkw), batches)


@pytest.mark.covers("P2")
@pytest.mark.parametrize("qscheme,dtype", [("per_channel_affine", "quint8"), ("per_channel_symmetric", "qint8")])
def test_per_channel_observer_matches_torch(qscheme, dtype):
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((4, 6, 5)).astype(np.float32) for _ in range(2)]
    observed(Q.PerChannelMinMaxObserver(ch_axis=1, dtype=dtype, qscheme=qscheme),
             tq.PerChannelMinMaxObserver(ch_axis=1, dtype=getattr(torch, dtype), qscheme=getattr(torch, qscheme)),
             batches)


@pytest.mark.covers("P2")
def test_percentile_observer_clips_outliers_and_fake_quantize_modes():
    x = np.concatenate([np.linspace(-1, 1, 9999), [50.0]]).astype(np.float32)
    wide, narrow = Q.MinMaxObserver(), Q.PercentileObserver(99.9)
    wide(dn.tensor(x))
    narrow(dn.tensor(x))
    assert narrow.calculate_qparams()[0] < wide.calculate_qparams()[0] / 10
    fq = Q.FakeQuantize(Q.MinMaxObserver())
    fq.enable_fake_quant(False)
    t = dn.tensor(np.array([0.0, 0.1, 1.0], dtype=np.float32))
    assert np.array_equal(fq(t).numpy(), t.numpy())  # calibration: observe only
    fq.enable_observer(False).enable_fake_quant(True)
    out = fq(dn.tensor(np.array([0.1, 2.0], dtype=np.float32))).numpy()
    assert out[1] == pytest.approx(1.0, abs=1e-6) and abs(out[0] - 0.1) <= fq.scale.data[0] / 2


@pytest.mark.covers("P2")
def test_bad_arguments_name_the_function_and_value():
    x = dn.tensor(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"fake_quantize_per_tensor_affine: zero_point=300"):
        Q.fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255)
    with pytest.raises(ValueError, match=r"fake_quantize_per_channel_affine: scale and zero_point need 3"):
        Q.fake_quantize_per_channel_affine(x, np.ones(2), np.zeros(2), 0, 0, 255)
    with pytest.raises(ValueError, match="qscheme must be one of"):
        Q.MinMaxObserver(qscheme="per_channel_affine")
    with pytest.raises(RuntimeError, match="nothing observed"):
        Q.MinMaxObserver().calculate_qparams()
