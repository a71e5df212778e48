"""The backward pass: reverse-mode accumulation over the recorded graph (inventory E1).

One walk serves `Tensor.backward` (defined here and attached to `Tensor`) and
`autograd.grad`:

1. order the tensors of the graph topologically, once (iteratively, so a chain
   of 100k ops does not hit Python's recursion limit);
2. seed the outputs' gradients;
3. visit the tensors from the outputs back to the inputs: each node
   (`Function`) turns the gradient of its output into gradients of its inputs
   (chain rule), which are reduced to the inputs' shapes (`unbroadcast`) and
   *added* to what the inputs already received, because a tensor used twice
   gets the sum of both paths' gradients (multivariate chain rule).

Every contribution to a tensor arrives before the tensor is visited (that is
what the topological order guarantees), so each node runs exactly once.

By default the walk works on NumPy arrays and is not recorded.  With
`create_graph=True` it works on Tensors under grad mode and runs each node's
backward on Tensors (`Function.backward_on_tensors`), so the gradients it
returns are themselves differentiable (Hessian-vector products, gradient
penalties).  The saved arrays of every node
are released as soon as the node has run, unless `retain_graph` is set.
"""
from __future__ import annotations

import functools

import numpy as np

from . import anomaly
from .function import unbroadcast
from .grad_mode import enable_grad
from .tensor import Tensor, private_array


def topological_order(roots):
    """Tensors with a `grad_fn` in the graphs under `roots`, inputs before outputs."""
    order, visited = [], set()
    stack = [(root, False) for root in roots if root.grad_fn is not None]
    while stack:
        tensor, children_done = stack.pop()
        if children_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for inp in tensor.grad_fn.inputs:
            if inp.grad_fn is not None and id(inp) not in visited:
                stack.append((inp, False))
    return order


def make_seed(output, gradient, create_graph, caller):
    """The gradient that starts the walk at `output`: given, or 1 for a one-element output."""
    if gradient is None:
        if output._data.size != 1:
            raise RuntimeError(
                f"{caller}: the gradient can be omitted only for a one-element output, this one "
                f"has shape {output.shape}; pass a gradient of shape {output.shape}"
            )
        seed = np.ones_like(output._data)
    else:
        if create_graph and isinstance(gradient, Tensor):
            seed = gradient if gradient.dtype == output.dtype else gradient.astype(output.dtype)
        else:
            seed = np.array(gradient._data if isinstance(gradient, Tensor) else gradient, dtype=output.dtype)
        if seed.shape != output.shape:
            raise RuntimeError(
                f"{caller}: the gradient has shape {tuple(seed.shape)}, expected the output's shape {output.shape}"
            )
    if create_graph and isinstance(seed, np.ndarray):
        seed = _constant(seed)
    return seed


def _constant(array):
    return Tensor._from_op(array, None)


def backward(self: Tensor, gradient=None, retain_graph: bool | None = None, create_graph: bool = False, *,
             grad=None) -> None:
    """Accumulate d(self)/d(leaf) * gradient into `.grad` of every leaf that requires it.

    Backward only fills `.grad`; it changes no value.  Updating parameters
    is the optimizer's separate step (inventory E3).

    Args:
        gradient: the gradient of some scalar w.r.t. this tensor, of this
            tensor's shape; may be omitted only when this tensor has one
            element (it is then 1).  `grad=` is accepted as an alias.
        retain_graph: keep saved arrays so backward can run through the
            graph again; by default (False, or `create_graph`) they are
            freed as soon as they are used, and a second backward raises.
        create_graph: record the backward pass so the gradients can be
            differentiated again (higher-order gradients).  `.grad` then
            holds Tensors that are part of a graph instead of arrays; set
            it to None after use (it references the graph), or prefer
            `deepnotes.autograd.grad`, which leaves `.grad` alone.
    """
    if grad is not None:
        gradient = grad
    if not self.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad and has no grad_fn")
    seed = make_seed(self, gradient, create_graph, "backward")
    retain = create_graph if retain_graph is None else retain_graph
    run_backward((self,), (seed,), retain, create_graph)


Tensor.backward = backward


