"""Tensor factories (src/deepnotes/autograd/creation.py)."""
import numpy as np
import pytest
import torch

import deepnotes as dn


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_ones(name):
    for t in (getattr(dn, name)(2, 3), getattr(dn, name)((2, 3))):
        assert t.shape == (2, 3) and t.dtype == np.float32
        np.testing.assert_array_equal(t.data, getattr(torch, name)(2, 3).numpy())
    assert getattr(dn, name)(3, dtype=np.int64).dtype == np.int64
    assert getattr(dn, name)(2, requires_grad=True).requires_grad


@pytest.mark.covers("E1")
def test_full_and_like_factories():
    assert dn.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    x = dn.tensor(np.ones((2, 3)))
    assert dn.zeros_like(x).dtype == np.float64 and dn.ones_like(x).shape == (2, 3)
    assert dn.zeros_like(x, dtype=np.float32).dtype == np.float32


@pytest.mark.covers("E1")
@pytest.mark.parametrize("args,kwargs", [((5,), {}), ((1, 4), {}), ((0, 1, 0.25), {}), ((3.0,), {}),
                                         ((5,), {"dtype": np.float64})])
def test_arange_like_torch(args, kwargs):
    t_kwargs = {"dtype": torch.float64} if kwargs else {}
    expected = torch.arange(*args, **t_kwargs).numpy()
    out = dn.arange(*args, **kwargs)
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected)


@pytest.mark.covers("E1")
def test_linspace():
    np.testing.assert_allclose(dn.linspace(0, 1, 5).data, torch.linspace(0, 1, 5).numpy())


@pytest.mark.covers("E1")
def test_random_factories_are_reproducible_and_use_the_global_generator():
    dn.manual_seed(3)
    a = dn.randn(4, 2)
    b = dn.rand(3)
    c = dn.randint(0, 5, (10,))
    dn.manual_seed(3)
    np.testing.assert_array_equal(a.data, dn.randn(4, 2).data)
    np.testing.assert_array_equal(b.data, dn.rand(3).data)
    np.testing.assert_array_equal(c.data, dn.randint(0, 5, (10,)).data)
    assert a.dtype == np.float32 and c.dtype == np.int64 and 0 <= c.data.min() and c.data.max() < 5
    assert 0 <= b.data.min() and b.data.max() < 1
    gen = np.random.default_rng(0)
    np.testing.assert_array_equal(dn.randn(3, generator=gen).data,
                                  np.random.default_rng(0).standard_normal(3).astype(np.float32))


@pytest.mark.covers("E1")
def test_tensor_copies_and_from_numpy_shares():
    arr = np.zeros(3)
    t = dn.tensor(arr)
    s = dn.from_numpy(arr)
    arr[0] = 1.0
    assert t.data[0] == 0.0 and s.data[0] == 1.0 and s.dtype == np.float64


@pytest.mark.covers("E1")
def test_tensor_rejects_unconvertible_data():
    with pytest.raises(TypeError, match="cannot build a tensor"):
        dn.tensor([object()])
