"""The Tensor class (src/deepnotes/autograd/tensor.py): dtypes, conversions, NumPy interop, basics."""
import numpy as np
import pytest
import torch

import deepnotes as dn
from tests.doctests import assert_examples_run


@pytest.mark.covers("E1")
@pytest.mark.parametrize("data,dtype", [
    ([1.0, 2.0], np.float32),
    ([1, 2], np.int64),
    ([True, False], np.bool_),
    (3.5, np.float32),
    (7, np.int64),
    (np.array([1.0, 2.0]), np.float64),            # NumPy arrays keep their dtype
    (np.array([1.0], dtype=np.float32), np.float32),
    (np.array([1, 2], dtype=np.int32), np.int32),
])
def test_dtype_of_new_tensors_follows_torch(data, dtype):
    assert dn.tensor(data).dtype == dtype
    expected = torch.tensor(data).numpy().dtype if not isinstance(data, np.ndarray) else data.dtype
    assert dn.tensor(data).dtype == expected


@pytest.mark.covers("E1")
@pytest.mark.parametrize("make,expected", [
    (lambda: dn.tensor([1.0, 2.0]) * 2.5, np.float32),          # a Python float does not upcast
    (lambda: 2.5 * dn.tensor([1.0, 2.0]), np.float32),
    (lambda: dn.tensor([1.0, 2.0]) * np.sqrt(2.0), np.float32),  # nor a NumPy float scalar
    (lambda: dn.tensor([1.0, 2.0]) + 1, np.float32),
    (lambda: dn.tensor([1, 2]) * 0.5, np.float32),              # int tensor * float -> float32
    (lambda: 0.5 - dn.tensor([1, 2]), np.float32),
    (lambda: dn.tensor([1, 2]) * 3, np.int64),
    (lambda: dn.tensor([1, 2]) / 2, np.float32),                # true division
    (lambda: dn.tensor([1, 2]) / dn.tensor([3, 4]), np.float32),
    (lambda: dn.tensor([1, 2]) + dn.tensor([1.0, 2.0]), np.float32),  # int + float32 -> float32
    (lambda: dn.tensor([1.0]) + dn.tensor(np.array([1.0])), np.float64),  # float32 + float64 -> float64
    (lambda: dn.tensor([True, False]) + 1, np.int64),
    (lambda: dn.tensor(np.ones(2, dtype=np.float64)) * 2.5, np.float64),
    (lambda: dn.tensor([1, 2]) ** 2, np.int64),
    (lambda: dn.maximum(dn.tensor([1, 2]), 1.5), np.float32),
])
def test_binary_op_dtypes_follow_torch(make, expected):
    assert make().dtype == expected


@pytest.mark.covers("E1")
def test_conversions():
    x = dn.tensor([1.7, -2.2])
    assert x.double().dtype == np.float64 and x.double().float().dtype == np.float32
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.float() is x  # no-op conversion returns the same tensor
    assert x.to(np.float64).dtype == np.float64


@pytest.mark.covers("E1")
def test_a_differentiable_cast_keeps_the_graph_and_casts_the_gradient_back():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * dn.tensor(np.array([3.0, 4.0]))
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 4.0]
    assert x.long().requires_grad is False


@pytest.mark.covers("E1")
def test_only_floating_tensors_can_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got dtype int64"):
        dn.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="cannot require gradients"):
        dn.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        (dn.tensor([1.0], requires_grad=True) * 2).requires_grad_(False)


@pytest.mark.covers("E1")
def test_numpy_ufuncs_refuse_tensors_but_operators_defer_to_them():
    t = dn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        np.exp(t)  # would silently drop the graph
    out = np.array([2.0, 3.0]) * t
    assert isinstance(out, dn.Tensor) and out.requires_grad
    out = np.ones((2, 2), dtype=np.float32) @ t  # float64 @ float32 is refused, as in PyTorch
    assert isinstance(out, dn.Tensor) and out.shape == (2,)
    assert np.asarray(t.detach()).tolist() == [1.0, 2.0]


@pytest.mark.covers("E1")
def test_detach_and_clone():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.data, x.data)
    c = x.clone()
    assert c.requires_grad and not np.shares_memory(c.data, x.data)
    (c * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


@pytest.mark.covers("E1")
def test_basics():
    x = dn.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.dim() == 2 and x.ndim == 2
    assert x.numel() == 6 and len(x) == 2 and x.is_leaf
    assert x[1, 2].item() == 5.0
    with pytest.raises(ValueError, match="only a one-element tensor"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    assert (x > 2).dtype == np.bool_ and (x > 2).tolist() == [[False, False, False], [True, True, True]]
    assert (x == x).data.all()
    assert "grad_fn=<MulBackward>" in repr(dn.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(dn.tensor(np.ones(1)))


@pytest.mark.covers("E1")
def test_setitem_refuses_to_corrupt_a_graph_but_works_under_no_grad():
    x = dn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place assignment"):
        x[0] = 5.0
    with dn.no_grad():
        x[0] = 5.0
    assert x.tolist() == [5.0, 2.0, 3.0]
    y = dn.tensor([1.0, 2.0])
    y[dn.tensor([True, False])] = dn.tensor(9.0)
    assert y.tolist() == [9.0, 2.0]


@pytest.mark.covers("E1")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.autograd.tensor")
