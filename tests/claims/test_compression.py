"""Sanity tests of K35 (pruning, quantization) and K36 (distillation) on deliberately broken variants
(test_smoke.py runs both claims at the tiny budget). No test asserts a claim's verdict."""
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.claims.experiments import compression as C


@pytest.fixture(scope="module")
def trained_mlp():
    x, y, xte, yte = C.mnist1d("quick")
    dn.manual_seed(0)
    model = C.train(C.build("mlp", 64), x[:1500], y[:1500], 4, seed=0)
    return model, x[:1500], y[:1500], xte[:500], yte[:500]


@pytest.mark.covers("K35", "P1")
def test_k35_pruning_the_largest_weights_instead_destroys_the_model(trained_mlp):
    model, _, _, xte, yte = trained_mlp
    base = C.accuracy(model, xte, yte)
    smallest = C.accuracy(C.one_shot_pruned(model, 0.5), xte, yte)
    largest = C.accuracy(C.one_shot_pruned(model, 0.5, largest=True), xte, yte)
    assert base > 30 and smallest > largest + 15 and largest < 25
    sparse = C.one_shot_pruned(model, 0.5)
    zeros = sum(int((m.weight.numpy() == 0).sum()) for m, _ in C.weights(sparse))
    assert zeros == round(0.5 * sum(m.weight.numpy().size for m, _ in C.weights(sparse)))


@pytest.mark.covers("K35", "P1")
def test_k35_gradual_pruning_reaches_the_sparsity_while_training(trained_mlp):
    model, x, y, xte, yte = trained_mlp
    pruned = C.gradually_pruned(model, 0.8, x[:512], y[:512], 2, seed=0)
    total = sum(m.weight.numpy().size for m, _ in C.weights(pruned))
    zeros = sum(int((m.weight.numpy() == 0).sum()) for m, _ in C.weights(pruned))
    assert zeros == round(0.8 * total)


@pytest.mark.covers("K35", "P2")
def test_k35_effects_follow_the_criteria():
    acc = {"fp32": 90.0, "prune90_ft": 89.5, "int8_per_channel": 88.0, "binary": 80.0, "ternary": 84.0}
    other = dict(acc, prune90_ft=85.0)
    effects = C.k35_effects({"mlp": acc, "cnn": other})
    assert effects["prune90_finetuned"] == pytest.approx(1.0 - 5.0)  # the worse architecture
    assert effects["int8_ptq"] == pytest.approx(1.5 - 2.0)
    assert effects["lowbit_costs_more"] == pytest.approx((10 + 6) / 2 - 2)


class ConfidentRandomTeacher(nn.Module):
    """The broken variant of K36: an untrained CNN whose logits are scaled up (confidently wrong)."""

    def __init__(self):
        super().__init__()
        dn.manual_seed(123)
        self.net = C.build("cnn", 8)

    def forward(self, x):
        return self.net(x) * 50.0


@pytest.mark.covers("K36", "P3")
def test_k36_a_confidently_wrong_teacher_makes_distillation_lose():
    arms = C.distillation_arms(0, "tiny", teacher=ConfidentRandomTeacher(), temperatures=(1.0, 5.0), epochs=12)
    best, effects = C.k36_effects(arms, temperatures=(1.0, 5.0))
    assert arms["hard"][1] > 20
    assert effects["distill_gain"] < -5  # the measurement sees a bad teacher
