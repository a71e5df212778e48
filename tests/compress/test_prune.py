"""Pruning against torch.nn.utils.prune: masks, pruned weights, gradients, repeated and global pruning."""
import numpy as np
import pytest
import torch
from torch.nn.utils import prune as tprune

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.compress import prune
from tests.oracle import assert_close


def pair(kind="linear", seed=0):
    """A deepnotes layer and the torch layer with the same float64 parameters (distinct magnitudes)."""
    dn.manual_seed(seed)
    if kind == "linear":
        a, b = nn.Linear(7, 5).double(), torch.nn.Linear(7, 5).double()
    else:
        a, b = nn.Conv2d(3, 6, 3).double(), torch.nn.Conv2d(3, 6, 3).double()
    with torch.no_grad():
        b.weight.copy_(torch.from_numpy(a.weight.numpy().copy()))
        b.bias.copy_(torch.from_numpy(a.bias.numpy().copy()))
    return a, b


def assert_same_pruning(a, b):
    assert_close(a.weight_mask.numpy(), b.weight_mask.detach(), "weight_mask")
    assert_close(a.weight.numpy(), b.weight.detach(), "pruned weight")
    assert_close(a.weight_orig.numpy(), b.weight_orig.detach(), "weight_orig")


@pytest.mark.covers("P1")
@pytest.mark.parametrize("amounts", [(0.3,), (4,), (0.3, 4, 0.5), (0.25, 0.0, 1.0)])
def test_l1_unstructured_matches_torch_also_when_repeated(amounts):
    a, b = pair()
    for amount in amounts:
        prune.l1_unstructured(a, "weight", amount)
        tprune.l1_unstructured(b, "weight", amount)
        assert_same_pruning(a, b)


@pytest.mark.covers("P1")
@pytest.mark.parametrize("kind,n,dim,amounts", [("linear", 2, 0, (0.4, 1)), ("conv", 1, 0, (2, 0.5)),
                                                ("conv", float("inf"), 1, (1,)), ("linear", "fro", 1, (0.3, 0.3))])
def test_ln_structured_matches_torch(kind, n, dim, amounts):
    a, b = pair(kind, seed=3)
    for amount in amounts:
        prune.ln_structured(a, "weight", amount, n=n, dim=dim)
        tprune.ln_structured(b, "weight", amount, n=n, dim=dim)
        assert_same_pruning(a, b)


@pytest.mark.covers("P1")
def test_global_unstructured_matches_torch_after_a_local_prune():
    (a1, b1), (a2, b2) = pair("linear", 1), pair("conv", 2)
    prune.l1_unstructured(a1, "weight", 0.2)
    tprune.l1_unstructured(b1, "weight", 0.2)
    prune.global_unstructured([(a1, "weight"), (a2, "weight")], amount=0.6)
    tprune.global_unstructured([(b1, "weight"), (b2, "weight")], pruning_method=tprune.L1Unstructured, amount=0.6)
    assert_same_pruning(a1, b1)
    assert_same_pruning(a2, b2)
    total = a1.weight.numpy().size + a2.weight.numpy().size
    zeros = (a1.weight_mask.numpy() == 0).sum() + (a2.weight_mask.numpy() == 0).sum()
    assert zeros == round(0.2 * 35) + round(0.6 * (total - round(0.2 * 35)))


@pytest.mark.covers("P1")
def test_forward_and_gradients_match_torch_and_pruned_weights_get_no_gradient():
    a, b = pair("conv", 4)
    prune.l1_unstructured(a, "weight", 0.5)
    tprune.l1_unstructured(b, "weight", 0.5)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    ya, yb = a(dn.tensor(x)), b(torch.tensor(x))
    assert_close(ya.numpy(), yb.detach(), "forward")
    ya.sum().backward()
    yb.sum().backward()
    assert_close(a.weight_orig.grad.numpy(), b.weight_orig.grad.numpy(), "grad of weight_orig")
    assert np.all(a.weight_orig.grad.numpy()[a.weight_mask.numpy() == 0] == 0)


@pytest.mark.covers("P1")
def test_ties_prune_the_right_count_and_never_a_larger_magnitude():
    layer = nn.Linear(6, 4).double()
    layer.weight.data[...] = np.random.default_rng(0).choice([-0.5, -0.1, 0.1, 0.3], size=(4, 6))
    t = torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(layer.weight.numpy().copy()))
    prune.l1_unstructured(layer, "weight", 0.5)
    tprune.l1_unstructured(t, "weight", 0.5)
    mask, tmask = layer.weight_mask.numpy(), t.weight_mask.numpy()
    assert (mask == 0).sum() == (tmask == 0).sum() == 12
    mags = np.abs(layer.weight_orig.numpy())
    assert mags[mask == 0].max() <= mags[mask == 1].min()


@pytest.mark.covers("P1")
def test_state_dict_round_trip_remove_and_errors():
    a, _ = pair()
    prune.l1_unstructured(a, "weight", 0.5)
    assert set(a.state_dict()) == {"bias", "weight_orig", "weight_mask"} and prune.is_pruned(a)
    b, _ = pair(seed=9)
    prune.identity(b, "weight")
    b.load_state_dict(a.state_dict())
    x = dn.tensor(np.random.default_rng(1).standard_normal((3, 7)))
    assert np.array_equal(b(x).numpy(), a(x).numpy())
    before = a(x).numpy()
    prune.remove(a, "weight")
    assert not prune.is_pruned(a) and [k for k, _ in a.named_parameters()] == ["bias", "weight"]
    assert np.array_equal(a(x).numpy(), before) and (a.weight.numpy() == 0).sum() == round(0.5 * 35)
    with pytest.raises(ValueError, match="amount=99"):
        prune.l1_unstructured(a, "weight", 99)
    with pytest.raises(ValueError, match=r"fractional amount must be in \[0, 1\], got 1.5"):
        prune.l1_unstructured(a, "weight", 1.5)
    with pytest.raises(ValueError, match="not pruned"):
        prune.remove(a, "weight")


@pytest.mark.covers("P1")
def test_random_unstructured_prunes_only_survivors():
    a, _ = pair()
    prune.l1_unstructured(a, "weight", 10)
    first = a.weight_mask.numpy().copy()
    prune.random_unstructured(a, "weight", 0.5, generator=np.random.default_rng(0))
    mask = a.weight_mask.numpy()
    assert (mask == 0).sum() == 10 + round(0.5 * 25) and np.all(mask[first == 0] == 0)


@pytest.mark.covers("P1")
def test_cubic_schedule_and_gradual_pruner():
    s = [prune.cubic_sparsity(t, 0.9, begin_step=0, end_step=10) for t in range(12)]
    assert s[0] == 0 and s[10] == s[11] == 0.9 and np.all(np.diff(s) >= 0)
    assert s[5] == pytest.approx(0.9 * (1 - 0.5 ** 3))
    assert s[1] - s[0] > s[9] - s[8]  # fast first, slow at the end
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 3))
    pruner = prune.GradualPruner([(model[0], "weight"), (model[2], "weight")], 0.8, 0, 5)
    reached = [pruner.step() for _ in range(6)]
    assert reached[-1] == pytest.approx(0.8, abs=1 / 260) and np.all(np.diff(reached) >= 0)
    report = prune.sparsity_report(model)
    assert report[-1]["name"] == "total" and report[-1]["zeros"] == round(0.8 * 260)
    assert "0.weight" in prune.format_sparsity_report(model)
