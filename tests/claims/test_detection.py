"""Claim K49 (small objects and one coarse feature map): its measurements on hand-made cases, its
verdict combination, and one seed at the tiny budget. No test asserts the claim's verdict."""
import math

import numpy as np
import pytest

from deepnotes.claims import DOES_NOT_HOLD, HOLDS, MIXED, registry
from deepnotes.claims.experiments import detection as K
from deepnotes.vision import AnchorGenerator


def square_targets(sides, rng):
    targets = []
    for s in sides:
        x, y = rng.uniform(0, 64 - s, 2)
        targets.append({"boxes": np.array([[x, y, x + s, y + s]]), "labels": np.array([0])})
    return targets


@pytest.mark.covers("K49", "D2")
def test_positive_anchor_count_falls_with_size_for_ssd_boxes():
    rng = np.random.default_rng(0)
    targets = square_targets([5.0] * 30 + [12.0] * 30 + [28.0] * 30, rng)
    counts = K.positives_by_size(K.ssd_anchors(), targets)
    assert counts["small"][0] < counts["medium"][0] < counts["large"][0]
    assert counts["small"][1] == 1.0  # no 5-px object reaches IoU 0.5 with any SSD default box here
    # with dense small anchors (stride 2, 5 px) the small objects do get positives: the metric can flip
    dense = np.concatenate(AnchorGenerator(((5.0,),), ((1.0,),))([(32, 32)], [2]))
    assert K.positives_by_size(dense, targets)["small"][0] > K.positives_by_size(dense, targets)["large"][0]


def test_combine_needs_the_gaps_and_one_recovery():
    base = {"positives_gap": HOLDS, "single_small_gap": HOLDS, "detectors_trained": HOLDS}
    assert K._combine({**base, "fpn_recovers_small": HOLDS, "pyramid_recovers_small": DOES_NOT_HOLD}) == HOLDS
    assert K._combine({**base, "fpn_recovers_small": MIXED, "pyramid_recovers_small": DOES_NOT_HOLD}) == MIXED
    assert K._combine({**base, "fpn_recovers_small": DOES_NOT_HOLD,
                       "pyramid_recovers_small": DOES_NOT_HOLD}) == DOES_NOT_HOLD
    assert K._combine({**base, "positives_gap": DOES_NOT_HOLD, "fpn_recovers_small": HOLDS,
                       "pyramid_recovers_small": HOLDS}) == DOES_NOT_HOLD


@pytest.mark.parametrize("precondition", [DOES_NOT_HOLD, MIXED])
@pytest.mark.parametrize("others", [HOLDS, DOES_NOT_HOLD])
def test_combine_says_nothing_about_untrained_detectors(precondition, others):
    # detectors that do not detect: no verdict either way, whatever the gaps between them
    verdicts = {c.name: others for c in K.k49.criteria}
    verdicts["detectors_trained"] = precondition
    assert K._combine(verdicts) == MIXED


@pytest.mark.covers("K49", "D4")
def test_k49_tiny_seed_returns_complete_deterministic_evidence():
    claim = registry.get("K49")
    first = claim.run(0, "tiny")
    assert set(first["effects"]) == {c.name for c in claim.criteria}
    assert all(math.isfinite(v) for v in first["metrics"].values())
    for arm in K.ARMS:
        assert all(0.0 <= first["metrics"][f"{arm}/ap50_{b}"] <= 1.0 for b in K.BUCKETS)
    assert first["effects"]["positives_gap"] == pytest.approx(
        first["metrics"]["anchors/large/positives_per_gt"] - first["metrics"]["anchors/small/positives_per_gt"])
    # the precondition: the weakest medium / large AP50 of the two trained heads (small objects excluded:
    # they are what the claim is about), minus the floor
    weakest = min(first["metrics"][f"{arm}/ap50_{b}"] for arm in ("single", "fpn") for b in ("medium", "large"))
    assert first["effects"]["detectors_trained"] == pytest.approx(weakest - K.MIN_AP50_TRAINED)
    again = claim.run(0, "tiny")
    assert again["effects"] == first["effects"]
