"""The `Function` base class: one differentiable operation, forward and backward side by side.

A subclass writes two static methods that work on plain arrays of the backend:

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_arrays
            return grad * b, grad * a      # one gradient per tensor input

`Mul.apply(x, y)` runs `forward` on `x._data, y._data` and, when gradients are
being recorded and an input requires them, returns a Tensor whose `grad_fn` is
the context object `ctx` (an instance of `Mul`): the node of the graph.
Keyword arguments to `apply` are non-tensor parameters passed to `forward`.
(That is the interface of deepnotes' own ops.  A subclass a user writes outside the package gets
PyTorch's instead, Tensors in and out and `ctx.saved_tensors` (`autograd/custom_function.py`),
unless its class body sets `on_arrays = True`.)

`backward` may return gradients with the *broadcast* shape of the output;
the engine reduces them to each input's shape with `unbroadcast`, the one
helper that does so. It returns `None` for an input that needs no gradient
(`ctx.needs_input_grad[i]` says which do).

Higher-order gradients: one backward for both.  A backward is written once,
with Python's operators, array methods both worlds share (`.reshape`, `.sum`,
`.T`, indexing) and the small vocabulary `ctx.xp` (`where`, `exp`, `permute`,
`scatter`, ...).  For ordinary gradients `ctx.xp` is `ArrayOps` (NumPy) and
`grad` and the saved values are arrays.  With `create_graph=True` the engine
runs the same backward on Tensors: `grad` is a Tensor, `ctx.xp` is the Tensor
vocabulary (`deepnotes.ops.graph_ops.TensorOps`), and each saved array is
replaced by what it is in the graph -- an input's array by that input Tensor,
the output's array by the output Tensor, anything else (a mask, an index) by a
constant -- so the recorded backward is itself differentiable.

A kernel whose backward cannot run on Tensors (in-place buffers, fused loops)
either defines `backward_graph(ctx, grad)`, its own double backward written with
Tensor operations, or sets `once_differentiable = True`: `create_graph=True`
then raises an error naming it, as PyTorch's `once_differentiable` does.
"""
from __future__ import annotations


import numpy as np

