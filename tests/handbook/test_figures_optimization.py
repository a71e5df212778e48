"""The optimization figure builders (handbook entries O1-O9): the batch-noise curve follows the
finite-population formula it is drawn against, and every builder writes an image."""
import numpy as np
import pytest

from deepnotes.handbook.figures import build_figure
from deepnotes.handbook.figures import optimization as figures

SLOW = {"gd_sgd_minibatch_paths", "adaptive_paths", "second_order_paths", "batch_size_noise"}


@pytest.mark.covers("O1", "O8")
def test_minibatch_gradient_noise_follows_the_finite_population_formula():
    sizes, measured, predicted = figures.minibatch_gradient_noise(sizes=(1, 4, 16, 64, 256, 1000), n=1000, draws=300)
    assert np.all(np.diff(measured) < 0)  # larger batches, less noise
    np.testing.assert_allclose(measured[:-1] / predicted[:-1], 1.0, atol=0.12)
    assert predicted[-1] == 0 and measured[-1] < 1e-12  # the whole data set: no noise left
    assert measured[0] / measured[2] == pytest.approx(4.0, rel=0.15)  # 16x the batch: a quarter of the spread


@pytest.mark.covers("O2")
def test_momentum_figure_shows_what_its_caption_says():
    """O2's caption: GD ends at loss ~6e-3, heavy ball ~4e-5, Nesterov (smaller lr) ~3e-7 after 60 steps."""
    _, runs = figures.momentum_runs()
    gd, heavy, nesterov = (run.losses[-1] for run in runs.values())
    assert 3e-3 < gd < 1e-2 and 1e-5 < heavy < 1e-4 and 1e-7 < nesterov < 1e-6


@pytest.mark.slow
@pytest.mark.covers("O5")
def test_second_order_figure_shows_what_its_caption_says():
    """O5's caption: GD is not there after 2000 steps; L-BFGS needs about 35 iterations, Newton under 10."""
    runs = figures.second_order_runs()
    first_below = {label: int(np.argmax(run.losses < 1e-9)) if np.any(run.losses < 1e-9) else None
                   for label, run in runs.items()}
    assert first_below["GD lr=1e-3"] is None and runs["GD lr=1e-3"].losses[-1] > 1e-3
    assert 25 <= first_below["L-BFGS"] <= 45
    assert first_below["Newton (exact H)"] < 10


@pytest.mark.parametrize("builder", [
    pytest.param(name, marks=[pytest.mark.covers(key)] + ([pytest.mark.slow] if name in SLOW else []))
    for key, name in ((k, f.__name__) for k, f in figures.BUILDERS.items())])
def test_builders_write_an_image(tmp_path, builder):
    path = build_figure(f"deepnotes.handbook.figures.optimization.{builder}", tmp_path / f"{builder}.svg")
    text = path.read_text(encoding="utf-8")
    assert "<svg" in text and len(text) > 5000
