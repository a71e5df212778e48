"""Figures of the detection, metrics, compression, tuning and theory entries (D1, D2, M1, M2, P2, P3, H1, T1): the data
they draw is computed by deepnotes and checked here against independent arithmetic; every builder writes an image."""
import numpy as np
import pytest

from deepnotes.handbook.figures import build_figure, compression, evaluation, theory


@pytest.mark.covers("D1")
def test_iou_by_shift_is_s_minus_d_over_s_plus_d_then_zero():
    d, iou, giou = evaluation.iou_by_shift(size=10.0, shifts=[0.0, 10 / 3, 5.0, 10.0, 15.0])
    np.testing.assert_allclose(iou, [1.0, 0.5, 1 / 3, 0.0, 0.0])
    # GIoU keeps falling after the boxes separate: enclosing box 10 x (10 + d), union 200
    np.testing.assert_allclose(giou[3:], [0.0 - 0.0 / 200, 0.0 - (250 - 200) / 250])


@pytest.mark.covers("D2")
def test_nms_example_keeps_one_box_per_object_and_soft_nms_decays_instead():
    boxes, scores, keep, (order, soft_scores) = evaluation.nms_example()
    assert keep.tolist() == [0, 3, 5]  # the stray box 5 overlaps box 0 at IoU < 0.5
    assert sorted(order.tolist()) == list(range(6)) and soft_scores[0] == pytest.approx(0.95)
    kept_elsewhere = dict(zip(order.tolist(), soft_scores.tolist()))
    assert kept_elsewhere[1] < scores[1] and kept_elsewhere[4] < scores[4]


@pytest.mark.covers("D4", "K49")
def test_fpn_head_gives_small_objects_more_positive_anchors_and_large_ones_the_same():
    small, large = np.array([6, 8, 10, 12]), np.array([24, 28, 32])
    single = evaluation.positive_anchors_by_size("single", small)
    fpn = evaluation.positive_anchors_by_size("fpn", small)
    assert (fpn > single).all()
    np.testing.assert_array_equal(evaluation.positive_anchors_by_size("single", large),
                                  evaluation.positive_anchors_by_size("fpn", large))  # same large anchors


@pytest.mark.covers("M1", "M2")
def test_scored_problem_auc_barely_moves_with_the_class_ratio_while_ap_falls():
    from deepnotes.metrics import average_precision_score, roc_auc_score

    balanced, rare = evaluation.scored_problem(positive_share=0.5), evaluation.scored_problem(positive_share=0.05)
    assert abs(rare[0].mean() - 0.05) < 0.01
    auc = [roc_auc_score(y, s) for y, s in (balanced, rare)]
    ap = [average_precision_score(y, s) for y, s in (balanced, rare)]
    assert abs(auc[0] - auc[1]) < 0.03 and ap[1] < ap[0] - 0.3  # N(0,1) vs N(2,1): AUC = Phi(2 / sqrt 2) ~ 0.92
    assert auc[0] == pytest.approx(0.921, abs=0.02)


@pytest.mark.covers("P3")
def test_soft_targets_and_the_t_squared_gradient_scale():
    z = compression.TEACHER_LOGITS
    p1 = compression.soft_targets(z, 1.0)
    np.testing.assert_allclose(p1, np.exp(z) / np.exp(z).sum())
    assert compression.soft_targets(z, 16.0).max() < p1.max()  # softer, same ranking
    T, plain, scaled = compression.gradient_scale()
    ratio = plain[-1] / plain[0]
    assert ratio < 1 / (0.5 * T[-1] ** 2)  # falls at least like 1/T^2 (up to a factor 2)
    np.testing.assert_allclose(scaled, plain * T**2)
    assert scaled.max() / scaled.min() < 3


@pytest.mark.covers("H1")
def test_grid_tests_three_values_of_a_parameter_random_tests_nine():
    grid, rand = theory.search_points(n=9)
    assert len(np.unique(grid[:, 0])) == 3 and len(np.unique(rand[:, 0])) == 9
    assert ((rand >= 0) & (rand <= 1)).all()


@pytest.mark.covers("T1")
def test_random_feature_fit_improves_with_width_inside_the_interval_only():
    x_train, x_in, x_out = np.linspace(-2, 2, 200), np.linspace(-2, 2, 401), np.linspace(2.5, 3, 51)
    err = {w: np.abs(theory.random_feature_fit(w, x_train, theory.target(x_train), x_in) - theory.target(x_in)).max()
           for w in (3, 10, 50)}
    assert err[50] < err[10] < err[3] and err[50] < 0.05
    outside = np.abs(theory.random_feature_fit(50, x_train, theory.target(x_train), x_out) - theory.target(x_out)).max()
    assert outside > 10 * err[50]


@pytest.mark.covers("P1")
def test_cubic_schedule_values_drawn_by_the_pruning_figure():
    from deepnotes.compress.prune import cubic_sparsity

    # s_t = s_f (1 - (1 - progress)^3): at a quarter of the way, 0.9 * (1 - 0.75^3)
    assert cubic_sparsity(300, 0.9, begin_step=100, end_step=900) == pytest.approx(0.9 * (1 - 0.75**3))
    assert cubic_sparsity(50, 0.9, begin_step=100, end_step=900) == 0.0
    assert cubic_sparsity(950, 0.9, begin_step=100, end_step=900) == 0.9


@pytest.mark.covers("D1", "D2", "D4", "M1", "P1", "P2", "P3", "P4", "H1", "T1", "T2")
@pytest.mark.parametrize("builder", ["evaluation.iou_curves", "evaluation.nms_panels", "evaluation.roc_and_pr",
                                     "compression.distillation_temperature", "compression.quantization_grid",
                                     "compression.pruning_schedule", "evaluation.positives_single_vs_fpn",
                                     "compression.output_layer_costs", "theory.grid_vs_random",
                                     "theory.universal_approximation", "theory.kkt_geometry"])
def test_builders_write_svg(tmp_path, builder):
    out = build_figure(f"deepnotes.handbook.figures.{builder}", tmp_path / f"{builder}.svg")
    text = out.read_text()
    assert "<svg" in text and text.count("<path") > 5


@pytest.mark.slow  # fits logistic regression on two data sets at six sizes (~15 s on 2 busy cores)
@pytest.mark.covers("T3")
def test_generative_vs_discriminative_figure_draws_both_learning_curves(tmp_path):
    out = build_figure("deepnotes.handbook.figures.theory.generative_vs_discriminative_curves", tmp_path / "gd.svg")
    assert out.read_text().count("<path") > 10