from ..backends import blas
from ..errors import IndexRangeError, ShapeError
from . import anomaly
from .custom_function import adapt
from .grad_mode import is_grad_enabled
from .tensor import DEFAULT_FLOAT, Tensor, as_tensor  # noqa: F401  (DEFAULT_FLOAT: re-exported)


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, giving `shape`.

    NumPy broadcasting aligns shapes on the right, prepends axes of size 1 and
    stretches size-1 axes.  The gradient of a broadcast operand is the sum of
    the output gradient over exactly those axes.
    """
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    grad = grad.sum(axis=axes, keepdims=True) if axes else grad
    return grad.reshape(shape)


class ArrayOps:
    """The vocabulary a backward uses besides operators and shared methods, on NumPy arrays.

    `deepnotes.ops.graph_ops.TensorOps` has the same names on Tensors (for `create_graph=True`).
    """

    data = staticmethod(lambda x: x)  # the plain array (to build masks and indices)
    where = staticmethod(np.where)  # where(cond, a, b), cond a bool array
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    tanh = staticmethod(np.tanh)
    expand_dims = staticmethod(np.expand_dims)
    broadcast_to = staticmethod(np.broadcast_to)
    swapaxes = staticmethod(np.swapaxes)
    matmul = staticmethod(blas.matmul)  # matmul(a, b, trans_a=False, trans_b=False): op(a) @ op(b), batched

    @staticmethod
    def constant(array, dtype):
        """An array of `dtype` that the graph treats as a constant."""
        return np.asarray(array, dtype=dtype)

    @staticmethod
    def permute(x, axes):
        return x.transpose(axes)

    @staticmethod
    def scatter(x, index, shape, unique=False):
        """zeros(shape) with `x` added at `index`; repeated positions add up (indexing's backward).
        `unique`: the index names no position twice (plain assignment, much faster than add.at)."""
        out = np.zeros(shape, dtype=x.dtype)
        if unique or _is_basic_index(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out


def _is_basic_index(index):
    """True when `index` uses only ints, slices, None and Ellipsis (a view, no repeats)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class Function:
    """Base class of differentiable operations; an instance is a node of the graph.

    `tracked` says, before `forward` runs, whether the result will be recorded
    (grad mode on and some input requires grad).  When it will not (inference
    under `no_grad`), `save_for_backward` keeps nothing, and a forward pass may
    skip work that only `backward` needs (argmax masks, caches).
    """

    xp = ArrayOps  # the backward's vocabulary; the engine swaps in TensorOps for create_graph
    graph_xp = None  # TensorOps, set by deepnotes.ops when it loads
    once_differentiable = False  # True: backward runs on arrays only (create_graph raises)
    # True: forward and backward run on arrays (the library's kernels, and a user's subclass that says
    # so); False: on Tensors, as a PyTorch user writes a Function (see autograd/custom_function.py).
    on_arrays = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "on_arrays" not in cls.__dict__ and not cls.__module__.startswith("deepnotes.") and Function in cls.__bases__:
            cls.on_arrays = False  # a user's own Function: PyTorch's interface unless it asks for arrays
        if not cls.on_arrays:
            adapt(cls)

    def __init__(self, inputs):
        self.inputs = inputs
        self.needs_input_grad = needs = tuple([t.requires_grad for t in inputs])
        self.tracked = any(needs) and is_grad_enabled()
        self.saved_arrays = ()
        self.released = False

    def save_for_backward(self, *arrays):
        """Keep the arrays `backward` needs (nothing when the result is not tracked);
        the engine frees them after use."""
        if self.tracked:
            self.saved_arrays = arrays

    @property
    def saved_tensors(self) -> tuple:
        """What `save_for_backward` kept, as Tensors (PyTorch's name)."""
        return tuple(v if v is None or isinstance(v, Tensor) else Tensor._from_op(v, None) for v in self.saved_arrays)

    @staticmethod
    def forward(ctx, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # True while the engine runs the backward that is this node's last (no retain_graph): the graph
    # is freed right after, so the kernel may overwrite the arrays it saved (set by the engine).
    last_backward = False

    # A separate double backward (Tensor operations) for a kernel whose `backward`
    # cannot run on Tensors; None: the engine runs `backward` itself on Tensors.
    backward_graph = None

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):  # as PyTorch prints a grad_fn
        return f"<{self.name}Backward object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        """PyTorch's view of the graph one step back: per input, (its grad_fn, 0); a leaf that
        requires grad gives an `AccumulateGrad` node, any other input (None, 0)."""
        return tuple((t.grad_fn if t.grad_fn is not None else AccumulateGrad(t) if t.requires_grad else None, 0)
                     for t in self.inputs)


    def backward_on_tensors(self, grad, output):
        """Run `backward` on Tensors (create_graph=True): the inputs and the output stand in for
        their saved arrays, other saved arrays become constants, `xp` is the Tensor vocabulary."""
        saved = self.saved_arrays
        graph_value = {id(t._data): t for t in self.inputs}
        graph_value[id(output._data)] = output
        self.saved_arrays = tuple(self._graph_value(v, graph_value) for v in saved)
        self.xp = self.graph_xp
        try:
            return type(self).backward(self, grad)
        except TypeError as exc:  # NumPy refuses Tensors: the backward is written for arrays only
            raise NotImplementedError(
                f"backward(create_graph=True): {self.name}'s backward does not run on Tensors; give it a "
                "backward_graph or mark it once_differentiable") from exc
        finally:
            self.saved_arrays = saved
            del self.xp

    def _graph_value(self, value, graph_value):
        tensor = graph_value.get(id(value._data if isinstance(value, Tensor) else value))
        if tensor is not None:
            return tensor
        return self.graph_xp.constant(value, value.dtype) if isinstance(value, np.ndarray) else value

    def release(self):
        """Free what the node holds (saved arrays, attributes, inputs) after backward.

        Without this, the activations of a whole forward pass stay alive as
        long as the loss tensor does.
        """
        self.__dict__.clear()
        self.inputs = ()
        self.needs_input_grad = ()
        self.saved_arrays = ()
        self.released = True

    @classmethod
    def apply(cls, *inputs, **params):
        tensors = tuple([t if isinstance(t, Tensor) else as_tensor(t) for t in inputs])
        ctx = cls(tensors)
        try:
            out = cls.forward(ctx, *[t._data for t in tensors], **params)
        except (ValueError, IndexError) as exc:  # free when nothing is raised (zero-cost try)
            raise numpy_error_named(cls.__name__, tensors, exc) from None
        if ctx.tracked:
            if anomaly.ENABLED:  # remember the user's line that created this node (anomaly mode only)
                ctx.creation_site = anomaly.creation_site()
            return Tensor._from_op(out, ctx)
        ctx.inputs = ()
        return Tensor._from_op(out, None)


class AccumulateGrad:
    """The node PyTorch shows for a leaf in `next_functions`: backward adds into `variable.grad`."""

    next_functions = ()

    name = "AccumulateGrad"

    def __init__(self, variable):
        self.variable = variable

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


# NumPy's messages for mistakes in the caller's shapes, and the deepnotes error each one becomes.
_NUMPY_SHAPE_ERRORS = ("could not be broadcast", "cannot reshape", "mismatch in its core dimension",
                       "does not have enough dimensions", "must match exactly", "inhomogeneous",
                       "repeated axis", "axes don't match", "zero-size array", "unknown dimension")


def numpy_error_named(op, tensors, exc):
    """The error to raise for NumPy's `exc` inside op's forward: NumPy's words (what went wrong) with the op's
    name and its input shapes in front; deepnotes' own errors and unrelated ones pass through unchanged."""
    if type(exc).__module__.startswith("deepnotes") or type(exc) not in (ValueError, IndexError, np.exceptions.AxisError):
        return exc
    shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
    text = f"{op}: {exc} (input shapes {shapes})"
    if isinstance(exc, IndexError):  # AxisError is both; a dim or an index out of range
        return IndexRangeError(text)
    if any(pattern in str(exc) for pattern in _NUMPY_SHAPE_ERRORS):
        return ShapeError(text)
    return exc


def grads_as_tuple(grads):
    """Normalize what `backward` returned to a tuple."""
    return grads if isinstance(grads, tuple) else (grads,)

