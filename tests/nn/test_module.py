"""The Module API against torch.nn.Module: registration, names, modes, dtype, state dicts, repr."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from tests.oracle import assert_close, check_module, random_inputs


def _mlp_pair():
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    return ours, theirs


class Block(nn.Module):
    """A custom module: a parameter, a buffer, a submodule and a plain attribute."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.register_buffer("running", dn.zeros(2))
        self.inner = nn.Linear(2, 2)
        self.note = "plain"

    def forward(self, x):
        return self.inner(x) * self.scale


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(2))
        self.register_buffer("running", torch.zeros(2))
        self.inner = torch.nn.Linear(2, 2)
        self.note = "plain"

    def forward(self, x):
        return self.inner(x) * self.scale


@pytest.mark.covers("E5")
def test_registration_by_assignment():
    block = Block()
    assert list(block._parameters) == ["scale"]
    assert list(block._buffers) == ["running"]
    assert list(block._modules) == ["inner"]
    assert block.note == "plain" and "note" not in block._parameters
    assert block.inner.weight is block._modules["inner"]._parameters["weight"]


@pytest.mark.covers("E5")
def test_named_parameters_order_and_dotted_names_match_torch():
    ours, theirs = Block(), TorchBlock()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    model, torch_model = _mlp_pair()
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in torch_model.named_parameters()]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]


@pytest.mark.covers("E5")
def test_children_and_modules_match_torch():
    model, torch_model = _mlp_pair()
    outer, torch_outer = nn.Sequential(model, nn.Tanh()), torch.nn.Sequential(torch_model, torch.nn.Tanh())
    assert [n for n, _ in outer.named_children()] == [n for n, _ in torch_outer.named_children()]
    assert [n for n, _ in outer.named_modules()] == [n for n, _ in torch_outer.named_modules()]
    assert [type(m).__name__ for m in outer.modules()] == [type(m).__name__ for m in torch_outer.modules()]
    assert len(list(outer.children())) == 2


@pytest.mark.covers("E5")
def test_shared_module_is_listed_once_but_saved_under_both_names():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    torch_shared = torch.nn.Linear(2, 2)
    torch_model = torch.nn.Sequential(torch_shared, torch.nn.ReLU(), torch_shared)
    assert [n for n, _ in model.named_modules()] == [n for n, _ in torch_model.named_modules()]
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in torch_model.named_parameters()]
    assert list(model.state_dict()) == list(torch_model.state_dict())


