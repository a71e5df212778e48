"""Figures (confusion matrix, ROC, PR) for binary and multi-class outputs; docstring examples run."""
import numpy as np
import pytest

from deepnotes.metrics import plots
from tests.doctests import assert_examples_run


@pytest.mark.covers("M1")
@pytest.mark.parametrize("k", [2, 3])
def test_evaluation_figures_are_written(tmp_path, k):
    rng = np.random.default_rng(0)
    y = rng.integers(0, k, 60)
    logits = rng.normal(size=(60, k)) + 2 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    paths = plots.write_evaluation_figures(y, proba, tmp_path, class_names=[f"c{i}" for i in range(k)])
    assert set(paths) == {"confusion_matrix", "roc", "pr"}
    for path in paths.values():
        assert (tmp_path / path.split("/")[-1]).stat().st_size > 2000
    # a class absent from y_true has no ROC/PR curve (and no error)
    plots.plot_roc_curve(np.zeros(10, int), np.full((10, k), 1 / k), tmp_path / "empty.png")


@pytest.mark.covers("M1", "M2")
@pytest.mark.parametrize("module", [
    "deepnotes.metrics.classification", "deepnotes.metrics.fscore", "deepnotes.metrics.ranking",
    "deepnotes.metrics.label_ranking",
    "deepnotes.data.imbalance", "deepnotes.data.feature_selection", "deepnotes.data.resampling",
    "deepnotes.data.loader"])
def test_docstring_examples_run(module):
    assert_examples_run(module)
