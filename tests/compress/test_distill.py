"""Distillation loss against the same composition in PyTorch, and the T^2 factor."""
import numpy as np
import pytest
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes import optim
from deepnotes.compress import distill
from tests.oracle import check_fn


@pytest.mark.covers("P3", "K36")
@pytest.mark.parametrize("T,alpha", [(1.0, 0.5), (4.0, 0.9), (20.0, 0.3), (2.0, 1.0)])
def test_distillation_loss_and_gradients_match_torch(T, alpha):
    rng = np.random.default_rng(int(T))
    student, teacher = rng.standard_normal((6, 5)), rng.standard_normal((6, 5)) * 3
    y = rng.integers(0, 5, 6)

    def reference(s, t, target):
        soft = TF.kl_div(TF.log_softmax(s / T, dim=1), TF.softmax(t / T, dim=1), reduction="batchmean")
        return alpha * T * T * soft + (1 - alpha) * TF.cross_entropy(s, target)

    check_fn(lambda s, t, target: distill.distillation_loss(s, t.detach(), target, T, alpha),
             lambda s, t, target: reference(s, t.detach(), target), [student, teacher, y])


@pytest.mark.covers("P3", "K36")
def test_t_squared_keeps_the_soft_gradient_scale():
    rng = np.random.default_rng(0)
    s, t = rng.standard_normal((32, 10)), rng.standard_normal((32, 10)) * 2
    plain = [distill.soft_gradient_norm(s, t, T) for T in (2.0, 5.0, 20.0)]
    scaled = [distill.soft_gradient_norm(s, t, T, t_squared=True) for T in (2.0, 5.0, 20.0)]
    assert plain[0] / plain[2] > 50  # about (20 / 2)^2 = 100
    assert max(scaled) / min(scaled) < 2


@pytest.mark.covers("P3")
def test_distill_helper_trains_toward_the_teacher_and_validates():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 6)).astype(np.float32)
    teacher = nn.Sequential(nn.Linear(6, 3))
    dn.manual_seed(0)
    student = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    with dn.no_grad():
        y = teacher(dn.tensor(x)).data.argmax(1)
    history = distill.distill(student, teacher, optim.Adam(student.parameters(), lr=1e-2), x, y, 5, T=2.0)
    assert history[-1] < history[0]
    with pytest.raises(ValueError, match="distillation_loss: T must be a number > 0, got 0"):
        distill.distillation_loss(dn.tensor(x[:, :3]), x[:, :3], y, T=0)
    with pytest.raises(ValueError, match="alpha must be in"):
        distill.distillation_loss(dn.tensor(x[:, :3]), x[:, :3], y, alpha=1.5)
