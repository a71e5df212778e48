"""Containers (Sequential, ModuleList, ModuleDict, Identity, Flatten) against torch.nn."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from tests.oracle import check_grad_grad, check_module, copy_parameters, random_inputs


def _names(module):
    return [n for n, _ in module.named_parameters()]


@pytest.mark.covers("E5")
def test_sequential_calls_in_order_and_matches_torch():
    ours = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3), nn.LogSoftmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3), torch.nn.LogSoftmax(dim=1))
    check_module(ours, theirs, random_inputs([(5, 4)], seed=1))


@pytest.mark.covers("E5")
def test_relu_after_linear_and_conv_is_rectified_in_place_and_matches_torch():
    """A ReLU right after a Linear or a convolution overwrites that layer's fresh output
    (no new array); values, input and parameter gradients are torch's."""
    ours = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(48, 5), nn.ReLU(),
                         nn.Linear(5, 2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(48, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    check_module(ours, theirs, random_inputs([(4, 2, 4, 4)], seed=2))
    x = dn.randn(4, 2, 4, 4, requires_grad=True).double()
    rectified = ours[:2](x)
    assert rectified.grad_fn.inputs[0].numpy() is rectified.numpy()  # the conv's output array, rectified
    np.testing.assert_array_equal(rectified.numpy(), np.maximum(ours[0](x).numpy(), 0))
    after_tanh = nn.Sequential(nn.Tanh(), nn.ReLU())(x)
    assert after_tanh.grad_fn.inputs[0].numpy() is not after_tanh.numpy()  # Tanh keeps its output: a new array


@pytest.mark.covers("E5")
def test_relu_in_place_keeps_second_derivatives():
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).double()
    copy_parameters(ours, theirs)
    check_grad_grad(lambda x: (ours(x) ** 2).sum(), lambda x: (theirs(x) ** 2).sum(), random_inputs([(5, 3)], seed=4))


@pytest.mark.covers("E5")
def test_relu_does_not_overwrite_what_a_subclass_or_a_wrapped_forward_returns():
    """Only a plain Linear's or convolution's output is overwritten: a subclass may return
    an array it keeps (here a cached output), and a wrapped `forward` has seen the output."""

    class CachedLinear(nn.Linear):
        def forward(self, x):
            if not hasattr(self, "cache"):
                self.cache = super().forward(x)
            return self.cache

    cached = CachedLinear(3, 4)
    model = nn.Sequential(cached, nn.ReLU())
    x = dn.tensor(np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32))
    model(x)
    assert (cached.cache.numpy() < 0).any()  # not rectified in place
    seen = []
    plain = nn.Linear(3, 4)
    inner = plain.forward
    plain.forward = lambda x: seen.append(inner(x)) or seen[-1]
    nn.Sequential(plain, nn.ReLU())(x)
    assert (seen[0].numpy() < 0).any()


@pytest.mark.covers("E5")
def test_sequential_from_ordered_dict_uses_its_names():
    layers = OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU()), ("out", nn.Linear(3, 1))])
    torch_layers = OrderedDict([("hidden", torch.nn.Linear(2, 3)), ("act", torch.nn.ReLU()), ("out", torch.nn.Linear(3, 1))])
    ours, theirs = nn.Sequential(layers), torch.nn.Sequential(torch_layers)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert repr(ours) == repr(theirs)


@pytest.mark.covers("E5")
def test_sequential_indexing_slicing_len_iter_append():
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3 and list(seq) == [a, b, c]
    tail = seq[1:]
    torch_tail = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    assert list(tail.state_dict()) == list(torch_tail.state_dict()) == ["2.weight", "2.bias"]  # names kept
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]


@pytest.mark.covers("E5")
def test_module_list_registers_and_names_like_torch():
    ours = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 3)])
    ours.append(nn.Linear(3, 1))
    ours.extend([nn.ReLU()])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 3)])
    theirs.append(torch.nn.Linear(3, 1))
    theirs.extend([torch.nn.ReLU()])
    assert _names(ours) == _names(theirs)
    assert len(ours) == 4 and isinstance(ours[-1], nn.ReLU)
    assert isinstance(ours[1:3], nn.ModuleList) and len(ours[1:3]) == 2
    assert [type(m).__name__ for m in ours] == ["Linear", "Linear", "Linear", "ReLU"]
    assert repr(ours) == repr(theirs)


@pytest.mark.covers("E5")
def test_module_list_repr_collapses_repeats_like_torch():
    ours = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU(), nn.Linear(2, 1)])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)]
                                 + [torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(2, 1)])
    assert repr(ours) == repr(theirs)
    assert "(0-2): 3 x Linear" in repr(ours)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    nested = nn.ModuleList([nn.Sequential(nn.Linear(1, 1), nn.Tanh())] * 2)
    torch_nested = torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Tanh())] * 2)
    assert repr(nested) == repr(torch_nested)


@pytest.mark.covers("E5")
def test_module_dict_registers_and_names_like_torch():
    ours = nn.ModuleDict({"encoder": nn.Sequential(nn.Linear(4, 8), nn.ReLU()), "head": nn.Linear(8, 2)})
    ours["extra"] = nn.Linear(2, 2)
    theirs = torch.nn.ModuleDict({"encoder": torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
                                  "head": torch.nn.Linear(8, 2)})
    theirs["extra"] = torch.nn.Linear(2, 2)
    assert list(ours.keys()) == list(theirs.keys()) == ["encoder", "head", "extra"]
    assert _names(ours) == _names(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "head" in ours and "tail" not in ours and len(ours) == 3
    assert list(ours) == ["encoder", "head", "extra"]
    assert [k for k, _ in ours.items()] == list(ours.keys()) and len(list(ours.values())) == 3
    assert repr(ours) == repr(theirs)


@pytest.mark.covers("E5")
def test_nested_containers_state_dict_matches_torch():
    ours = nn.Sequential(nn.ModuleList([nn.Linear(2, 2)]), nn.ModuleDict({"a": nn.Linear(2, 1)}))
    theirs = torch.nn.Sequential(torch.nn.ModuleList([torch.nn.Linear(2, 2)]),
                                 torch.nn.ModuleDict({"a": torch.nn.Linear(2, 1)}))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.0.weight", "0.0.bias", "1.a.weight", "1.a.bias"]


@pytest.mark.covers("E5")
def test_identity_passes_input_and_gradient_through():
    x = dn.randn(3, 2, requires_grad=True)
    out = nn.Identity(54, unused="args")(x)
    assert out is x
    assert repr(nn.Identity()) == repr(torch.nn.Identity())


@pytest.mark.covers("E5")
@pytest.mark.parametrize("start_dim,end_dim", [(1, -1), (0, -1), (1, 2), (2, 3), (0, 1)])
def test_flatten_matches_torch(start_dim, end_dim):
    check_module(nn.Flatten(start_dim, end_dim), torch.nn.Flatten(start_dim, end_dim),
                 random_inputs([(2, 3, 4, 5)], seed=start_dim))
    assert repr(nn.Flatten(start_dim, end_dim)) == repr(torch.nn.Flatten(start_dim, end_dim))


@pytest.mark.covers("E5")
def test_flatten_then_linear_classifier_head():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    torch_model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    check_module(model, torch_model, random_inputs([(4, 3, 2, 2)], seed=2))
    assert model(dn.randn(1, 3, 2, 2, dtype=np.float64)).shape == (1, 3)  # batch size 1 keeps its axis
