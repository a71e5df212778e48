"""Graph export (src/deepnotes/autograd/graph.py): DOT structure, labels, backward edges, rendering."""
import re
import shutil
import stat

import numpy as np
import pytest

import deepnotes as dn
from deepnotes.autograd import render, to_dot
from tests.doctests import assert_examples_run


def _mlp_loss():
    """x -> Linear -> ReLU -> Linear -> mean squared: 9 ops on 6 leaves (x, y and four parameters)."""
    params = {"fc1.weight": dn.randn(4, 3, requires_grad=True), "fc1.bias": dn.zeros(4, requires_grad=True),
              "fc2.weight": dn.randn(2, 4, requires_grad=True), "fc2.bias": dn.zeros(2, requires_grad=True)}
    x, y = dn.randn(5, 3), dn.randn(5, 2)
    h = (x @ params["fc1.weight"].T + params["fc1.bias"]).relu()          # MatMul, Permute, Add, ReLU
    out = h @ params["fc2.weight"].T + params["fc2.bias"]                 # MatMul, Permute, Add
    loss = ((out - y) ** 2).mean()                                        # Sub, Pow (+ const 2), Mean
    return loss, params, ["MatMul", "Permute", "Add", "ReLU", "Sub", "Pow", "Mean"]


def _nodes(src):
    return re.findall(r"^  (\w+) \[label=\"([^\"]*)\"", src, flags=re.M)


def _edges(src):
    solid = re.findall(r"^  (\w+) -> (\w+);$", src, flags=re.M)
    dashed = re.findall(r"^  (\w+) -> (\w+) \[style=dashed.*label=\"grad\"", src, flags=re.M)
    return solid, dashed


@pytest.mark.covers("E2")
def test_nodes_are_ops_plus_leaves_with_names_and_shapes():
    loss, params, op_names = _mlp_loss()
    src = to_dot(loss, params=params)
    nodes = _nodes(src)
    ops = [n for n in nodes if n[0].startswith("op")]
    leaves = [n for n in nodes if n[0].startswith("t")]
    assert len(ops) == 10 and len(leaves) == 7  # 10 ops; x, y, 4 parameters, the constant 2
    assert len(nodes) == len(ops) + len(leaves)
    for name in op_names:
        assert any(label.startswith(name + "\\n") for _, label in ops), name
    labels = {label for _, label in leaves}
    assert {"fc1.weight\\n(4, 3)", "fc1.bias\\n(4,)", "fc2.weight\\n(2, 4)", "fc2.bias\\n(2,)"} <= labels
    assert "input\\n(5, 3)" in labels and "const 2\\n()" in labels
    assert "Mean\\n()" in {label for _, label in ops} and "MatMul\\n(5, 4)" in {label for _, label in ops}


@pytest.mark.covers("E2")
def test_backward_edges_reverse_every_forward_edge_that_carries_a_gradient():
    loss, params, _ = _mlp_loss()
    src = to_dot(loss, params=params)
    solid, dashed = _edges(src)
    nodes = dict(_nodes(src))
    constants = {n for n, label in nodes.items() if label.startswith(("input", "const"))}
    carrying = [(a, b) for a, b in solid if a not in constants]
    assert len(solid) == 16  # one per op input
    assert sorted(dashed) == sorted((b, a) for a, b in carrying)
    assert len(dashed) == len(solid) - 3  # x, y and the exponent get no gradient
    no_backward = to_dot(loss, params=params, show_backward=False)
    assert _edges(no_backward) == (solid, [])


@pytest.mark.covers("E2")
def test_every_forward_edge_gets_a_backward_edge_when_all_leaves_require_grad():
    a = dn.randn(3, requires_grad=True)
    b = dn.randn(3, requires_grad=True)
    c = a * b
    src = to_dot((c * c + a).sum())  # c is used twice: two edges into the same Mul
    solid, dashed = _edges(src)
    assert len(solid) == len(dashed) == 7
    assert solid.count(next(iter(e for e in solid if solid.count(e) == 2))) == 2


@pytest.mark.covers("E2")
def test_dot_source_is_well_formed():
    loss, params, _ = _mlp_loss()
    src = to_dot(loss, params=params)
    assert src.startswith("digraph ") and src.rstrip().endswith("}")
    assert src.count("{") == src.count("}") == 1 and src.count("[") == src.count("]")
    assert src.count('"') % 2 == 0
    for line in src.strip().splitlines()[1:-1]:
        assert line.endswith(";"), line
    declared = {n for n, _ in _nodes(src)}
    solid, dashed = _edges(src)
    assert {x for e in solid + dashed for x in e} <= declared


@pytest.mark.covers("E2")
def test_a_leaf_alone_and_tensor_names():
    w = dn.Tensor([1.0, 2.0], requires_grad=True, name="w")
    src = to_dot(w)
    assert _nodes(src) == [("t0", "w\\n(2,)")] and "->" not in src
    assert "w\\n(2,)" in to_dot((w * 2).sum())


@pytest.mark.covers("E2")
def test_to_dot_after_backward_raises_a_clear_error():
    x = dn.randn(3, requires_grad=True)
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    assert "Mul" in to_dot(y)  # a retained graph can still be drawn
    y.backward()
    with pytest.raises(RuntimeError, match="freed by backward.*before calling backward"):
        to_dot(y)


@pytest.mark.covers("E2")
def test_render_without_dot_writes_the_dot_file(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    loss, params, _ = _mlp_loss()
    out = render(loss, tmp_path / "mlp.svg", params=params)
    assert out == tmp_path / "mlp.dot" and out.read_text() == to_dot(loss, params=params)


@pytest.mark.covers("E2")
def test_render_calls_dot_with_the_format(tmp_path, monkeypatch):
    """A stand-in `dot` on PATH records its arguments and copies stdin to the -o file."""
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\n'
                    'while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done\ncat > "$out"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    x = dn.randn(2, requires_grad=True)
    y = (x * x).sum()
    out = render(y, tmp_path / "graph", fmt="png")
    assert out == tmp_path / "graph.png" and out.read_text() == to_dot(y)
    assert (fake.parent / "args").read_text().split()[0] == "-Tpng"
    with pytest.raises(ValueError, match="fmt"):
        render(y, tmp_path / "g", fmt="svg; rm -rf /")


@pytest.mark.covers("E2")
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_render_svg_with_graphviz(tmp_path):
    loss, params, _ = _mlp_loss()
    out = render(loss, tmp_path / "mlp", params=params)
    assert out.suffix == ".svg" and "<svg" in out.read_text() and "fc1.weight" in out.read_text()


@pytest.mark.covers("E2")
def test_drawing_does_not_change_the_gradients():
    loss, params, _ = _mlp_loss()
    to_dot(loss, params=params)
    loss.backward()
    assert all(p.grad is not None and np.all(np.isfinite(p.grad.numpy())) for p in params.values())


@pytest.mark.covers("E2")
def test_docstring_examples_run():
    assert_examples_run("deepnotes.autograd.graph")