def run_backward(roots, seeds, retain_graph=False, create_graph=False, inputs=None):
    """Propagate `seeds` (one per root) back through the graph.

    Args:
        roots: output tensors to start from.
        seeds: their gradients (arrays; Tensors when `create_graph`).
        retain_graph: keep every node's saved arrays for another backward.
        create_graph: record the backward pass (calls `backward_graph`).
        inputs: None to accumulate into `.grad` of every leaf that requires it
            (`Tensor.backward`); a list of tensors to return the gradients of
            instead, leaving every `.grad` untouched (`autograd.grad`).

    Returns:
        None, or (with `inputs`) a dict from `id(tensor)` to its gradient.
    """
    order = topological_order(roots)
    captured = wanted = leads = None
    if inputs is None:  # Tensor.backward: add into each leaf's .grad
        sink = Tensor._accumulate_graph if create_graph else Tensor._accumulate
        to_leaf = functools.partial(sink, handed_out=set())
    else:
        captured, wanted = {}, {id(t) for t in inputs}
        order, leads = _prune(order, wanted)

        def to_leaf(tensor, g):
            if id(tensor) in wanted:
                prev = captured.get(id(tensor))
                captured[id(tensor)] = g if prev is None else prev + g

    grads = {}
    for root, seed in zip(roots, seeds):
        if root.grad_fn is None:
            to_leaf(root, seed)
        else:
            prev = grads.get(id(root))
            grads[id(root)] = seed if prev is None else prev + seed
    if create_graph:  # record the backward pass, even when called under no_grad
        with enable_grad():
            _walk(order, grads, to_leaf, retain_graph, True, captured, wanted, leads)
    else:
        _walk(order, grads, to_leaf, retain_graph, False, captured, wanted, leads)
    return captured


def _walk(order, grads, to_leaf, retain_graph, create_graph, captured, wanted, leads):
    """Visit `order` from the outputs back, applying each node's backward (the chain rule)."""
    for tensor in reversed(order):
        g = grads.pop(id(tensor), None)
        if g is None:
            continue
        if captured is not None:
            if id(tensor) in wanted:
                captured[id(tensor)] = g
            if id(tensor) not in leads:
                continue
        elif tensor.retains_grad:
            to_leaf(tensor, g)
        node = tensor.grad_fn
        if node.released:
            raise RuntimeError(
                f"backward: the graph through {node.name} was already freed by an earlier backward; "
                "pass retain_graph=True to the first call to backward twice"
            )
        if create_graph:
            if node.backward_graph is not None:  # a fused kernel's own double backward
                in_grads = node.backward_graph(node, g)
            elif node.once_differentiable:
                raise NotImplementedError(
                    f"backward(create_graph=True): {node.name} is once differentiable (its backward runs "
                    "on arrays only), so its gradient cannot be differentiated again"
                )
            else:  # the one backward, run on Tensors so that it is recorded
                in_grads = node.backward_on_tensors(g, tensor)
        else:
            node.last_backward = not retain_graph
            in_grads = node.backward(node, g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if anomaly.ENABLED:
            anomaly.check_gradients(node, in_grads)
        for inp, needs, gi in zip(node.inputs, node.needs_input_grad, in_grads):
            if gi is None or not needs:
                continue
            if gi.shape != inp._data.shape:
                gi = unbroadcast(gi, inp._data.shape)
            if gi.dtype != inp._data.dtype:
                gi = gi.astype(inp._data.dtype)
            if inp.grad_fn is None:
                to_leaf(inp, gi)
            else:
                prev = grads.get(id(inp))
                grads[id(inp)] = gi if prev is None else prev + gi
        if not retain_graph:
            node.release()


def _prune(order, wanted):
    """The tensors of `order` that are wanted or lead to a wanted tensor, and the
    ids of those that lead to one (only their nodes need to run)."""
    leads = set()
    for tensor in order:  # inputs come before outputs
        if any(id(inp) in wanted or id(inp) in leads for inp in tensor.grad_fn.inputs):
            leads.add(id(tensor))
    return [t for t in order if id(t) in leads or id(t) in wanted], leads


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple:
    """The gradients of `outputs` w.r.t. `inputs`, returned instead of stored (torch.autograd.grad).

    Computes sum_i grad_outputs[i] . d outputs[i] / d input for every input,
    without touching any `.grad`.  Only the part of the graph between the
    inputs and the outputs is traversed.

    Args:
        outputs: a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of Tensors that require grad (leaves or not).
        grad_outputs: the gradient for each output (None: 1, one-element outputs only).
        retain_graph: keep the graph for another backward; defaults to `create_graph`.
        create_graph: record the computation, so the returned gradients can be
            differentiated again (Hessian-vector products).
        allow_unused: return None for an input the outputs do not depend on,
            instead of raising.

    Returns:
        A tuple with one gradient Tensor (or None) per input.

    Example:
        >>> import deepnotes as dn
        >>> from deepnotes.autograd import grad
        >>> x = dn.tensor(3.0, requires_grad=True)
        >>> (dx,) = grad(x ** 3, x, create_graph=True)      # 3 x^2 = 27
        >>> (dxx,) = grad(dx, x)                            # 6 x = 18
        >>> float(dx.numpy()), float(dxx.numpy())
        (27.0, 18.0)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {i} (shape {out.shape}) does not require grad and has no grad_fn")
    for i, inp in enumerate(inputs):
        if not inp.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {inp.shape}) does not require grad")
    seeds = [make_seed(out, g, create_graph, "grad") for out, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    captured = run_backward(outputs, seeds, retain, create_graph, inputs=inputs)

    handed_out, result = set(), []
    for i, inp in enumerate(inputs):
        g = captured.get(id(inp))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {inp.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._from_op(private_array(g, handed_out), None))
    return tuple(result)
