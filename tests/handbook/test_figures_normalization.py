"""The normalization figure builders (handbook entries N1, N2, N4): the axes diagram shows exactly the
elements each layer normalizes together, and every builder writes an image."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.handbook.figures import build_figure
from deepnotes.handbook.figures import normalization as figures

SHAPE = (4, 6, 3, 3)  # the diagram's (N, C, H, W)
LAYERS = {
    "batch": (lambda: nn.BatchNorm2d(6, affine=False), 4 * 3 * 3),
    "layer": (lambda: nn.LayerNorm((6, 3, 3), elementwise_affine=False), 6 * 3 * 3),
    "instance": (lambda: nn.InstanceNorm2d(6), 3 * 3),
    "group": (lambda: nn.GroupNorm(2, 6, affine=False), 3 * 3 * 3),
}


@pytest.mark.covers("N2")
@pytest.mark.parametrize("kind", list(LAYERS))
def test_highlighted_cells_are_one_statistic_group_of_the_layer(kind):
    """The highlighted set has the size of one of the layer's groups and the layer's output is standardized over
    it (a wrong set of that size is not): the diagram shows the layer's grouping, computed from normalization_axes."""
    make, size = LAYERS[kind]
    x = dn.tensor(np.random.default_rng(0).normal(2.0, 3.0, size=SHAPE) * np.arange(1, 7)[None, :, None, None])
    y = make()(x).numpy().astype(np.float64)
    rng = np.random.default_rng(1)
    for _ in range(5):
        index = tuple(int(rng.integers(d)) for d in SHAPE)
        mask = figures.statistic_group(kind, SHAPE, groups=2, index=index)
        assert mask[index] and mask.sum() == size
        assert abs(y[mask].mean()) < 1e-5 and abs(y[mask].var() - 1) < 1e-3


@pytest.mark.covers("N2")
def test_statistic_group_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="normalization_axes: kind must be one of"):
        figures.statistic_group("weight", SHAPE)


@pytest.mark.covers("N1", "N2", "N4")
@pytest.mark.parametrize("builder", ["axes_diagram", "running_statistics", "pre_post_ln"])
def test_builders_write_an_image(tmp_path, builder):
    path = build_figure(f"deepnotes.handbook.figures.normalization.{builder}", tmp_path / f"{builder}.svg")
    text = path.read_text(encoding="utf-8")
    assert "<svg" in text and len(text) > 5000
