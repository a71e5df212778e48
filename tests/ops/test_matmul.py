"""Matrix products (src/deepnotes/ops/matmul.py) against PyTorch: all of matmul's shape rules, fused Linear."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepnotes as dn
from deepnotes.ops.matmul import Linear
from tests.oracle import check_fn, check_grad_grad, random_inputs

SHAPES = [
    ((4,), (4,)),                 # dot product -> 0-d
    ((3,), (3, 5)),               # vector @ matrix
    ((2, 3), (3,)),               # matrix @ vector
    ((2, 3), (3, 4)),
    ((1, 1), (1, 1)),
    ((5, 2, 3), (3, 4)),          # batch @ matrix
    ((3,), (5, 3, 2)),            # vector @ batch
    ((5, 2, 3), (3,)),            # batch @ vector
    ((2, 1, 3, 4), (5, 4, 2)),    # batch dims broadcast: (2, 1) with (5,) -> (2, 5)
    ((1, 3, 4), (6, 4, 2)),
]


@pytest.mark.covers("E1")
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul(shapes):
    a, b = random_inputs(shapes)
    out = check_fn(lambda x, y: x @ y, lambda x, y: x @ y, [a, b])
    assert out[0].shape == np.matmul(a, b).shape
    check_fn(dn.matmul, torch.matmul, [a, b])
    check_fn(lambda x, y: x.matmul(y), lambda x, y: x.matmul(y), [a, b])


@pytest.mark.covers("E1")
def test_matmul_with_an_array_on_the_left():
    a, b = random_inputs([(2, 3), (3, 4)])
    check_fn(lambda y: a @ y, lambda y: torch.tensor(a) @ y, [b])


@pytest.mark.covers("E1", "E4")
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_linear_matches_torch(x_shape, bias):
    shapes = [x_shape, (4, 3)] + ([(4,)] if bias else [])
    arrays = random_inputs(shapes, seed=1)
    check_fn(lambda *t: Linear.apply(*t), lambda *t: F.linear(*t), arrays)


@pytest.mark.covers("E1", "O5")
@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3,), (3, 5)), ((2, 3), (3,)), ((2, 1, 3, 4), (5, 4, 2))], ids=str)
def test_matmul_second_derivatives(shapes):
    a, b = random_inputs(shapes, seed=2)
    check_grad_grad(lambda x, y: (x @ y) ** 2, lambda x, y: (x @ y) ** 2, [a, b])


@pytest.mark.covers("E1", "O5")
@pytest.mark.parametrize("bias", [True, False])
def test_linear_second_derivatives(bias):
    arrays = random_inputs([(2, 5, 3), (4, 3)] + ([(4,)] if bias else []), seed=3)
    check_grad_grad(lambda *t: Linear.apply(*t).tanh(), lambda *t: F.linear(*t).tanh(), arrays)
