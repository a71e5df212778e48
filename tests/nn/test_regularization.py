"""Norms and penalties of weights vs PyTorch, and what L1 vs L2 do to weights (inventory R3)."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.utils import frobenius_norm, l0_count, l1_penalty, l2_penalty, nuclear_norm
from tests.oracle import check_fn, gradcheck, random_inputs

SHAPE_SETS = [[(5,)], [(3, 4)], [(3, 4), (4,)], [(2, 3, 3, 3), (2,), (7, 2)]]


@pytest.mark.covers("R3")
@pytest.mark.parametrize("shapes", SHAPE_SETS)
def test_l1_penalty_matches_torch(shapes):
    inputs = random_inputs(shapes, seed=len(shapes))
    inputs[0].flat[0] = 0.0  # |w| at 0: subgradient 0, as torch
    check_fn(lambda *ws: l1_penalty(ws), lambda *ws: sum(w.abs().sum() for w in ws), inputs)


@pytest.mark.covers("R3")
@pytest.mark.parametrize("shapes", SHAPE_SETS)
def test_l2_penalty_matches_torch(shapes):
    check_fn(lambda *ws: l2_penalty(ws), lambda *ws: sum((w**2).sum() for w in ws), random_inputs(shapes, seed=7))


@pytest.mark.covers("R3")
@pytest.mark.parametrize("shape", [(4, 3), (5,), (2, 3, 4)])
def test_frobenius_norm_matches_torch(shape):
    check_fn(frobenius_norm, lambda w: torch.linalg.vector_norm(w), random_inputs([shape], seed=1))
    if len(shape) == 2:
        check_fn(frobenius_norm, lambda w: torch.linalg.matrix_norm(w, "fro"), random_inputs([shape], seed=2))


@pytest.mark.covers("R3")
def test_frobenius_norm_of_zero_has_zero_gradient():
    check_fn(frobenius_norm, lambda w: torch.linalg.vector_norm(w), [np.zeros((3, 2))])


@pytest.mark.covers("R3")
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (6, 6), (2, 3, 4)])
def test_nuclear_norm_matches_torch(shape):
    # Random Gaussian matrices have full rank and distinct singular values: the gradient U V^T is exact.
    check_fn(nuclear_norm, lambda w: torch.linalg.matrix_norm(w, ord="nuc"), random_inputs([shape], seed=3), atol=1e-9)


@pytest.mark.covers("R3")
def test_nuclear_norm_gradient_by_finite_differences_and_errors():
    gradcheck(nuclear_norm, random_inputs([(5, 3)], seed=4))
    with pytest.raises(ValueError, match=r"nuclear_norm: expected a matrix \(..., m, n\)"):
        nuclear_norm(dn.ones(3))


@pytest.mark.covers("R3")
def test_nuclear_norm_is_the_l1_norm_of_singular_values_and_counts_rank():
    rng = np.random.default_rng(0)
    low_rank = rng.standard_normal((8, 2)) @ rng.standard_normal((2, 6))
    s = np.linalg.svd(low_rank, compute_uv=False)
    assert np.isclose(nuclear_norm(dn.tensor(low_rank)).item(), s.sum())
    assert np.sum(s > 1e-10) == 2
    assert np.isclose(frobenius_norm(dn.tensor(low_rank)).item(), np.sqrt(np.sum(s**2)))


@pytest.mark.covers("R3")
def test_l0_count_counts_nonzeros_above_tolerance():
    w = dn.tensor([[0.0, 1e-4, -2.0], [0.5, 0.0, -1e-6]])
    assert l0_count(w) == 4 and isinstance(l0_count(w), int)
    assert l0_count([w, dn.ones(5)], tol=1e-3) == 2 + 5
    model = nn.Sequential(nn.LayerNorm(4))
    assert l0_count(model.parameters()) == 4  # weight ones count, bias zeros do not


@pytest.mark.covers("R3")
def test_penalties_accept_model_parameters_and_reject_empty():
    model = nn.Sequential(nn.LayerNorm(3), nn.GroupNorm(1, 2))
    with dn.no_grad():
        expected = sum(np.sum(p.numpy()**2) for p in model.parameters())
    assert np.isclose(l2_penalty(model.parameters()).item(), expected)
    with pytest.raises(ValueError, match="l1_penalty: expected a tensor or a non-empty iterable"):
        l1_penalty([])


@pytest.mark.covers("R3")
def test_half_lambda_l2_penalty_is_sgd_weight_decay():
    """loss + (lambda / 2) * l2_penalty has gradient grad + lambda * w: SGD's weight_decay=lambda."""
    lam, lr = 0.1, 0.5
    w0 = np.random.default_rng(0).standard_normal((3, 2))
    x = np.random.default_rng(1).standard_normal((4, 3))
    w = dn.tensor(w0, requires_grad=True)
    ((dn.tensor(x) @ w).sum() + (lam / 2) * l2_penalty(w)).backward()
    ours = w0 - lr * w.grad.numpy()
    tw = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.SGD([tw], lr=lr, weight_decay=lam)
    (torch.tensor(x) @ tw).sum().backward()
    opt.step()
    np.testing.assert_allclose(ours, tw.detach().numpy(), rtol=1e-12)


@pytest.mark.covers("R3")
def test_l1_drives_weights_to_exact_zeros_and_l2_only_shrinks_them():
    """Proximal view of one coordinate: minimizing (w - a)^2 / 2 + lam * penalty(w).
    L1's solution soft-thresholds (|a| <= lam gives exactly 0); L2's is a / (1 + 2 lam), never 0."""
    lam = 0.5
    a = np.linspace(-2, 2, 41)
    results = {}
    for name, penalty in (("l1", l1_penalty), ("l2", l2_penalty)):
        w = dn.tensor(np.zeros_like(a) + 0.3, requires_grad=True)
        for _ in range(600):  # plain (sub)gradient descent
            w.grad = None
            (((w - dn.tensor(a)) ** 2).sum() * 0.5 + lam * penalty(w)).backward()
            with dn.no_grad():
                w.data = w.numpy() - 0.01 * w.grad.numpy()
        results[name] = w.numpy()
    soft = np.sign(a) * np.maximum(np.abs(a) - lam, 0)
    np.testing.assert_allclose(results["l1"], soft, atol=0.02)  # subgradient steps hover within ~step of 0
    np.testing.assert_allclose(results["l2"], a / (1 + 2 * lam), atol=1e-4)
    assert np.sum(np.abs(results["l1"]) < 0.02) == np.sum(np.abs(a) <= lam + 1e-9) == 11
    assert np.sum(np.abs(results["l2"]) < 0.02) == 1  # only a = 0 itself
