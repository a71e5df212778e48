"""PyTorch's further tensor functions (ops/tensor_more.py): values and gradients against torch, float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnotes as dn
from tests.oracle import assert_close, check_fn

RNG = np.random.default_rng(11)
M = RNG.standard_normal((4, 5))
B = RNG.standard_normal((2, 3, 4))
V, W = RNG.standard_normal(4), RNG.standard_normal(4)

# name: (deepnotes call, torch call, inputs); the same lambda body is written for both libraries
CASES = {
    "tril": (lambda x: dn.tril(x, -1), lambda x: torch.tril(x, -1), [M]),
    "triu": (lambda x: x.triu(1), lambda x: x.triu(1), [B]),
    "flip": (lambda x: dn.flip(x, (0, 2)), lambda x: torch.flip(x, (0, 2)), [B]),
    "roll": (lambda x: dn.roll(x, (1, -2), (0, 2)), lambda x: torch.roll(x, (1, -2), (0, 2)), [B]),
    "roll_flat": (lambda x: x.roll(3), lambda x: x.roll(3), [M]),
    "index_select": (lambda x: dn.index_select(x, 1, dn.tensor([4, 0, 0, 2])),
                     lambda x: torch.index_select(x, 1, torch.tensor([4, 0, 0, 2])), [M]),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [M]),
    "tile": (lambda x: dn.tile(x, (2,)), lambda x: torch.tile(x, (2,)), [M]),
    "repeat_interleave": (lambda x: dn.repeat_interleave(x, 2, dim=0), lambda x: torch.repeat_interleave(x, 2, dim=0),
                          [M]),
    "movedim": (lambda x: dn.movedim(x, (0, 1), (2, 0)), lambda x: torch.movedim(x, (0, 1), (2, 0)), [B]),
    "swapaxes": (lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), [B]),
    "outer": (dn.outer, torch.outer, [V, W]),
    "dot": (dn.dot, torch.dot, [V, W]),
    "mv": (dn.mv, torch.mv, [M.T, V]),
    "addmm": (lambda a, b, c: dn.addmm(a, b, c, beta=0.5, alpha=2.0),
              lambda a, b, c: torch.addmm(a, b, c, beta=0.5, alpha=2.0), [M, M, M.T @ M]),
    "lerp": (lambda a, b: dn.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), [V, W]),
    "diagonal": (lambda x: dn.diagonal(x, 1, 1, 2), lambda x: torch.diagonal(x, 1, 1, 2), [B]),
    "diag_matrix": (lambda x: dn.diag(x, -1), lambda x: torch.diag(x, -1), [M]),
    "diag_vector": (lambda x: dn.diag(x, 2), lambda x: torch.diag(x, 2), [V]),
    "diag_vector_below": (lambda x: dn.diag(x, -1), lambda x: torch.diag(x, -1), [V]),
    "trace": (dn.trace, torch.trace, [M]),
    "cumsum": (lambda x: dn.cumsum(x, 1), lambda x: torch.cumsum(x, 1), [B]),
    "clamp_min": (lambda x: x.clamp_min(0.1), lambda x: x.clamp_min(0.1), [M]),
    "hstack": (lambda a, b: dn.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [M, M]),
    "vstack": (lambda a, b: dn.vstack([a, b]), lambda a, b: torch.vstack([a, b]), [V, W]),
    "broadcast_to": (lambda x: dn.broadcast_to(x, (3, 4)), lambda x: torch.broadcast_to(x, (3, 4)), [V]),
    "masked_select": (lambda x: dn.masked_select(x, dn.tensor(M > 0)), lambda x: torch.masked_select(x, torch.tensor(M > 0)),
                      [M]),
    "meshgrid_ij": (lambda a, b: dn.meshgrid(a, b, indexing="ij"), lambda a, b: torch.meshgrid(a, b, indexing="ij"),
                    [V, W[:3]]),
    "meshgrid_xy": (lambda a, b: dn.meshgrid(a, b, indexing="xy"), lambda a, b: torch.meshgrid(a, b, indexing="xy"),
                    [V, W[:3]]),
    "var_mean": (lambda x: dn.var_mean(x, 1), lambda x: torch.var_mean(x, 1), [M]),
    "std_mean": (lambda x: dn.std_mean(x, 0, correction=0), lambda x: torch.std_mean(x, 0, correction=0), [M]),
    "baddbmm": (lambda a, b, c: dn.baddbmm(a, b, c, beta=0.5, alpha=2.0),
                lambda a, b, c: torch.baddbmm(a, b, c, beta=0.5, alpha=2.0), [B[:, :, :3], B, B.transpose(0, 2, 1)[:, :, :3]]),
    "nan_to_num": (lambda x: dn.nan_to_num(x / dn.tensor(np.array([0.0, 1.0, 2.0, 0.0]))),
                   lambda x: torch.nan_to_num(x / torch.tensor([0.0, 1.0, 2.0, 0.0])), [np.array([0.0, 1.0, -1.0, 3.0])]),
}


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", list(CASES))
def test_function_matches_torch_with_gradients(name):
    ours, theirs, inputs = CASES[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        check_fn(ours, theirs, inputs)


@pytest.mark.covers("E1")
def test_predicates_and_logic_match_torch():
    x = np.array([0.0, np.nan, np.inf, -np.inf, 2.0])
    assert dn.argwhere(dn.tensor(x) > 1).tolist() == torch.argwhere(torch.tensor(x) > 1).tolist()
    for name in ("isnan", "isinf", "isfinite", "logical_not"):
        assert_close(getattr(dn, name)(dn.tensor(x)), getattr(torch, name)(torch.tensor(x)), name)
    a, b = np.array([True, False, True]), np.array([True, True, False])
    for name in ("logical_and", "logical_or", "logical_xor"):
        assert_close(getattr(dn, name)(dn.tensor(a), dn.tensor(b)), getattr(torch, name)(torch.tensor(a), torch.tensor(b)),
                     name)


@pytest.mark.covers("E1")
def test_in_place_activations_and_clone():
    x = dn.tensor(M.copy())
    x.relu_()
    assert_close(x, torch.tensor(M).relu(), "relu_")
    assert dn.clone(x) is not x and np.array_equal(dn.clone(x).numpy(), x.numpy())


@pytest.mark.covers("E1")
def test_multinomial_draws_by_weight_and_names_bad_weights():
    dn.manual_seed(0)
    probs = dn.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]])
    draws = dn.multinomial(probs, 4000, replacement=True)
    assert draws.shape == (2, 4000) and draws.dtype == np.int64
    counts = np.bincount(draws.numpy()[0], minlength=3) / 4000
    assert counts[0] == 0 and abs(counts[2] - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 4000)  # 5 sigma
    assert set(draws.numpy()[1]) == {0}
    no_repeat = dn.multinomial(dn.tensor([1.0, 1.0, 1.0, 1.0]), 4)
    assert sorted(no_repeat.tolist()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="multinomial: cannot draw 2 samples without replacement"):
        dn.multinomial(dn.tensor([[0.0, 1.0]]), 2)
    with pytest.raises(ValueError, match="multinomial: the weights must be finite, non-negative"):
        dn.multinomial(dn.tensor([-1.0, 2.0]), 1)


@pytest.mark.covers("E1")
def test_bernoulli_mean_within_five_sigma():
    dn.manual_seed(1)
    draws = dn.bernoulli(dn.full((20000,), 0.3))
    assert set(np.unique(draws.numpy())) <= {0.0, 1.0}
    assert abs(float(draws.mean()) - 0.3) < 5 * np.sqrt(0.3 * 0.7 / 20000)
