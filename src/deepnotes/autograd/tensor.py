"""`Tensor`: an n-d array that remembers how it was computed (inventory E1, E3).

This module is the data structure alone: the array, its gradient, the node that
made it (`grad_fn`), and PyTorch's dtype rules.  What a tensor *does* is added by
the modules that implement it, each in one place:

* `Tensor.backward` -- the backward walk, in `autograd/engine.py`;
* the operators (`+`, `@`, `[]`, ...) and the math methods (`exp`, `sum`,
  `reshape`, ...) -- the same functions as `dn.exp`, `dn.sum`, ..., attached in
  `ops/tensor_methods.py` from the one table there.

Dtypes follow PyTorch: a NumPy array keeps its dtype, Python floats (and lists
of them) become float32, Python ints int64, bools bool.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from ..errors import DTypeError, ShapeError
from ..unsupported import unsupported_tensor_attribute

# The dtype that a Python float becomes, as in PyTorch.
DEFAULT_FLOAT = np.float32

# How a tensor prints (NumPy's array2string options), set by `deepnotes.set_printoptions`.
PRINT_OPTIONS = {}

# What the tensor functions accept where a tensor is expected: a Tensor, an array, a number or
# a nested list of numbers (converted with PyTorch's default dtypes).
TensorLike = Union["Tensor", np.ndarray, np.generic, float, int, bool, Sequence]


def _to_array(data, dtype=None):
    """Convert `data` to an ndarray with PyTorch's default dtypes."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
        if arr.dtype.kind in "OUSVM":
            _refuse(data, arr)
    else:
        try:
            arr = np.asarray(data)
        except ValueError:  # NumPy's "inhomogeneous shape": rows of different lengths
            raise ShapeError(f"tensor: cannot build a tensor from a ragged {type(data).__name__} {data!r:.80}; "
                             "expected a rectangular nested list (every row of the same length)") from None
        if arr.dtype == np.float64:
            arr = arr.astype(DEFAULT_FLOAT)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind in "OUSVM":
            _refuse(data, arr)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


def _refuse(data, arr):
    """The error for data a tensor cannot hold: strings, Python objects, records, dates."""
    what = "strings" if arr.dtype.kind in "US" else f"dtype {arr.dtype}"
    raise DTypeError(f"tensor: cannot build a tensor from {what} in {type(data).__name__} {data!r:.80}; "
                     "expected numbers (int, float, bool)")


