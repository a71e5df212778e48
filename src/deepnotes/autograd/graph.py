"""Draw the computational graph of a tensor, forward and backward (inventory E2).

`to_dot(y)` returns Graphviz DOT source: one box per leaf tensor (a parameter,
an input, a constant), one ellipse per op with its output shape, solid arrows
for the forward pass (data flows from inputs to ops) and dashed red arrows
labelled "grad" for the backward pass (gradients flow the other way, along
every edge whose source requires a gradient).  `render(y, path)` writes SVG
with the `dot` program when it is installed, else the `.dot` file.

Call them *before* `backward()`: backward frees the graph as it goes (each
node drops its inputs and saved arrays, unless `retain_graph=True`), and a
freed graph cannot be drawn; `to_dot` then raises a RuntimeError.

Example:
    >>> import deepnotes as dn
    >>> from deepnotes.autograd import to_dot
    >>> w = dn.randn(3, 2, requires_grad=True)
    >>> src = to_dot((dn.randn(4, 3) @ w).relu().sum(), params={"w": w})
    >>> src.count("->")        # 4 forward edges, 3 backward
    7
"""
from __future__ import annotations

import re
from pathlib import Path

from .engine import topological_order

_LEAF_STYLE = {
    "param": 'shape=box, style="rounded,filled", fillcolor="#cfe2ff"',
    "input": 'shape=box, style="rounded,filled", fillcolor="#e9ecef"',
}
_OP_STYLE = 'shape=ellipse, style=filled, fillcolor="#fff3cd"'
_BACKWARD_STYLE = 'style=dashed, color="#d63384", fontcolor="#d63384", label="grad", constraint=false'


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _leaf_label(tensor, names):
    name = names.get(id(tensor)) or tensor.name
    if name is None:
        if tensor.requires_grad:
            name = "leaf"
        elif tensor._data.size == 1:
            name = f"const {tensor._data.reshape(()).item():.4g}"
        else:
            name = "input"
    return f"{name}\n{tuple(tensor.shape)}"


def to_dot(tensor, params=None, show_backward=True):
    """Graphviz DOT source of the graph that computed `tensor`.

    Args:
        tensor: the output (usually the loss), before `backward()` is called.
        params: optional {name: tensor} used to label leaves, e.g.
            `dict(model.named_parameters())`; otherwise a leaf shows its
            `.name`, or "leaf" / "input" / "const <value>".
        show_backward: also draw the backward pass as dashed "grad" edges.

    Returns:
        DOT source: nodes = ops + leaves; one solid edge per op input; one
        dashed reversed edge per op input that receives a gradient.

    Raises:
        RuntimeError: a node of the graph was freed by an earlier backward.
    """
    names = {id(t): n for n, t in (params or {}).items()}
    lines = ["digraph graph_of_tensor {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    if tensor.grad_fn is None:
        kind = "param" if tensor.requires_grad else "input"
        lines.append(f"  t0 [label={_quote(_leaf_label(tensor, names))}, {_LEAF_STYLE[kind]}];")
        return "\n".join(lines + ["}"]) + "\n"
    _check_not_freed(tensor)
    order = topological_order([tensor])
    for t in order:
        _check_not_freed(t)

    ids = {}

    def node_id(t):
        if id(t) not in ids:
            ids[id(t)] = f"{'op' if t.grad_fn is not None else 't'}{len(ids)}"
        return ids[id(t)]

    edges, declared = [], set()
    for t in order:  # inputs before outputs
        node = t.grad_fn
        op = node_id(t)
        label = f"{node.name}\n{tuple(t.shape)}"
        extra = ", peripheries=2" if t is tensor else ""
        lines.append(f"  {op} [label={_quote(label)}, {_OP_STYLE}{extra}];")
        for inp, needs in zip(node.inputs, node.needs_input_grad):
            src = node_id(inp)
            if inp.grad_fn is None and src not in declared:
                declared.add(src)
                kind = "param" if inp.requires_grad else "input"
                lines.append(f"  {src} [label={_quote(_leaf_label(inp, names))}, {_LEAF_STYLE[kind]}];")
            edges.append(f"  {src} -> {op};")
            if show_backward and needs:
                edges.append(f"  {op} -> {src} [{_BACKWARD_STYLE}];")
    return "\n".join(lines + edges + ["}"]) + "\n"


def _check_not_freed(tensor):
    if tensor.grad_fn.released:
        raise RuntimeError(
            f"to_dot: the graph through {tensor.grad_fn.name} was freed by backward(); "
            "draw the graph before calling backward, or call backward(retain_graph=True)"
        )


def render(tensor, path, fmt="svg", params=None):
    """Write the graph of `tensor` to `path` as `fmt` (svg, png, pdf) using Graphviz's `dot`.

    When `dot` is not on PATH, writes the DOT source instead (`path` with
    suffix `.dot`), which any Graphviz viewer opens.  No Python graphviz
    package is needed.

    Returns:
        The path of the file written.
    """
    if not re.fullmatch(r"[a-z0-9]+", fmt):
        raise ValueError(f"render: fmt must be a Graphviz output format such as 'svg', got {fmt!r}")
    source = to_dot(tensor, params=params)
    import shutil  # deferred with subprocess: 17 modules (1 MB) that only render() needs
    import subprocess

    path = Path(path)
    dot = shutil.which("dot")
    if dot is None:
        out = path.with_suffix(".dot")
        out.write_text(source)
        return out
    out = path.with_suffix("." + fmt)
    result = subprocess.run([dot, f"-T{fmt}", "-o", str(out)], input=source, text=True,
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"render: dot -T{fmt} failed: {result.stderr.strip()}")
    return out
