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

`Mul.apply(x, y)` runs `forward` on `x.data, y.data` and, when gradients are
being recorded and an input requires them, returns a Tensor whose `grad_fn` is
the context object `ctx` (an instance of `Mul`): the node of the graph.
Keyword arguments to `apply` are non-tensor parameters passed to `forward`.

`backward` may return gradients with the *broadcast* shape of the output;
the engine reduces them to each input's shape with `unbroadcast`, the one
helper that does so. It returns `None` for an input that needs no gradient
(`ctx.needs_input_grad[i]` says which do).

Higher-order gradients.  `backward` works on arrays, so the backward pass it
runs is not itself recorded.  An op that supports `create_graph=True` also
defines `backward_graph(ctx, grad)`: the same derivative written with Tensor
operations (`grad` is a Tensor, the input Tensors are `ctx.inputs`), which the
engine calls only when asked to differentiate the backward pass.  Values the
forward pass produced are recomputed from the inputs there rather than kept,
so the ordinary path stores nothing extra.
"""
from __future__ import annotations


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


class Function:
    """Base class of differentiable operations; an instance is a node of the graph.

    `tracked` says, before `forward` runs, whether the result will be recorded
    (grad mode on and some input requires grad).  When it will not (inference
    under `no_grad`), `save_for_backward` keeps nothing, and a forward pass may
    skip work that only `backward` needs (argmax masks, caches).
    """

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

    @staticmethod
    def forward(ctx, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # Tensor-level backward for create_graph=True; None: higher-order gradients
    # are not supported through this op.
    backward_graph = None

    @property
    def name(self):
        return type(self).__name__

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
        out = cls.forward(ctx, *[t.data for t in tensors], **params)
        if ctx.tracked:
            return Tensor._from_op(out, ctx)
        ctx.inputs = ()
        return Tensor._from_op(out, None)


def grads_as_tuple(grads):
    """Normalize what `backward` returned to a tuple."""
    return grads if isinstance(grads, tuple) else (grads,)

