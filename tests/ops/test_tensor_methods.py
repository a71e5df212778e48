"""One table of signatures: every Tensor method *is* the top-level function (`x.exp` is `dn.exp`),
the table covers the methods PyTorch's Tensor has under the same names, and the functional forms
that share a name with a tensor function take the same leading parameters."""
import inspect

import pytest
import torch

import deepnotes as dn
import deepnotes.nn.functional as F
from deepnotes.ops import api
from deepnotes.ops.tensor_methods import CASTS, COMPARISONS, METHODS, REFLECTED


def test_every_method_is_the_function_itself():
    for name, fn in METHODS.items():
        assert getattr(dn.Tensor, name) is fn, name
        top = getattr(dn, fn.__name__, None)
        if top is not None:
            assert top is fn, f"dn.{fn.__name__} is not the function behind Tensor.{name}"


def test_table_names_are_torch_tensor_methods():
    names = list(METHODS) + list(REFLECTED) + list(COMPARISONS) + list(CASTS)
    missing = [n for n in names if not hasattr(torch.Tensor, n) and n not in ("astype",)]
    assert not missing, f"not torch.Tensor methods: {missing}"


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softmax", "log_softmax", "leaky_relu", "elu", "prelu"])
def test_functional_forms_share_the_leading_parameters(name):
    ours = list(inspect.signature(getattr(F, name)).parameters)
    core = list(inspect.signature(getattr(api, name)).parameters)
    assert len(ours) >= 1 and len(core) >= 1
    # the tensor comes first in both, then the same positional options in the same order
    shared = [p for p in core[1:] if p in ours]
    assert [p for p in ours[1:] if p in shared] == shared, (ours, core)


def test_reflected_operators_swap_operands():
    x = dn.tensor([1.0, 4.0])
    assert (2 - x).tolist() == [1.0, -2.0] and (8 / x).tolist() == [8.0, 2.0] and (2 ** x).tolist() == [2.0, 16.0]
