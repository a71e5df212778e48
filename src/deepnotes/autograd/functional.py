"""Derivatives of whole functions: vjp, jacobian, hvp, hessian (torch.autograd.functional).

All four are built on `autograd.grad`; `hvp` and `hessian` differentiate a
gradient again (`create_graph=True`), i.e. double backward (inventory O5).

Hessian-vector product (Pearlmutter 1994): for a scalar f,
    H v = d/dx <grad f(x), v>,
so one backward pass that records itself plus one more backward give H v at
about twice the cost of a gradient, without ever forming the n x n matrix H.
That is what makes second-order information usable for big models (CG-based
Newton steps, curvature probes); the full Hessian needs n such products,
which is why `hessian` is for small inputs only.

Convention, as in PyTorch: `inputs` is a Tensor or a tuple of Tensors; the
result mirrors it (a Tensor, or a tuple).  The inputs are differentiated as
fresh leaves: the caller's tensors and their `.grad` are not touched.
"""
from __future__ import annotations

import numpy as np

from ..ops.api import stack
from .engine import grad
from .grad_mode import enable_grad
from .tensor import Tensor, as_tensor


def _as_tuple(x):
    """(tuple of Tensors, whether `x` was a tuple or list)."""
    if isinstance(x, (tuple, list)):
        return tuple(as_tensor(t) for t in x), True
    return (as_tensor(x),), False


def _leaves(inputs, create_graph):
    """Differentiable stand-ins for `inputs`.

    With `create_graph`, an input that requires grad stays connected to its
    graph (through a copy), so the result can be differentiated w.r.t. it.
    """
    out = []
    for t in inputs:
        if t.dtype.kind != "f":
            raise TypeError(f"autograd.functional: inputs must be floating point, got dtype {t.dtype}")
        if create_graph and t.requires_grad:
            out.append(t.clone())
        else:
            out.append(Tensor(t._data, requires_grad=True))
    return tuple(out)


def _grads_or_zeros(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    """`grad(...)` with zeros for inputs the outputs do not depend on."""
    differentiable = [o for o in outputs if o.requires_grad]
    if not differentiable:
        return tuple(Tensor(np.zeros_like(t._data)) for t in inputs)
    chosen = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    grads = grad(differentiable, inputs, chosen, retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)
    return tuple(Tensor(np.zeros_like(t._data)) if g is None else g for t, g in zip(inputs, grads))


def _result(values, was_tuple, create_graph):
    values = tuple(v if create_graph else v.detach() for v in values)
    return values if was_tuple else values[0]


def _evaluate(func, inputs):
    with enable_grad():
        return func(*inputs)


def vjp(func, inputs, v=None, create_graph=False):
    """Vector-Jacobian product v^T J of `func` at `inputs`.

    Args:
        func: takes the input Tensors, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: the vector(s) to multiply, shaped like the outputs; may be omitted
            when the output has one element.
        create_graph: make the result differentiable.

    Returns:
        (func_output, vjp), each mirroring the structure of output and inputs.
    """
    inputs, inputs_tuple = _as_tuple(inputs)
    leaves = _leaves(inputs, create_graph)
    output = _evaluate(func, leaves)
    outputs, outputs_tuple = _as_tuple(output)
    vs = [None] * len(outputs) if v is None else list(_as_tuple(v)[0])
    result = _grads_or_zeros(outputs, leaves, vs, create_graph)
    return _result(outputs, outputs_tuple, create_graph), _result(result, inputs_tuple, create_graph)


def jacobian(func, inputs, create_graph=False):
    """The Jacobian of `func` (one output Tensor) at `inputs`: shape output.shape + input.shape.

    One backward pass per output element, so for small outputs only.
    """
    inputs, inputs_tuple = _as_tuple(inputs)
    leaves = _leaves(inputs, create_graph)
    output = _evaluate(func, leaves)
    blocks = _rows(output, leaves, create_graph)
    return _result(blocks, inputs_tuple, create_graph)


def _rows(output, leaves, create_graph):
    """d output / d leaf for each leaf, one backward per element of `output`."""
    rows = [[] for _ in leaves]
    with enable_grad():
        flat = output.reshape(-1)
        for k in range(flat.shape[0]):  # one backward per output element (small outputs only)
            grads = _grads_or_zeros([flat[k]], leaves, [None], create_graph, retain_graph=True)
            for i, g in enumerate(grads):
                rows[i].append(g if create_graph else g.detach())
    return tuple(stack(r).reshape(output.shape + leaf.shape) for r, leaf in zip(rows, leaves))


def hvp(func, inputs, v, create_graph=False):
    """Hessian-vector product H v of a scalar `func` at `inputs`, by double backward.

    Args:
        func: takes the input Tensors, returns a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like `inputs`.
        create_graph: make the result differentiable.

    Returns:
        (func_output, hvp), hvp mirroring `inputs`.

    Example:
        >>> import deepnotes as dn
        >>> from deepnotes.autograd.functional import hvp
        >>> f = lambda x: (x ** 3).sum()                     # H = diag(6 x)
        >>> _, hv = hvp(f, dn.tensor([1.0, 2.0]), dn.tensor([1.0, 1.0]))
        >>> hv.tolist()
        [6.0, 12.0]
    """
    inputs, inputs_tuple = _as_tuple(inputs)
    vs, _ = _as_tuple(v)
    if len(vs) != len(inputs) or any(a.shape != b.shape for a, b in zip(vs, inputs)):
        raise ValueError(
            f"hvp: v must match the inputs' shapes {[t.shape for t in inputs]}, got {[t.shape for t in vs]}"
        )
    leaves = _leaves(inputs, create_graph)
    output = _evaluate(func, leaves)
    _check_scalar(output, "hvp")
    with enable_grad():
        grads = _grads_or_zeros([output], leaves, [None], create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(grads, vs))
    result = _grads_or_zeros([dot], leaves, [None], create_graph)
    return _result((output,), False, create_graph), _result(result, inputs_tuple, create_graph)


def hessian(func, inputs, create_graph=False):
    """The Hessian of a scalar `func` at `inputs`.

    For one input of shape S the result has shape S + S; for a tuple of
    inputs it is a tuple of tuples, block (i, j) of shape S_i + S_j.  Costs
    one backward through the gradient's graph per input element.
    """
    inputs, inputs_tuple = _as_tuple(inputs)
    leaves = _leaves(inputs, create_graph)
    output = _evaluate(func, leaves)
    _check_scalar(output, "hessian")
    with enable_grad():
        grads = _grads_or_zeros([output], leaves, [None], create_graph=True)
    blocks = tuple(_rows(g, leaves, create_graph) for g in grads)
    if not inputs_tuple:
        return blocks[0][0]
    return tuple(_result(row, True, create_graph) for row in blocks)


def _check_scalar(output, caller):
    if not isinstance(output, Tensor) or output.numel() != 1:
        shape = output.shape if isinstance(output, Tensor) else type(output).__name__
        raise RuntimeError(f"{caller}: func must return a one-element Tensor, got {shape}")
