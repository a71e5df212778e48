"""PyTorch's tensor functions and methods that tutorials use, checked against PyTorch (values,
dtypes, gradients) through the shared oracle, on random float64 inputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnotes as dn
from tests.oracle import assert_close, check_fn, random_inputs

SHAPE_SEEDS = [((3, 4), 0), ((2, 3, 5), 1)]


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", ["sin", "cos", "tan", "exp2", "log2", "log10", "log1p", "expm1", "rsqrt", "square",
                                  "reciprocal"])
@pytest.mark.parametrize("shape,seed", SHAPE_SEEDS)
def test_elementwise_math_matches_torch(name, shape, seed):
    positive = name in ("log2", "log10", "log1p", "rsqrt", "reciprocal")
    (x,) = random_inputs([shape], seed, low=0.2 if positive else -1.2, high=2.0 if positive else 1.2)
    check_fn(lambda a: getattr(dn, name)(a), lambda a: getattr(torch, name)(a), [x])
    check_fn(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [x])


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "sign", "round"])
def test_step_functions_have_zero_gradient(name):
    (x,) = random_inputs([(4, 5)], 3, low=-3, high=3)
    check_fn(lambda a: getattr(a, name)() * a, lambda a: getattr(a, name)() * a, [x])


def test_round_decimals():
    (x,) = random_inputs([(6,)], 4, low=-3, high=3)
    check_fn(lambda a: dn.round(a, decimals=2), lambda a: torch.round(a, decimals=2), [x], grad=False)


@pytest.mark.parametrize("name", ["eq", "ne", "gt", "lt", "ge", "le"])
def test_comparisons_as_functions_and_methods(name):
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 3, (4, 5)).astype(np.float64), rng.integers(0, 3, (4, 5)).astype(np.float64)
    check_fn(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), [a, b], grad=False)
    check_fn(lambda x, y: getattr(dn, name)(x, 1.0), lambda x, y: getattr(torch, name)(x, 1.0), [a, b], grad=False)


def test_equal_allclose_isclose():
    a = np.array([1.0, 2.0, np.nan])
    b = a + np.array([1e-9, 0.0, 0.0])
    for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 1e-12}):
        assert dn.allclose(dn.tensor(a), dn.tensor(b), **kwargs) == torch.allclose(torch.tensor(a), torch.tensor(b),
                                                                                  **kwargs)
        assert_close(dn.isclose(dn.tensor(a), dn.tensor(b), **kwargs),
                     torch.isclose(torch.tensor(a), torch.tensor(b), **kwargs), "isclose")
    assert dn.equal(dn.tensor(a[:2]), dn.tensor(a[:2])) and not dn.equal(dn.tensor(a[:2]), dn.tensor(a[:1]))


@pytest.mark.parametrize("shape,seed", SHAPE_SEEDS)
def test_shape_helpers_match_torch(shape, seed):
    x, y = random_inputs([shape, shape], seed)
    check_fn(lambda a, b: a.view_as(b) + a.reshape_as(b) * b, lambda a, b: a.view_as(b) + a.reshape_as(b) * b, [x, y])
    (row,) = random_inputs([(1,) + shape[1:]], seed + 1)
    check_fn(lambda a, b: a.expand_as(b) * b, lambda a, b: a.expand_as(b) * b, [row, x])
    check_fn(lambda a: a.narrow(-1, 1, 2), lambda a: a.narrow(-1, 1, 2), [x])
    check_fn(lambda a: a.chunk(3, dim=-1), lambda a: a.chunk(3, dim=-1), [x])
    check_fn(lambda a: dn.unbind(a, 1), lambda a: torch.unbind(a, 1), [x])


def test_matrix_products_and_transpose():
    a, b, c, d = random_inputs([(3, 4), (4, 2), (5, 3, 4), (5, 4, 2)], 7)
    check_fn(lambda x, y: x.mm(y).t(), lambda x, y: x.mm(y).t(), [a, b])
    check_fn(dn.bmm, torch.bmm, [c, d])
    with pytest.raises(ValueError, match="mm: expects two 2-d tensors"):
        dn.mm(dn.tensor(c), dn.tensor(d))


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_sort_argsort_topk_match_torch(descending, dim):
    x = np.random.default_rng(8).permutation(24).reshape(4, 6).astype(np.float64) / 7  # no ties
    check_fn(lambda a: a.sort(dim, descending=descending), lambda a: a.sort(dim, descending=descending), [x])
    check_fn(lambda a: dn.argsort(a, dim, descending), lambda a: torch.argsort(a, dim, descending), [x], grad=False)
    for largest in (True, False):
        check_fn(lambda a: a.topk(3, dim, largest=largest), lambda a: a.topk(3, dim, largest=largest), [x])
    check_fn(lambda a: dn.kthvalue(a, 2, dim), lambda a: torch.kthvalue(a, 2, dim), [x])


@pytest.mark.parametrize("p", [2, 1, 3, float("inf"), "fro"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), (0, False)])
def test_norm_matches_torch(p, dim, keepdim):
    (x,) = random_inputs([(4, 5)], 9)
    if p == "fro" and dim is not None:
        dim = (dim,)
    check_fn(lambda a: a.norm(p, dim, keepdim), lambda a: a.norm(p, dim, keepdim), [x])


def test_masked_fill_and_where_method():
    x, y = random_inputs([(3, 4), (3, 4)], 10)
    mask = (x > 0)
    check_fn(lambda a: a.masked_fill(dn.tensor(mask), -1.5), lambda a: a.masked_fill(torch.tensor(mask), -1.5), [x])
    check_fn(lambda a, b: a.where(dn.tensor(mask), b), lambda a, b: a.where(torch.tensor(mask), b), [x, y])


def test_python_number_protocols():
    for lib in (dn, torch):
        n = lib.tensor(3)
        assert list(range(n)) == [0, 1, 2] and int(lib.tensor(2.7)) == 2 and float(lib.tensor([1.5])) == 1.5
        assert [10, 20, 30, 40][lib.tensor(1)] == 20
        assert f"{lib.tensor(3.14159):+.2f}" == "+3.14" and f"{lib.tensor(2.0)}" == "2.0"
    with pytest.raises(TypeError):
        [1, 2][dn.tensor(1.0)]
    with pytest.raises(TypeError):
        format(dn.tensor([1.0, 2.0]), ".2f")


def test_size_prints_like_torch():
    x = dn.zeros(2, 3)
    assert repr(x.size()) == "deepnotes.Size([2, 3])" == repr(torch.zeros(2, 3).size()).replace("torch", "deepnotes")
    assert x.size() == (2, 3) and x.size(-1) == 3 and x.size().numel() == 6 and dn.numel(x) == 6


@pytest.mark.parametrize("name,args", [("new_zeros", (2, 3)), ("new_ones", ((2, 1),)), ("new_full", ((2,), 7.0)),
                                       ("new_tensor", ([1, 2],))])
def test_new_factories_keep_dtype(name, args):
    for dtype in (np.float64, np.int64):
        a = getattr(dn.tensor(np.zeros(1, dtype)), name)(*args)
        b = getattr(torch.tensor(np.zeros(1, dtype)), name)(*args)
        assert_close(a, b, name)


def test_to_dtype_device_and_tensor():
    x = dn.randn(2, 3)
    assert x.to("cpu") is x and x.to(dn.device("cpu")) is x and x.device == dn.device("cpu") == "cpu"
    assert x.to(dn.float64).dtype == np.float64 and x.to("cpu", dn.float64).dtype == np.float64
    assert x.to(dn.zeros(1, dtype=dn.int64)).dtype == np.int64 and x.to(dtype=dn.double).dtype == np.float64
    assert x.to(x.device, copy=True) is not x
    assert x.type() == "deepnotes.FloatTensor" and x.type(dn.float64).dtype == np.float64
    assert x.long().type() == "deepnotes.LongTensor" and x.half().dtype == np.float16
    for call in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: dn.zeros(2, device="cuda:0"),
                 lambda: dn.nn.Linear(2, 2).to("mps")):
        with pytest.raises(NotImplementedError, match="CPU only"):
            call()
    assert repr(dn.device("cuda", 1)) == repr(torch.device("cuda", 1)) and str(dn.device("cuda:1")) == "cuda:1"
    assert dn.cuda.is_available() is False and dn.backends.mps.is_available() is False
    assert dn.accelerator.is_available() is False


def test_factories_take_device_and_generators_reproduce():
    for name in ("zeros", "ones", "randn", "rand", "empty"):
        assert getattr(dn, name)(2, 3, device="cpu").shape == (2, 3)
    g1, g2 = dn.Generator().manual_seed(7), dn.Generator().manual_seed(7)
    assert dn.equal(dn.randperm(10, generator=g1), dn.randperm(10, generator=g2))
    assert sorted(dn.randperm(10).tolist()) == list(range(10))
    assert dn.randint(5, (3, 2)).shape == (3, 2) and dn.randint(2, 5, (4,)).numpy().min() >= 2
    assert dn.LongTensor([1, 2]).dtype == np.int64 and dn.FloatTensor(2, 3).shape == (2, 3)
    assert dn.eye(3).numpy().trace() == 3 and dn.full_like(dn.zeros(2), 4.0).tolist() == [4.0, 4.0]


# ------------------------------------------------------------------ in place
IN_PLACE = [("add_", (1.5,), {}), ("add_", ("other",), {"alpha": 2.0}), ("sub_", ("other",), {}), ("mul_", (3.0,), {}),
            ("div_", ("other",), {}), ("clamp_", (), {"min": -0.5, "max": 0.5}), ("fill_", (2.5,), {}),
            ("zero_", (), {}), ("copy_", ("other",), {}), ("neg_", (), {}), ("abs_", (), {}), ("exp_", (), {}),
            ("unsqueeze_", (0,), {}), ("masked_fill_", ("mask", 0.0), {})]


@pytest.mark.parametrize("name,args,kwargs", IN_PLACE, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(IN_PLACE)])
def test_in_place_matches_torch(name, args, kwargs):
    x, other = random_inputs([(3, 4), (3, 4)], 11, low=0.5, high=2.0)
    results = []
    for lib in (dn, torch):
        t, alias_source = lib.tensor(x), None
        alias_source = t
        subs = {"other": lib.tensor(other), "mask": lib.tensor(x > 1.0)}
        out = getattr(t, name)(*[subs.get(a, a) if isinstance(a, str) else a for a in args], **kwargs)
        assert out is t, f"{name} must return the tensor itself"
        results.append((t, alias_source))
    assert_close(results[0][0], results[1][0], name)


def test_in_place_on_leaf_requiring_grad_raises_like_torch():
    for lib in (dn, torch):
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf|in place|in-place"):
            w.add_(1.0)
        with pytest.raises(RuntimeError):
            w += 1.0
        with lib.no_grad():
            w -= 0.5 * lib.ones(3)
            w.mul_(2.0)
        assert w.tolist() == [1.0, 1.0, 1.0] and w.requires_grad


def test_in_place_update_is_seen_through_state_dict_and_manual_sgd_works():
    layer = dn.nn.Linear(3, 2)
    state = layer.state_dict()
    before = layer.weight.numpy().copy()
    (layer(dn.randn(4, 3)) ** 2).sum().backward()
    with dn.no_grad():
        for p in layer.parameters():
            p -= 0.1 * p.grad.numpy()
    np.testing.assert_allclose(layer.weight.numpy(), before - 0.1 * layer.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(state["weight"].numpy(), layer.weight.numpy())


def test_augmented_assignment_on_a_graph_tensor_keeps_gradients():
    (x,) = random_inputs([(3,)], 12)
    def body(lib):
        def fn(a):
            h = a * 2
            h += a
            h *= a
            return h
        return fn
    check_fn(body(dn), body(torch), [x])


def test_is_tensor_and_floating_point():
    assert dn.is_tensor(dn.zeros(1)) and not dn.is_tensor(np.zeros(1))
    assert dn.is_floating_point(dn.zeros(1)) and not dn.zeros(1, dtype=dn.long).is_floating_point()
    assert dn.get_default_dtype() == np.float32 and dn.float is dn.float32 and dn.long is dn.int64
    with pytest.raises(NotImplementedError, match="float32"):
        dn.set_default_dtype(dn.float64)


def test_max_and_min_of_two_tensors_are_elementwise():
    a, b = random_inputs([(3, 4), (3, 4)], 13)
    check_fn(lambda x, y: dn.max(x, y) + dn.min(x, y) * 2, lambda x, y: torch.max(x, y) + torch.min(x, y) * 2, [a, b])


def test_set_num_threads_limits_numpy_blas():
    before = dn.get_num_threads()
    dn.set_num_threads(1)
    assert dn.get_num_threads() == 1
    dn.set_num_threads(max(before, 1))
    assert dn.get_num_threads() == max(before, 1)
    with pytest.raises(ValueError, match="positive int"):
        dn.set_num_threads(0)
    dn.use_deterministic_algorithms(True)
    assert dn.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True)])
def test_any_all_count_nonzero_match_torch(dim, keepdim):
    a = (np.random.default_rng(14).integers(0, 3, (4, 5)) > 0).astype(np.float64)
    for name in ("any", "all"):
        kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
        check_fn(lambda x: getattr(x, name)(**kwargs), lambda x: getattr(x, name)(**kwargs), [a], grad=False)
    check_fn(lambda x: dn.count_nonzero(x, dim), lambda x: torch.count_nonzero(x, dim), [a], grad=False)


def test_nonzero_unique_and_truth_value_match_torch():
    a = np.random.default_rng(15).integers(0, 4, (3, 5))
    check_fn(lambda x: x.nonzero(), lambda x: x.nonzero(), [a], grad=False)
    check_fn(lambda x: dn.nonzero(x, as_tuple=True), lambda x: torch.nonzero(x, as_tuple=True), [a], grad=False)
    check_fn(lambda x: x.unique(return_inverse=True, return_counts=True),
             lambda x: x.unique(return_inverse=True, return_counts=True), [a], grad=False)
    for lib in (dn, torch):
        with pytest.raises(RuntimeError):
            bool(lib.zeros(3))
        assert bool(lib.ones(1)) and not bool(lib.zeros(()))


@pytest.mark.covers("E1")
def test_set_printoptions_changes_how_tensors_print():
    t = dn.tensor([1.123456789, 2.5])
    try:
        dn.set_printoptions(precision=2)
        assert repr(t) == "tensor([1.12, 2.5 ])"
        dn.set_printoptions(sci_mode=True)
        assert repr(t) == "tensor([1.12e+00, 2.50e+00])"
        dn.set_printoptions(profile="full")
        assert "..." not in repr(dn.zeros(5000))
        with pytest.raises(ValueError, match="set_printoptions: profile"):
            dn.set_printoptions(profile="long")
    finally:
        dn.set_printoptions(profile="default")
    assert repr(t) == "tensor([1.1234568, 2.5      ])"
    assert "..." in repr(dn.zeros(5000))


@pytest.mark.covers("E1")
def test_legacy_size_constructor_is_refused_with_what_to_use():
    with pytest.raises(TypeError, match=r"Tensor\(2, 3\): deepnotes' Tensor takes data, not sizes.*zeros"):
        dn.Tensor(2, 3)
    assert dn.FloatTensor(2, 3).shape == tuple(torch.FloatTensor(2, 3).shape)
