"""Reductions (src/deepnotes/ops/reduce.py) against PyTorch, over any axes, with keepdim and ties."""
import warnings

import numpy as np
import pytest
import torch

import deepnotes as dn
from tests.oracle import check_fn, check_grad_grad, random_inputs

SHAPE_DIMS = [((), None), ((5,), None), ((5,), 0), ((2, 3, 4), None), ((2, 3, 4), -1), ((2, 3, 4), (0, 2)),
              ((2, 1, 4), 1), ((1, 1), (0, 1))]


def _torch_dim(dim, ndim):
    return tuple(range(ndim)) if dim is None else dim


def _ties(shape, seed=0):
    """Values from {-1, 0, 1}: plenty of tied maxima and minima."""
    return np.random.default_rng(seed).integers(-1, 2, size=shape).astype(np.float64)


@pytest.mark.covers("E1")
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, shape, dim, keepdim):
    (a,) = random_inputs([shape])
    if dim is None and not keepdim:
        check_fn(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), [a])
        check_fn(getattr(dn, name), getattr(torch, name), [a])
    td = _torch_dim(dim, len(shape))
    check_fn(lambda x: getattr(x, name)(dim, keepdim), lambda x: getattr(x, name)(td, keepdim), [a])


@pytest.mark.covers("E1")
def test_numpy_style_axis_keepdims_aliases():
    (a,) = random_inputs([(2, 3)])
    check_fn(lambda x: x.sum(axis=1, keepdims=True), lambda x: x.sum(1, keepdim=True), [a])
    check_fn(lambda x: x.mean(axis=0), lambda x: x.mean(0), [a])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((6,), None), ((3, 4), 0), ((2, 3, 4), (0, 2)), ((2, 3, 4), -1)])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_and_std(shape, dim, keepdim, correction):
    (a,) = random_inputs([shape], seed=1)
    td = _torch_dim(dim, len(shape))
    check_fn(lambda x: x.var(dim, keepdim=keepdim, correction=correction),
             lambda x: x.var(td, keepdim=keepdim, correction=correction), [a])
    unbiased = bool(correction)
    check_fn(lambda x: x.var(dim, unbiased, keepdim),
             lambda x: torch.var(x, td, unbiased=unbiased, keepdim=keepdim), [a])
    check_fn(lambda x: dn.var(x, dim, unbiased=unbiased), lambda x: torch.var(x, td, unbiased=unbiased), [a])
    check_fn(lambda x: x.std(dim, unbiased, keepdim), lambda x: x.std(td, unbiased=unbiased, keepdim=keepdim), [a])


@pytest.mark.covers("E1")
def test_var_is_unbiased_by_default():
    (a,) = random_inputs([(10,)], seed=2)
    check_fn(lambda x: x.var(), lambda x: x.var(), [a])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min_share_gradient_among_ties(name, shape):
    a = _ties(shape, seed=3)
    check_fn(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), [a])
    check_fn(getattr(dn, name), getattr(torch, name), [a])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1)])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_along_dim_return_values_and_indices(name, shape, dim, keepdim):
    for a in (random_inputs([shape], seed=4)[0], _ties(shape, seed=4)):
        values, indices = check_fn(lambda x: getattr(x, name)(dim, keepdim),
                                   lambda x: getattr(x, name)(dim, keepdim), [a])
        assert values.shape == indices.shape and indices.dtype == np.int64
    out = getattr(dn.tensor(a), name)(dim=dim)
    assert out.values is out[0] and out.indices is out[1]


@pytest.mark.covers("E1")
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (1, 2), (0, 1, 2)])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_over_tuples_of_dims(name, dim, keepdim):
    a = _ties((3, 2, 4), seed=5)
    td = _torch_dim(dim, 3)
    check_fn(lambda x: getattr(x, name)(dim, keepdim), lambda x: getattr(x, name)(td, keepdim), [a])
    check_fn(lambda x: getattr(dn, name)(x, dim, keepdim), lambda x: getattr(torch, name)(x, td, keepdim), [a])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_pick_the_first_extremum(name, dim, keepdim):
    for a in (random_inputs([(4, 5)], seed=6)[0], _ties((4, 5), seed=6)):
        check_fn(lambda x: getattr(x, name)(dim, keepdim), lambda x: getattr(x, name)(dim, keepdim), [a], grad=False)
        check_fn(lambda x: getattr(dn, name)(x, dim), lambda x: getattr(torch, name)(x, dim), [a], grad=False)


@pytest.mark.covers("E1", "A5")
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((), None), ((5,), None), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), (0, 2)),
                                       ((2, 3, 4), None), ((2, 3, 4), -1)])
def test_logsumexp_over_any_axes(shape, dim, keepdim):
    (a,) = random_inputs([shape], seed=7, low=-5, high=5)
    td = _torch_dim(dim, len(shape))
    check_fn(lambda x: x.logsumexp(dim, keepdim), lambda x: x.logsumexp(td, keepdim), [a])
    check_fn(lambda x: dn.logsumexp(x, dim, keepdim), lambda x: torch.logsumexp(x, td, keepdim), [a])


@pytest.mark.covers("A5")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_stable_for_huge_logits(dtype):
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from a naive exp
        x = dn.tensor(a, requires_grad=True)
        out = x.logsumexp(1)
        out.sum().backward()
    t = torch.tensor(a, requires_grad=True)
    t_out = t.logsumexp(1)
    t_out.sum().backward()
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    rtol = 1e-12 if dtype == np.float64 else 1e-4  # torch's float32 grad exp(x - lse) is off by ~2e-5
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-30)


@pytest.mark.covers("E1")
def test_reduction_rejects_an_out_of_range_dim():
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        dn.ones(2, 3).sum(2)


SECOND_ORDER = {
    "sum": (lambda x: (x.sum(1) ** 2), lambda x: (x.sum(1) ** 2)),
    "mean": (lambda x: (x.mean((0, 2), keepdim=True) ** 2), lambda x: (x.mean((0, 2), keepdim=True) ** 2)),
    "var": (lambda x: x.var(1), lambda x: x.var(1)),
    "var_biased": (lambda x: x.var(None, correction=0), lambda x: x.var(None, correction=0)),
    "logsumexp": (lambda x: x.logsumexp((1, 2)), lambda x: x.logsumexp((1, 2))),
    "amax": (lambda x: x.amax(-1) ** 2, lambda x: x.amax(-1) ** 2),
    "max_dim": (lambda x: x.max(1)[0] ** 2, lambda x: x.max(1)[0] ** 2),
    "min_dim_keepdim": (lambda x: x.min(2, keepdim=True)[0] ** 3, lambda x: x.min(2, keepdim=True)[0] ** 3),
}


@pytest.mark.covers("E1", "O5")
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives(name):
    (a,) = random_inputs([(2, 3, 4)], seed=8)
    check_grad_grad(*SECOND_ORDER[name], [a])
