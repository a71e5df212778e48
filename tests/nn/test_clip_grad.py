"""Gradient clipping against torch.nn.utils (I3)."""
import numpy as np
import pytest
import torch

import deepnotes as dn
from deepnotes.nn.utils import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from tests.oracle import assert_close

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]


def _pairs(seed, scale=1.0, dtype=np.float64, missing=()):
    """deepnotes and torch parameters with the same random gradients; indices in `missing` have none."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        data = np.asarray(rng.normal(size=shape), dtype=dtype)
        p, q = dn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        if i not in missing:
            grad = np.asarray(scale * rng.normal(size=shape), dtype=dtype)
            p.grad, q.grad = dn.tensor(grad.copy()), torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


def _assert_grads_close(ours, theirs, what):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        if q.grad is None:
            assert p.grad is None, f"{what}: parameter {i} gained a gradient"
        else:
            assert_close(p.grad.numpy(), q.grad.numpy(), f"{what}: grad {i}")


@pytest.mark.covers("I3")
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0, 0.5, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pairs(seed=int(max_norm), missing=(1,))
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    total_ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, dn.Tensor) and total.shape == ()
    assert_close(total, total_ref, "total norm")
    _assert_grads_close(ours, theirs, f"norm_type={norm_type}")


@pytest.mark.covers("I3")
def test_clip_grad_norm_keeps_the_direction_and_reaches_max_norm():
    ours, _ = _pairs(seed=3, scale=10.0)
    before = np.concatenate([p.grad.numpy().ravel() for p in ours])
    total = clip_grad_norm_(ours, 2.0)
    after = np.concatenate([p.grad.numpy().ravel() for p in ours])
    np.testing.assert_allclose(total.item(), np.linalg.norm(before), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(after), 2.0, rtol=1e-5)  # 2 / (total + 1e-6) * total
    np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before), rtol=1e-12)


@pytest.mark.covers("I3")
def test_clip_grad_norm_float32_single_tensor_and_empty():
    ours, theirs = _pairs(seed=5, dtype=np.float32)
    total = clip_grad_norm_(ours[0], 0.1)
    total_ref = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    assert_close(total, total_ref, "float32 total norm", rtol=1e-6)
    assert_close(ours[0].grad.numpy(), theirs[0].grad.numpy(), "float32 clipped grad", rtol=1e-6, atol=1e-7)
    no_grads = [dn.zeros(3, requires_grad=True)]
    assert clip_grad_norm_(no_grads, 1.0).item() == 0.0 and no_grads[0].grad is None


@pytest.mark.covers("I3")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_norm_raises_on_request_else_scales_like_torch(bad):
    ours, theirs = _pairs(seed=7)
    ours[0].grad.numpy()[0, 0] = bad
    theirs[0].grad.numpy()[0, 0] = bad
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(ours, 1.0)
    total_ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert_close(total, total_ref, "non-finite total norm")
    _assert_grads_close(ours, theirs, "scaled by a non-finite norm")


@pytest.mark.covers("I3")
def test_total_norm_and_clip_with_norm_match_torch():
    ours, theirs = _pairs(seed=11, missing=(2,))
    total = get_total_norm([p.grad for p in ours if p.grad is not None], norm_type=3.0)
    total_ref = torch.nn.utils.get_total_norm([q.grad for q in theirs if q.grad is not None], norm_type=3.0)
    assert_close(total, total_ref, "get_total_norm")
    clip_grads_with_norm_(ours, 0.7, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.7, total_ref)
    _assert_grads_close(ours, theirs, "clip_grads_with_norm_")


@pytest.mark.covers("I3")
@pytest.mark.parametrize("clip_value", [0.3, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = _pairs(seed=13, missing=(0,))
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    _assert_grads_close(ours, theirs, f"clip_value={clip_value}")
    assert all(np.all(np.abs(p.grad.numpy()) <= clip_value) for p in ours if p.grad is not None)


@pytest.mark.covers("I3")
def test_clipping_by_value_can_turn_the_gradient_but_by_norm_cannot():
    p = dn.tensor(np.zeros(2), requires_grad=True)
    p.grad = np.array([10.0, 1.0])
    clip_grad_value_([p], 1.0)
    assert np.allclose(p.grad.numpy(), [1.0, 1.0])  # the direction changed from (10, 1) to (1, 1)
    p.grad = np.array([10.0, 1.0])
    clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(p.grad.numpy()[0] / p.grad.numpy()[1], 10.0, rtol=1e-12)
