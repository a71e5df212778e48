"""`Tensor.data` and `Tensor.grad` are Tensors with PyTorch's semantics (issue: PyTorch compatibility).

`.data` is a detached tensor sharing the values (writes through it change the parameter, unseen by
autograd); `.grad` is a Tensor or None, accumulated by backward, cleared in place by
`zero_grad(set_to_none=False)`, and refused when its shape or dtype does not match.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnotes as dn
from deepnotes.errors import DTypeError, ShapeError
from tests.oracle import assert_close


def _pair(seed=0, shape=(3, 4)):
    values = np.random.default_rng(seed).standard_normal(shape)
    return dn.nn.Parameter(dn.tensor(values)), torch.nn.Parameter(torch.tensor(values))


@pytest.mark.covers("E1", "E3")
def test_data_is_a_detached_tensor_sharing_the_values():
    p, q = _pair()
    d, e = p.data, q.data
    assert isinstance(d, dn.Tensor) and not d.requires_grad and d.grad_fn is None
    assert e.requires_grad is False and e.grad_fn is None
    d.mul_(2.0), e.mul_(2.0)  # in place through .data, outside autograd
    d[0, 0] = 7.0
    e[0, 0] = 7.0
    assert_close(p, q, "parameter changed through .data")
    p.data = dn.zeros(2, 2)  # assigning replaces the values, shape included
    q.data = torch.zeros(2, 2, dtype=torch.float64)
    assert tuple(p.shape) == tuple(q.shape) == (2, 2)
    with pytest.raises(TypeError, match="Tensor.data"):
        p.data = [1.0, 2.0]


@pytest.mark.covers("E1", "E3")
def test_grad_is_a_tensor_with_the_tensor_methods_scripts_use():
    p, q = _pair(seed=1)
    for t, lib in ((p, dn), (q, torch)):
        (t * t).sum().backward()
    assert isinstance(p.grad, dn.Tensor) and not p.grad.requires_grad
    assert_close(p.grad, q.grad, "grad")
    assert_close(p.grad.norm(), q.grad.norm(), "grad.norm()")
    g, h = p.grad, q.grad
    for t in (p, q):
        (t * 3.0).sum().backward()  # accumulates into the same tensor object
    assert p.grad is g and q.grad is h
    assert_close(g, h, "accumulated grad")
    p.grad.zero_(), q.grad.zero_()
    assert_close(p.grad, q.grad, "grad.zero_()")
    assert float(p.grad.abs().sum()) == 0.0


@pytest.mark.covers("E3")
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_clears_like_pytorch(set_to_none):
    p, q = _pair(seed=2)
    ours, theirs = dn.optim.SGD([p], lr=0.1), torch.optim.SGD([q], lr=0.1)
    for t in (p, q):
        (t ** 2).sum().backward()
    g, h = p.grad, q.grad
    ours.zero_grad(set_to_none=set_to_none)
    theirs.zero_grad(set_to_none=set_to_none)
    assert (p.grad is None) == (q.grad is None) == set_to_none
    if not set_to_none:  # zeroed in place: a reference taken before sees the zeros
        assert p.grad is g and q.grad is h
        assert_close(g, h, "zeroed grad")


@pytest.mark.covers("E3")
def test_assigning_grad_checks_shape_and_dtype():
    p, _ = _pair()
    p.grad = dn.ones(3, 4, dtype=np.float64)
    assert isinstance(p.grad, dn.Tensor)
    p.grad = None
    assert p.grad is None
    with pytest.raises(ShapeError, match=r"Tensor.grad.*\(3, 4\).*\(2,\)"):
        p.grad = dn.ones(2, dtype=np.float64)
    with pytest.raises(DTypeError, match="Tensor.grad.*float64.*float32"):
        p.grad = dn.ones(3, 4)
    with pytest.raises(TypeError, match="Tensor.grad"):
        p.grad = [1.0, 2.0]


@pytest.mark.covers("E3", "O1")
def test_a_hand_written_sgd_step_through_data_and_grad_matches_torch():
    """The pre-optimizer idiom of old tutorials: p.data -= lr * p.grad.data, then p.grad.data.zero_()."""
    p, q = _pair(seed=3)
    x = np.random.default_rng(4).standard_normal((5, 3))
    for _ in range(3):
        for t, lib in ((p, dn), (q, torch)):
            loss = (lib.tensor(x) @ t).pow(2).mean()
            loss.backward()
            t.data -= 0.1 * t.grad.data
            t.grad.data.zero_()
    assert_close(p, q, "parameters after three hand-written steps")
    assert float(p.grad.abs().sum()) == 0.0
