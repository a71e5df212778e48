"""Claim K21 (imbalanced classes) at the tiny budget, its pieces on controlled inputs, and a verdict
that follows the data. No test asserts the claim's verdict."""
import numpy as np
import pytest

from deepnotes.claims import registry, runner
from deepnotes.claims.experiments import imbalance as K


@pytest.mark.covers("K21", "M1", "M2")
def test_k21_is_registered_with_its_sub_claims():
    claim = registry.get("K21")
    names = [c.name for c in claim.criteria]
    assert names[0].startswith("a_") and any(n.startswith("c_") for n in names)
    assert {f"b_{r}_{m}" for r in K.REMEDIES for m in ("recall", "f1")} <= set(names)
    assert {"M1", "M2", "L4"} <= set(claim.topics)


@pytest.mark.covers("K21")
def test_k21_tiny_runs_every_arm_deterministically():
    first = runner.run_seed("K21", 0, "tiny")
    again = runner.run_seed("K21", 0, "tiny")
    assert first["metrics"] == again["metrics"] and first["effects"] == again["effects"]
    for arm in K.ARMS:
        for key in ("accuracy", "recall", "f1", "ap", "roc_auc"):
            assert 0.0 <= first["metrics"][f"breast_cancer_{arm}_{key}"] <= 1.0
    # the constant 'majority' predictor: accuracy = majority share, recall 0 (sub-claim a, measured)
    share = first["metrics"]["breast_cancer_minority_fraction"]
    assert first["metrics"]["breast_cancer_constant_accuracy"] == pytest.approx(1 - share)
    assert first["metrics"]["breast_cancer_constant_recall"] == 0.0


@pytest.mark.covers("K21", "M2")
def test_arms_of_one_fold_share_the_initialization():
    x, y = K.imbalanced_breast_cancer(np.random.default_rng(0))
    a = K._train(x, y, init_seed=5, steps=3)
    b = K._train(x, y, init_seed=5, steps=0)
    c = K._train(x, y, init_seed=5, steps=0)
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy()) for p, q in zip(b.parameters(), c.parameters()))
    assert not all(np.array_equal(p.detach().numpy(), q.detach().numpy()) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.covers("K21")
def test_k21_data_sets_are_imbalanced_as_stated():
    x, y = K.imbalanced_breast_cancer(np.random.default_rng(1))
    assert abs(y.mean() - 0.10) < 0.01 and x.shape[1] == 30
    x, y = K.imbalanced_synthetic(1)
    assert abs(y.mean() - 0.10) < 0.02 and np.isfinite(x).all()


@pytest.mark.covers("K21")
def test_k21_verdict_follows_the_effects():
    """The same criteria say 'does not hold' when the remedies do nothing and 'holds' when they help."""
    claim = registry.get("K21")
    names = [c.name for c in claim.criteria]

    def seeds(value):
        rng = np.random.default_rng(0)
        return [{"effects": {n: (0.9 if n.startswith("a_") else value) + 0.01 * rng.normal() for n in names}}
                for _ in range(5)]

    assert claim.judge(seeds(0.0))["verdict"] == "does not hold"
    assert claim.judge(seeds(0.3))["verdict"] == "holds"
