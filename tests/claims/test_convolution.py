"""Sanity tests of the convolution claims (K31, K32): each measurement is run on a deliberately
broken variant (the adjoint replaced by another operator, the dilations removed) and must change as
the mechanism says; tests/claims/test_smoke.py runs each claim at the tiny budget. No test asserts a claim's verdict."""
import numpy as np
import pytest

from deepnotes.claims.experiments import convolution as C
from deepnotes.claims.experiments._toolkit_a import log_tol_effect



@pytest.mark.covers("K31", "C5")
def test_k31_adjoint_replaced_by_another_operator_fails():
    rng = np.random.default_rng(0)
    for _ in range(5):
        cfg = C.random_conv_config(rng)
        good = C.adjoint_and_inverse_errors(cfg, np.random.default_rng(1))
        assert log_tol_effect(good["adjoint_error"], 1e-10) > 0

        def other(conv, conv_t):  # the transposed convolution of a different weight: same shapes, wrong map
            w = np.random.default_rng(7).standard_normal((cfg["c_out"], cfg["c_in"] // cfg["groups"], *cfg["kernel"]))
            return C.conv_pair(cfg, w)[1]

        broken = C.adjoint_and_inverse_errors(cfg, np.random.default_rng(1), transpose=other)
        assert log_tol_effect(broken["adjoint_error"], 1e-10) < 0


@pytest.mark.covers("K31", "C5")
def test_k31_inverse_error_sees_an_inverse_up_to_scale():
    # a 1x1 stride-1 convolution from one channel: C^T C = ||w||^2 I, an inverse up to scale
    cfg = {"c_in": 1, "c_out": 3, "kernel": (1, 1), "stride": (1, 1), "padding": (0, 0), "dilation": (1, 1),
           "groups": 1, "size": (5, 4)}
    assert C.adjoint_and_inverse_errors(cfg, np.random.default_rng(0))["inverse_error"] < 1e-12
    # the explicit matrices: the transposed convolution's is the convolution's transposed
    weight = np.random.default_rng(0).standard_normal((2, 2, 3, 3))
    matrix, matrix_t = C.explicit_matrices(C.K31_SMALL, weight)
    assert matrix.shape == (2 * 3 * 3, 2 * 5 * 5) and np.allclose(matrix_t, matrix.T, atol=1e-12)


@pytest.mark.covers("K32", "C6")
def test_k32_without_dilation_the_field_grows_linearly():
    for layers in (1, 2, 3):
        plain = C.conv_stack([1] * layers, seed=0)
        rf, covered = C.measured_rf(C.gradient_footprint(plain, 31))
        assert rf == 2 * layers + 1 and covered == 1.0
    rf, _ = C.measured_rf(C.gradient_footprint(C.conv_stack([1, 1, 1], seed=0), 31))
    assert log_tol_effect(abs(rf - 15), 0.5) < 0  # the exponential criterion fails on the broken variant
    rf, covered = C.measured_rf(C.gradient_footprint(C.conv_stack(C.K32_GRIDDING, seed=0), 31))
    assert rf == 13 and 0 < covered < 0.5  # dilation 2 three times: only even offsets are seen
