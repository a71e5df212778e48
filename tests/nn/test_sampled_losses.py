"""Negative sampling and sampled softmax losses (inventory S7, P4)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.layers.sampled_losses import noise_distribution
from tests.nn.test_output_layers import _with_weight
from tests.oracle import gradcheck


@pytest.mark.covers("S7", "P4")
def test_negative_sampling_loss_formula_and_gradcheck():
    counts = np.array([50, 20, 10, 5, 1])
    ns = nn.NegativeSamplingLoss(counts, 3, num_negatives=4, reduction="sum").double()
    ns.weight.data[...] = np.random.default_rng(0).normal(size=ns.weight.shape)
    h = np.random.default_rng(1).normal(size=(6, 3))
    t = np.array([0, 1, 2, 3, 4, 0])
    neg = np.random.default_rng(2).integers(0, 5, (6, 4))
    U = ns.weight.numpy()
    logsig = lambda x: -np.log1p(np.exp(-x))  # noqa: E731
    expected = -(logsig((h * U[t]).sum(1)) + logsig(-np.einsum("nkd,nd->nk", U[neg], h)).sum(1)).sum()
    assert ns(dn.tensor(h), t, neg).item() == pytest.approx(expected, rel=1e-12)
    gradcheck(lambda h, w: _with_weight(ns, w, lambda: ns(h, t, neg)), [h, U.copy()])


@pytest.mark.covers("S7", "P4")
def test_noise_distribution_is_unigram_to_the_three_quarters():
    counts = np.array([1000, 100, 10, 1])
    q = noise_distribution(counts)
    np.testing.assert_allclose(q, counts ** 0.75 / (counts ** 0.75).sum())
    assert q[3] > counts[3] / counts.sum()  # rare words are drawn more often than their frequency
    ns = nn.NegativeSamplingLoss(counts, 2)
    draws = ns.sample((200_000,))
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / draws.size, q, atol=0.004)


@pytest.mark.covers("P4")
def test_sampled_softmax_with_every_class_sampled_uniformly_is_the_full_softmax():
    """With Q uniform and all V classes as samples, the log Q correction is one constant and the
    target's own sample is masked as an accidental hit: the loss is full cross-entropy."""
    V, H = 7, 3
    sm = nn.SampledSoftmaxLoss(np.ones(V), H, num_samples=V).double()
    h = np.random.default_rng(0).normal(size=(5, H))
    t = np.array([0, 3, 6, 3, 2])
    loss = sm(dn.tensor(h), t, samples=np.arange(V))
    logits = torch.tensor(h) @ torch.tensor(sm.weight.numpy()).T + torch.tensor(sm.bias.numpy())
    assert loss.item() == pytest.approx(TF.cross_entropy(logits, torch.tensor(t)).item(), rel=1e-12)
    hv = dn.tensor(h, requires_grad=True)
    sm(hv, t, samples=np.arange(V)).backward()
    th = torch.tensor(h, requires_grad=True)
    TF.cross_entropy(th @ torch.tensor(sm.weight.numpy()).T + torch.tensor(sm.bias.numpy()), torch.tensor(t)).backward()
    np.testing.assert_allclose(hv.grad.numpy(), th.grad.numpy(), rtol=1e-10)


@pytest.mark.covers("P4")
def test_sampled_softmax_trains_towards_the_full_softmax_optimum():
    """A few hundred steps with 5 samples out of 50 classes lower the FULL cross-entropy."""
    V, H = 50, 8
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(V, H)) * 2
    t = rng.integers(0, V, 256)
    h = dn.tensor((centers[t] + rng.normal(size=(256, H))).astype(np.float32))
    sm = nn.SampledSoftmaxLoss(np.ones(V), H, num_samples=5)

    def full_loss():
        logits = h.numpy() @ sm.weight.numpy().T + sm.bias.numpy()
        return TF.cross_entropy(torch.tensor(logits), torch.tensor(t)).item()

    before = full_loss()
    for _ in range(300):
        sm.zero_grad()
        sm(h, t).backward()
        for p in sm.parameters():
            p.data -= 0.5 * p.grad.numpy()
    assert full_loss() < 0.5 * before
