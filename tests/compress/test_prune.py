"""Pruning against torch.nn.utils.prune: masks, pruned weights, gradients, repeated and global pruning."""
import numpy as np
import pytest
import torch
from torch.nn.utils import prune as tprune

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim
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


OPTIMIZERS = {  # (deepnotes, torch) with momentum, weight decay or both: state that could revive a pruned weight
    "sgd_nesterov_wd": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.05, nesterov=True),
                        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.05, nesterov=True)),
    "adam_wd": (lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.05),
                lambda ps: torch.optim.Adam(ps, lr=0.05, weight_decay=0.05)),
    "adamw": (lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1),
              lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1)),
}


@pytest.mark.covers("P1")
@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_masks_survive_fine_tuning_with_momentum_and_weight_decay_as_in_torch(kind, name):
    """Pruned weights stay exactly zero through optimizer steps (momentum and weight decay keep moving
    ``weight_orig`` there, as in torch, but the mask multiplies it away), also when the mask grows mid-training."""
    a, b = pair(kind, seed=5)
    prune.l1_unstructured(a, "weight", 0.6)
    tprune.l1_unstructured(b, "weight", 0.6)
    make_ours, make_theirs = OPTIMIZERS[name]
    opt_a, opt_b = make_ours(list(a.parameters())), make_theirs(list(b.parameters()))
    rng = np.random.default_rng(7)
    shape = (4, 7) if kind == "linear" else (2, 3, 6, 6)
    for step in range(6):
        x = rng.standard_normal(shape)
        if step == 3:  # prune again while the optimizer has momentum for the newly pruned weights
            # torch ranks module.weight as the last forward left it; a forward first makes both rank today's values
            a(dn.tensor(x)), b(torch.tensor(x))
            prune.l1_unstructured(a, "weight", 0.5)
            tprune.l1_unstructured(b, "weight", 0.5)
        out_a, out_b = a(dn.tensor(x)), b(torch.tensor(x))
        cot = rng.uniform(0.5, 1.5, size=out_b.shape)
        opt_a.zero_grad()
        opt_b.zero_grad()
        (out_a * dn.tensor(cot)).sum().backward()
        (out_b * torch.tensor(cot)).sum().backward()
        opt_a.step()
        opt_b.step()
    a(dn.tensor(x)), b(torch.tensor(x))  # the hook recomputes weight = weight_orig * weight_mask
    assert_same_pruning(a, b)
    mask = a.weight_mask.numpy()
    assert (mask == 0).sum() == round(0.6 * mask.size) + round(0.5 * (mask.size - round(0.6 * mask.size)))
    assert np.all(a.weight.numpy()[mask == 0] == 0)
    assert np.any(a.weight_orig.numpy()[mask == 0] != 0)  # the optimizer did move them: the mask is what holds
    prune.remove(a, "weight")
    assert np.all(a.weight.numpy()[mask == 0] == 0)


