"""Figures of the foundations entries (E1-E6): the graph figure is drawn from `to_dot`'s nodes and edges."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.autograd import to_dot
from deepnotes.handbook.figures import build_figure, foundations


@pytest.mark.covers("E2")
def test_parse_dot_reads_every_node_and_edge_of_to_dot():
    loss, params = foundations.small_mlp_loss()
    source = to_dot(loss, params=params)
    nodes, edges = foundations.parse_dot(source)
    assert len(nodes) == source.count("[label=")
    assert len(edges) == source.count("->")
    assert sum(back for *_, back in edges) == source.count("style=dashed")
    labels = {label.split("\n")[0] for label, _ in nodes.values()}
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "input", "ReLU"} <= labels
    backward_targets = {nodes[dst][0].split("\n")[0] for src, dst, back in edges if back}
    assert "input" not in backward_targets and "0.weight" in backward_targets  # no gradient to the data


@pytest.mark.covers("E2")
def test_small_mlp_loss_restores_the_global_generator():
    dn.manual_seed(3)
    expected = dn.randn(4).data
    dn.manual_seed(3)
    foundations.small_mlp_loss()
    np.testing.assert_array_equal(dn.randn(4).data, expected)


@pytest.mark.covers("E6")
def test_two_moons_is_balanced_and_not_linearly_separable_by_construction():
    x, y = foundations.two_moons(200, noise=0.0, seed=1)
    assert x.shape == (200, 2) and x.dtype == np.float32 and np.bincount(y).tolist() == [100, 100]
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0, rtol=1e-6)  # upper moon: the unit half circle
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1.0, x[y == 1, 1] - 0.5), 1.0, rtol=1e-6)


@pytest.mark.covers("E2")
def test_graph_figure_without_graphviz_uses_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setattr(foundations.shutil, "which", lambda name: None)
    out = build_figure("deepnotes.handbook.figures.foundations.computational_graph", tmp_path / "g.svg")
    assert "<svg" in out.read_text()


@pytest.mark.covers("E1", "E3", "E4", "E5", "E6")
@pytest.mark.parametrize("name", ["computational_graph", "training_step", "neuron", "mlp_architecture",
                                  "linear_collapse"])
def test_builders_write_svg(tmp_path, name):
    out = build_figure(f"deepnotes.handbook.figures.foundations.{name}", tmp_path / f"{name}.svg")
    assert "<svg" in out.read_text() and out.stat().st_size > 5000