@pytest.mark.covers("E5")
def test_train_eval_propagates_to_every_submodule():
    model = nn.Sequential(Block(), nn.Sequential(nn.Linear(2, 2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())


@pytest.mark.covers("E5")
def test_zero_grad_clears_every_parameter():
    model, _ = _mlp_pair()
    model(dn.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.covers("E5")
def test_to_float64_casts_parameters_and_buffers_in_place():
    block = Block()
    weight = block.inner.weight
    assert block.to(np.float64) is block
    assert block.inner.weight is weight  # the same Parameter object (optimizers hold it)
    assert all(p.dtype == np.float64 for p in block.parameters())
    assert all(b.dtype == np.float64 for b in block.buffers())
    assert block(dn.tensor(np.ones((1, 2)))).dtype == np.float64
    block.float()
    assert all(p.dtype == np.float32 for p in block.parameters())
    block.double()
    assert block.inner.bias.dtype == np.float64


@pytest.mark.covers("E5")
def test_state_dict_keys_match_torch():
    model, torch_model = _mlp_pair()
    assert list(model.state_dict()) == list(torch_model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(Block().state_dict()) == list(TorchBlock().state_dict())


@pytest.mark.covers("E5")
def test_non_persistent_buffer_is_not_saved():
    block = Block()
    block.register_buffer("cache", dn.zeros(3), persistent=False)
    torch_block = TorchBlock()
    torch_block.register_buffer("cache", torch.zeros(3), persistent=False)
    assert list(block.state_dict()) == list(torch_block.state_dict())
    assert "cache" in dict(block.named_buffers())


@pytest.mark.covers("E5")
def test_load_state_dict_round_trip_and_from_torch():
    model, torch_model = _mlp_pair()
    other, _ = _mlp_pair()
    x = dn.randn(4, 3)
    assert not np.allclose(model(x).numpy(), other(x).numpy())
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(model(x).numpy(), other(x).numpy())
    # loading copies: changing the source afterwards does not reach the target
    model[0].weight.data += 1.0
    assert not np.allclose(model(x).numpy(), other(x).numpy())
    # a torch checkpoint loads by the same names
    other.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    assert_close(other(x), torch_model(torch.from_numpy(x.numpy())), "after loading torch's weights", atol=1e-6, rtol=1e-5)
    assert other[0].weight.dtype == np.float32


@pytest.mark.covers("E5")
def test_strict_load_names_missing_and_unexpected_keys():
    model, _ = _mlp_pair()
    state = model.state_dict()
    del state["2.bias"]
    state["3.weight"] = np.zeros((2, 4))
    with pytest.raises(KeyError, match=r"missing keys \['2.bias'\], unexpected keys \['3.weight'\]"):
        model.load_state_dict(state)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["2.bias"] and unexpected == ["3.weight"]


@pytest.mark.covers("E5")
def test_shape_mismatch_names_the_key_and_both_shapes():
    model, _ = _mlp_pair()
    state = model.state_dict()
    state["0.weight"] = np.zeros((5, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"shape mismatch for '0.weight': the checkpoint has \(5, 3\), "
                                         r"the model expects \(4, 3\)"):
        model.load_state_dict(state)
    with pytest.raises(ValueError, match="'0.weight'"):
        model.load_state_dict(state, strict=False)


@pytest.mark.covers("E5")
def test_repr_matches_torch():
    model, torch_model = _mlp_pair()
    assert repr(model) == repr(torch_model)
    nested = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Linear(3, 1, bias=False)), nn.Sigmoid())
    torch_nested = torch.nn.Sequential(torch.nn.Linear(2, 3),
                                       torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(3, 1, bias=False)),
                                       torch.nn.Sigmoid())
    assert repr(nested) == repr(torch_nested)
    assert repr(Block()) == repr(TorchBlock()).replace("TorchBlock", "Block")


@pytest.mark.covers("E5")
def test_repr_with_extra_repr_and_children_matches_torch():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(2, 2)

        def extra_repr(self):
            return "factor=2"

    class TorchScaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Linear(2, 2)

        def extra_repr(self):
            return "factor=2"

    assert repr(Scaled()) == repr(TorchScaled()).replace("TorchScaled", "Scaled")


@pytest.mark.covers("E5")
def test_assigning_a_tensor_to_a_buffer_keeps_it_a_buffer():
    block = Block()
    block.running = dn.ones(2)
    assert "running" in block.state_dict()
    np.testing.assert_array_equal(block.state_dict()["running"].numpy(), 1.0)


@pytest.mark.covers("E5")
def test_assignment_rules_follow_torch():
    block = Block()
    with pytest.raises(TypeError, match="cannot assign Tensor to parameter 'scale'"):
        block.scale = dn.ones(2)
    with pytest.raises(TypeError, match="cannot assign str to submodule 'inner'"):
        block.inner = "nope"
    block.scale = None  # a parameter slot may be emptied, as in torch
    assert "scale" not in block.state_dict() and block.scale is None
    block.inner = nn.Tanh()  # a module replaces a module
    assert isinstance(block.inner, nn.Tanh)
    block.running = nn.Parameter(np.ones(2, dtype=np.float32))  # a Parameter turns a buffer into a parameter
    assert "running" in dict(block.named_parameters()) and "running" not in dict(block.named_buffers())
    del block.running
    assert "running" not in block.state_dict()


@pytest.mark.covers("E5")
def test_setattr_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1, dtype=np.float32))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before assigning attribute 'w'"):
        Broken()


@pytest.mark.covers("E5")
def test_custom_module_matches_torch_in_float64():
    (x,) = random_inputs([(5, 2)], seed=1)
    ours, theirs = Block(), TorchBlock()
    ours.scale.data[:] = [0.5, -2.0]
    check_module(ours, theirs, [x])


@pytest.mark.covers("E5")
def test_requires_grad_false_freezes_parameters():
    model, _ = _mlp_pair()
    model[0].requires_grad_(False)
    model(dn.randn(2, 3)).sum().backward()
    assert model[0].weight.grad is None and model[2].weight.grad is not None