@pytest.mark.covers("P1")
def test_iterative_pruning_matches_torch_prune_then_retrain():
    """Han et al.'s loop (prune globally to a target, retrain with the mask fixed, raise the target) against the
    same loop written with torch.nn.utils.prune, sharing data and SGD steps."""
    (a1, b1), (a2, b2) = pair("linear", 11), pair("conv", 12)
    ours, theirs = [(a1, "weight"), (a2, "weight")], [(b1, "weight"), (b2, "weight")]
    opt_a = optim.SGD([p for m, _ in ours for p in m.parameters()], lr=0.05, momentum=0.9)
    opt_b = torch.optim.SGD([p for m, _ in theirs for p in m.parameters()], lr=0.05, momentum=0.9)
    rng = np.random.default_rng(3)
    batches = [(rng.standard_normal((4, 7)), rng.standard_normal((2, 3, 6, 6))) for _ in range(3)]

    def retrain(m1, m2, opt, tensor):
        for x1, x2 in batches:
            opt.zero_grad()
            ((m1(tensor(x1)) ** 2).sum() + (m2(tensor(x2)) ** 2).sum()).backward()
            opt.step()
        return sum(int(np.asarray(m.weight_mask).sum()) for m in (m1, m2))  # the weights alive while retraining

    total = 35 + 6 * 3 * 3 * 3
    rounds = prune.iterative_pruning(ours, [0.3, 0.6, 0.85], lambda: retrain(a1, a2, opt_a, dn.tensor))
    for s in (0.3, 0.6, 0.85):
        b1(torch.tensor(batches[0][0])), b2(torch.tensor(batches[0][1]))  # torch ranks module.weight as of a forward
        done = sum(int((m.weight_mask == 0).sum()) for m, _ in theirs) if hasattr(b1, "weight_mask") else 0
        tprune.global_unstructured(theirs, pruning_method=tprune.L1Unstructured, amount=round(s * total) - done)
        retrain(b1, b2, opt_b, torch.tensor)
    a1(dn.tensor(batches[0][0])), a2(dn.tensor(batches[0][1]))
    b1(torch.tensor(batches[0][0])), b2(torch.tensor(batches[0][1]))
    assert_same_pruning(a1, b1)
    assert_same_pruning(a2, b2)
    assert [r for r, _ in rounds] == [round(s * total) / total for s in (0.3, 0.6, 0.85)]
    assert [alive for _, alive in rounds] == [total - round(s * total) for s in (0.3, 0.6, 0.85)]
    with pytest.raises(ValueError, match="iterative_pruning: sparsities must be a non-empty increasing"):
        prune.iterative_pruning(ours, [0.9, 0.5], lambda: None)
    with pytest.raises(ValueError, match=r"prune_to_sparsity: sparsity must be in \[0, 1\], got 1.5"):
        prune.prune_to_sparsity(ours, 1.5)


@pytest.mark.covers("P1")
def test_global_ties_prune_the_right_count_and_never_a_larger_magnitude():
    rng = np.random.default_rng(4)
    layers = [torch.nn.Linear(6, 4).double(), torch.nn.Linear(4, 5).double()]
    ours = [nn.Linear(6, 4).double(), nn.Linear(4, 5).double()]
    for t, o in zip(layers, ours):  # four magnitudes only: ties everywhere, across the two tensors
        values = rng.choice([-0.4, -0.2, 0.2, 0.1, 0.4], size=tuple(t.weight.shape))
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(values))
        prune.l1_unstructured(o, "weight", 0)
        o.load_state_dict({"weight_orig": dn.tensor(values), "weight_mask": dn.tensor(np.ones_like(values)),
                           "bias": o.bias})
    prune.global_unstructured([(o, "weight") for o in ours], amount=0.55)
    tprune.global_unstructured([(t, "weight") for t in layers], pruning_method=tprune.L1Unstructured, amount=0.55)
    zeros = sum(int((np.asarray(o.weight_mask) == 0).sum()) for o in ours)
    assert zeros == sum(int((t.weight_mask == 0).sum()) for t in layers) == round(0.55 * 44)
    mags = np.concatenate([np.abs(o.weight_orig.numpy()).ravel() for o in ours])
    mask = np.concatenate([np.asarray(o.weight_mask).ravel() for o in ours])
    assert mags[mask == 0].max() <= mags[mask == 1].min()


@pytest.mark.covers("P1")
def test_sparsity_report_counts_emptied_output_units():
    dn.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(2, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 6, 4))
    prune.ln_structured(model[0], "weight", 2, n=1, dim=0)  # two whole filters
    prune.l1_unstructured(model[3], "weight", 0.25)  # scattered zeros: no row empties
    rows = {r["name"]: r for r in prune.sparsity_report(model)}
    assert rows["0.weight"]["empty_outputs"] == 2 and rows["0.weight"]["zeros"] == 2 * 2 * 3
    assert rows["3.weight"]["empty_outputs"] == 0 and rows["0.bias"]["empty_outputs"] == 0
    assert rows["total"]["empty_outputs"] == 2
    text = prune.format_sparsity_report(model)
    assert "empty outputs" in text.splitlines()[0]
