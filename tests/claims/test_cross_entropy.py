"""Sanity tests of the cross-entropy claims (K08, K40) on deliberately broken variants (test_smoke.py runs each
claim at the tiny budget). No test asserts a claim's verdict."""

import numpy as np
import pytest
import torch

from deepnotes.claims.experiments import cross_entropy as L


@pytest.mark.covers("K08", "L3")
def test_k08_identity_matches_torch_and_a_reversed_kl_breaks_the_gradients():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3.0, size=(64, 10))
    t = L.soft_targets(rng, 64, 10)
    good = L.ce_kl_check(z, t)
    assert good["identity_error"] < 1e-10 and good["gradient_difference"] < 1e-10
    ref = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(t)).item()
    assert good["ce"] == pytest.approx(ref, abs=1e-12)
    dense = rng.dirichlet(np.ones(10), size=64)  # no zeros: the reversed KL needs log t

    def reversed_kl(logp, target):  # KL(p || t): the wrong direction
        p = logp.exp()
        return (p * (logp - np.log(dense))).sum() / len(dense)

    broken = L.ce_kl_check(z, dense, kl_fn=reversed_kl)
    assert broken["gradient_difference"] > 1e-3


@pytest.mark.covers("K40", "L2")
def test_k40_ratio_is_large_only_when_the_output_saturates_on_the_wrong_side():
    ratio = L.logit_gradient_ratio(np.array([-8.0, 0.0, 8.0]), np.ones(3))
    p = 1 / (1 + np.exp(-np.array([-8.0, 0.0, 8.0])))
    np.testing.assert_allclose(ratio, 1 / (2 * p * (1 - p)), rtol=1e-9)
    assert ratio[0] > 10 and ratio[1] == pytest.approx(2.0)


@pytest.mark.covers("K40", "L2")
def test_k40_saturated_init_is_confidently_wrong_and_starves_mse_of_gradient():
    import deepnotes as dn
    from deepnotes import data

    split = data.load_digits()
    x, y = split.x_train[:300], split.y_train[:300]
    norms = {}
    for loss in ("ce", "mse"):
        model = L.bad_init_classifier(64, 10, 32, 0)
        with dn.no_grad():
            p = dn.softmax(model(dn.tensor(x)), dim=1).numpy()
        assert np.all(p[:, 0] > 0.99)  # saturated on class 0 for every image
        L.classifier_loss(loss, model(dn.tensor(x)), y, 10).backward()
        norms[loss] = float(np.linalg.norm(model[0].weight.grad))
    assert norms["ce"] > 10 * norms["mse"]
    frozen = L.bad_init_classifier(64, 10, 32, 0)
    steps, curve = L.steps_to_train_accuracy("ce", frozen, x, y, 0.0, 30, 0)  # lr 0: never gets there
    assert steps == 31 and curve[0] == pytest.approx(np.mean(y == 0))
