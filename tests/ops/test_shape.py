"""Shape and indexing ops (src/deepnotes/ops/shape.py) against PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepnotes as dn
from tests.oracle import check_fn, check_grad_grad, random_inputs


def same(fn):
    """The same expression for both libraries."""
    return fn, fn


VIEWS = {
    "reshape": same(lambda x: x.reshape(4, 6)),
    "reshape_tuple_-1": same(lambda x: x.reshape((-1, 3))),
    "view": same(lambda x: x.view(2, 12)),
    "permute": same(lambda x: x.permute(2, 0, 1)),
    "permute_negative": same(lambda x: x.permute(-1, -3, -2)),
    "transpose": same(lambda x: x.transpose(0, 2)),
    "mT": same(lambda x: x.mT),
    "T_of_2d": same(lambda x: x.reshape(6, 4).T),
    "flatten": same(lambda x: x.flatten()),
    "flatten_1": same(lambda x: x.flatten(1)),
    "flatten_0_1": same(lambda x: x.flatten(0, 1)),
    "unsqueeze": same(lambda x: x.unsqueeze(1)),
    "unsqueeze_-1": same(lambda x: x.unsqueeze(-1)),
    "expand": same(lambda x: x[:, :1].expand(2, 5, 4)),
    "expand_new_axes": same(lambda x: x[0].expand(3, -1, -1)),
    "split_int": same(lambda x: x.split(2, dim=2)),
    "split_list": same(lambda x: x.split([1, 2], dim=1)),
    "split_uneven_last_dim": same(lambda x: x.split(3, -1)),
    "chained": same(lambda x: x.permute(1, 0, 2).reshape(3, 8).T.unsqueeze(0)),
}


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", VIEWS)
def test_views(name):
    (a,) = random_inputs([(2, 3, 4)])
    check_fn(*VIEWS[name], [a])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shape,dim", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((1, 3, 1), (0, 2)),
                                       ((2, 3), 0), ((1,), None), ((1,), 0)])
def test_squeeze(shape, dim):
    (a,) = random_inputs([shape])
    if dim is None:
        check_fn(lambda x: x.squeeze(), lambda x: x.squeeze(), [a])
    else:
        check_fn(lambda x: x.squeeze(dim), lambda x: x.squeeze(dim), [a])
        check_fn(lambda x: dn.squeeze(x, dim), lambda x: torch.squeeze(x, dim), [a])


@pytest.mark.covers("E1")
def test_zero_dim_tensor_shapes():
    (a,) = random_inputs([()])
    check_fn(lambda x: x.reshape(1, 1), lambda x: x.reshape(1, 1), [a])
    check_fn(lambda x: x.flatten(), lambda x: x.flatten(), [a])
    check_fn(lambda x: x.unsqueeze(0), lambda x: x.unsqueeze(0), [a])
    check_fn(lambda x: x.expand(3, 2), lambda x: x.expand(3, 2), [a])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shapes,dim", [(((2, 3), (4, 3)), 0), (((2, 3), (2, 1), (2, 5)), 1),
                                        (((2, 3, 1), (2, 3, 2)), -1), (((3,), (1,)), 0)])
def test_cat(shapes, dim):
    arrays = random_inputs(shapes, seed=1)
    check_fn(lambda *xs: dn.cat(xs, dim), lambda *xs: torch.cat(xs, dim), arrays)
    check_fn(lambda *xs: dn.concatenate(list(xs), dim=dim), lambda *xs: torch.concatenate(xs, dim=dim), arrays)


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shape,n,dim", [((2, 3), 3, 0), ((2, 3), 2, 1), ((2, 3), 2, 2), ((2, 3), 4, -1), ((), 3, 0)])
def test_stack(shape, n, dim):
    arrays = random_inputs([shape] * n, seed=2)
    check_fn(lambda *xs: dn.stack(xs, dim), lambda *xs: torch.stack(xs, dim), arrays)


@pytest.mark.covers("E1")
def test_cat_and_stack_errors_name_the_problem():
    with pytest.raises(ValueError, match="stack: all tensors must have the same shape"):
        dn.stack([dn.zeros(2), dn.zeros(3)])
    with pytest.raises(ValueError, match="non-empty"):
        dn.cat([])
    with pytest.raises(ValueError, match="split: sizes"):
        dn.zeros(5).split([2, 2])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("pad_width,value",
                         [(((1, 2), (0, 3)), 0.0), (((0, 0), (2, 2)), -1.5), (((3, 0), (0, 0)), 2.0)])
def test_pad_constant(pad_width, value):
    (a,) = random_inputs([(2, 3)], seed=3)
    torch_pad = tuple(p for pair in reversed(pad_width) for p in pair)  # last axis first
    check_fn(lambda x: dn.pad_constant(x, pad_width, value), lambda x: F.pad(x, torch_pad, value=value), [a])


INDEXES = {
    "int": same(lambda x: x[1]),
    "negative_int": same(lambda x: x[-1, 2]),
    "slice": same(lambda x: x[1:3]),
    "slice_step": same(lambda x: x[:, ::2]),
    "negative_step": (lambda x: x[::-1, 1], lambda x: x.flip(0)[:, 1]),
    "negative_step_2": (lambda x: x[:, ::-2], lambda x: x.flip(1)[:, ::2]),
    "none": same(lambda x: x[None, 1:, None]),
    "ellipsis": same(lambda x: x[..., 1]),
    "ellipsis_none": same(lambda x: x[None, ..., 0:2]),
    "int_list_repeats": same(lambda x: x[[0, 0, 2, 0]]),
    "int_list_second_axis": same(lambda x: x[:, [1, 1, 0]]),
    "two_int_lists": same(lambda x: x[[0, 3, 0], [1, 2, 1]]),
    "int_list_then_slice": same(lambda x: x[[2, 2], 1:]),
}


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", INDEXES)
def test_indexing(name):
    (a,) = random_inputs([(4, 3, 2)], seed=4)
    check_fn(*INDEXES[name], [a])


@pytest.mark.covers("E1")
def test_indexing_with_index_tensors_and_boolean_masks():
    (a,) = random_inputs([(4, 3)], seed=5)
    idx = np.array([3, 0, 3, 3])
    check_fn(lambda x, i: x[i], lambda x, i: x[i], [a, idx])
    mask = a > 0
    check_fn(lambda x, m: x[m], lambda x, m: x[m], [a, mask])
    row_mask = np.array([True, False, True, True])
    check_fn(lambda x, m: x[m], lambda x, m: x[m], [a, row_mask])
    check_fn(lambda x, m: x[:, m[:3]], lambda x, m: x[:, m[:3]], [a, row_mask])


@pytest.mark.covers("E1")
@pytest.mark.parametrize("dim,index", [
    (0, [[0, 1, 2], [2, 2, 0]]),
    (1, [[0, 0], [2, 1], [1, 1], [0, 2]]),
    (1, [[2], [0]]),            # index smaller than the input along dim 0: only rows 0-1 are read
    (0, [[3, 3]]),              # and along dim 1
    (-1, [[1, 1, 1], [0, 0, 0], [2, 0, 1], [1, 2, 0]]),
])
def test_gather(dim, index):
    (a,) = random_inputs([(4, 3)], seed=6)
    idx = np.array(index)
    check_fn(lambda x, i: dn.gather(x, dim, i), lambda x, i: torch.gather(x, dim, i), [a, idx])
    check_fn(lambda x, i: x.gather(dim, i), lambda x, i: x.gather(dim, i), [a, idx])


@pytest.mark.covers("E1")
def test_take_along_dim_broadcasts():
    (a,) = random_inputs([(4, 3)], seed=7)
    idx = np.array([[2], [0], [1], [1]])
    check_fn(lambda x, i: dn.take_along_dim(x, i, 1), lambda x, i: torch.take_along_dim(x, i, 1), [a, idx])
    idx = np.array([[0, 2, 1]])
    check_fn(lambda x, i: dn.take_along_dim(x, i, 0), lambda x, i: torch.take_along_dim(x, i, 0), [a, idx])


@pytest.mark.covers("E1")
def test_gather_rejects_an_index_of_the_wrong_rank():
    with pytest.raises(ValueError, match="gather: index must have as many dimensions"):
        dn.zeros(3, 4).gather(1, dn.tensor([0, 1]))


SECOND_ORDER = {
    "reshape_permute": same(lambda x: (x.reshape(6, 4).T.permute(1, 0) ** 2)),
    "expand": same(lambda x: x[:1].expand(5, 3, 4) ** 3),
    "index": same(lambda x: x[[0, 0, 1], ::2] ** 2),
    "index_negative_step": (lambda x: x[::-1] ** 3, lambda x: x.flip(0) ** 3),
    "cat": (lambda x: dn.cat([x, x * x], 1) ** 2, lambda x: torch.cat([x, x * x], 1) ** 2),
    "stack": (lambda x: dn.stack([x, x * x], -1) ** 2, lambda x: torch.stack([x, x * x], -1) ** 2),
    "pad": (lambda x: dn.pad_constant(x, ((0, 0), (1, 1), (2, 0))) ** 2, lambda x: F.pad(x, (2, 0, 1, 1)) ** 2),
    "gather": (lambda x: dn.gather(x, 2, dn.tensor([[[0, 0]], [[3, 1]]])) ** 3,
               lambda x: torch.gather(x, 2, torch.tensor([[[0, 0]], [[3, 1]]])) ** 3),
    "split_squeeze": same(lambda x: x.split(1, 0)[1].squeeze(0).unsqueeze(-1) ** 2),
}


@pytest.mark.covers("E1", "O5")
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives(name):
    (a,) = random_inputs([(2, 3, 4)], seed=8)
    check_grad_grad(*SECOND_ORDER[name], [a])