def as_tensor(data: TensorLike, dtype=None) -> Tensor:
    """Wrap `data` as a Tensor without copying when it already is an array of `dtype`."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(_to_array(data, dtype))


def _operand(other, like):
    """Turn the other operand of a binary op into a Tensor.

    A Python number takes the tensor's dtype when it fits (PyTorch's rule:
    float32 tensor * 2.5 stays float32); a float next to an integer or bool
    tensor becomes float32.  NumPy scalars count as numbers here, so
    `x * np.sqrt(2.0)` does not silently upcast a float32 tensor.
    """
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (bool, int, float, np.bool_, np.integer, np.floating)):
        kind = like.dtype.kind
        if kind in "fc":
            dtype = like.dtype
        elif isinstance(other, (float, np.floating)):
            dtype = DEFAULT_FLOAT
        elif kind == "b" and not isinstance(other, (bool, np.bool_)):
            dtype = np.int64
        else:
            dtype = like.dtype
        return Tensor._from_op(np.asarray(other, dtype=dtype), None)
    return as_tensor(other)


def _promote(a, b):
    """Give an integer or bool tensor next to a float one the float's dtype.

    PyTorch promotes by category: int64 + float32 -> float32, where NumPy
    would give float64.  Only integer tensors are cast, and those never
    require grad, so nothing is cut from the graph.
    """
    ka, kb = a._data.dtype.kind, b._data.dtype.kind
    if ka != "f" and kb != "f":
        return a, b
    if ka == "f":
        return a, Tensor._from_op(b._data.astype(a._data.dtype), None)
    return Tensor._from_op(a._data.astype(b._data.dtype), None), b


def binary_operands(a, b):
    """(a, b) as Tensors promoted as PyTorch does; at least one is a Tensor."""
    if not isinstance(a, Tensor):
        a = _operand(a, b) if isinstance(b, Tensor) else as_tensor(a)
    if not isinstance(b, Tensor):
        b = _operand(b, a)
    if a._data.dtype.kind != b._data.dtype.kind:  # rare: an integer or bool next to a float
        return _promote(a, b)
    return a, b


def true_divide_operands(a, b):
    """Like `binary_operands`, but integer / integer gives float32 (true division)."""
    a, b = binary_operands(a, b)
    if a.dtype.kind not in "fc":
        a, b = a.astype(DEFAULT_FLOAT), b.astype(DEFAULT_FLOAT)
    return a, b


class Tensor:
    """An n-d array with an optional gradient.

    Args:
        data: array-like (NumPy array, list, number or Tensor).
        requires_grad: record operations on this tensor for `backward`.
        dtype: optional NumPy dtype to convert to.

    Example:
        >>> import deepnotes as dn
        >>> x = dn.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])

    The operators and math methods are attached by `deepnotes.ops.tensor_methods`;
    `backward` by `deepnotes.autograd.engine`.
    """

    __slots__ = ("_data", "_grad", "requires_grad", "grad_fn", "retains_grad", "name", "__weakref__")
    # NumPy operators defer to Tensor (ndarray * Tensor -> Tensor.__rmul__), and
    # NumPy functions refuse tensors instead of silently dropping the graph.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data: TensorLike, requires_grad: bool = False, dtype=None, name: str | None = None):
        if type(requires_grad) is int:  # PyTorch's legacy Tensor(2, 3): sizes, which this constructor does not take
            raise TypeError(f"Tensor({data!r:.20}, {requires_grad}): deepnotes' Tensor takes data, not sizes; use "
                            "deepnotes.zeros(...) or deepnotes.FloatTensor(...) for a tensor of a given size")
        self._data = _to_array(data, dtype)
        if requires_grad and self._data.dtype.kind not in "fc":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {self._data.dtype}"
            )
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self.retains_grad = False
        self.name = name

    def __getattr__(self, name):  # runs only for a name the class lacks: PyTorch's get a message
        raise unsupported_tensor_attribute(name)

    @classmethod
    def _from_op(cls, array, grad_fn):
        t = cls.__new__(cls)
        t._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t._grad = None
        t.requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        t.retains_grad = False
        t.name = None
        return t

    # ------------------------------------------------------- data and grad
    @property
    def data(self) -> Tensor:
        """This tensor's values as a new tensor that shares them and is cut off from the graph.

        As PyTorch's `.data`: writing into it (`p.data.mul_(0.5)`) changes this tensor without
        autograd seeing it; assigning (`p.data = t`) replaces the values, shape included.
        """
        return Tensor._from_op(self._data, None)

    @data.setter
    def data(self, value):
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(f"Tensor.data: expected a Tensor, got {type(value).__name__}")
        array = value._data if isinstance(value, Tensor) else value
        if self.requires_grad and array.dtype.kind not in "fc":
            raise TypeError(f"Tensor.data: a tensor that requires grad needs floating-point data, got {array.dtype}")
        self._data = array

    @property
    def grad(self) -> Tensor | None:
        """The gradient that `backward` accumulated into this tensor (a Tensor of its shape), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        if isinstance(value, np.ndarray):  # deepnotes' own code used to store arrays: accepted, wrapped
            value = Tensor._from_op(value, None)
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.grad: expected a Tensor or None, got {type(value).__name__}")
        if value.shape != self.shape:
            raise ShapeError(f"Tensor.grad: the gradient must have the tensor's shape {self.shape}, "
                             f"got {value.shape}")
        if value.dtype != self.dtype:
            raise DTypeError(f"Tensor.grad: the gradient must have the tensor's dtype {self.dtype}, got {value.dtype}")
        self._grad = value

    # ----------------------------------------------------------------- basics
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    is_leaf = property(lambda self: self.grad_fn is None)

    def size(self, dim: int | None = None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self):
        return len(self._data)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"Tensor.item: only a one-element tensor has an item, this one has shape {self.shape}")
        return self._data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        # NumPy 2 passes `copy` and trusts the answer: np.array(t) must not alias t's values
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(", **PRINT_OPTIONS)
        extra = ""
        if self._data.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self._data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"Tensor: the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self._data)

    # ------------------------------------------------------- graph and grads
    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        return Tensor._from_op(self._data, None)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: only leaf tensors can change requires_grad")
        if flag and self._data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad_: dtype {self._data.dtype} cannot require gradients")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> Tensor:
        """Keep `.grad` on this non-leaf tensor after backward."""
        self.retains_grad = True
        return self

    def _accumulate(self, g, handed_out):
        """Add the array `g` to `.grad` (the engine's sink for leaves and retained grads)."""
        if self._grad is None:
            self._grad = Tensor._from_op(private_array(g, handed_out), None)
        elif self._grad.grad_fn is not None:  # left by an earlier create_graph backward: cut it off
            self._grad = Tensor._from_op(self._grad._data + g, None)
        else:  # the same Tensor object keeps the sum, as PyTorch's accumulation in place
            self._grad._data = self._grad._data + g

    def _accumulate_graph(self, g, handed_out):
        """Add the Tensor `g` to `.grad`, recording the addition (create_graph=True)."""
        if self._grad is None:
            self._grad = g.clone() if id(g) in handed_out else g
        else:
            self._grad = self._grad + g
        handed_out.add(id(self._grad))

    def zero_grad_(self, set_to_none: bool = True):
        """Clear `.grad`: to None, or (set_to_none=False) to zeros in place, as PyTorch's `zero_grad`."""
        g = self._grad
        if set_to_none or g is None:
            self._grad = None
        elif g.grad_fn is None and g._data.flags.writeable:
            g._data.fill(0)
        else:  # a gradient with a graph (create_graph) or a read-only array: a fresh zero tensor
            self._grad = Tensor._from_op(np.zeros_like(g._data), None)


def private_array(g, handed_out):
    """`g`, or a copy of it when it is a view or already stored elsewhere.

    Two leaves must never share one gradient array (an in-place update of one
    `.grad` would change the other), and `.grad` must not be a read-only view.
    """
    if g.base is None and g.flags.writeable and id(g) not in handed_out:
        out = g
    else:
        out = np.array(g)
    handed_out.add(id(out))
    return out
