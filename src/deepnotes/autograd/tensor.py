"""`Tensor`: an n-d array that remembers how it was computed (inventory E1, E3).

Reverse-mode autodiff in one method: `Tensor.backward` orders the graph
topologically once, seeds the output's gradient, walks the order backwards and
lets every node (`Function`) push gradients to its inputs.  Gradients of a
tensor used several times are *added*; leaves keep theirs in `.grad`.

Backprop only computes gradients; an optimizer consumes them (`optimizer.step()`):
the two are separate calls, as in PyTorch (E3).

Dtypes follow PyTorch: a NumPy array keeps its dtype, Python floats (and lists
of them) become float32, Python ints int64, bools bool.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .engine import make_seed, private_array, run_backward
from .function import DEFAULT_FLOAT, Function
from .grad_mode import is_grad_enabled

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _to_array(data, dtype=None):
    """Convert `data` to an ndarray with PyTorch's default dtypes."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        arr = np.asarray(data)
        if arr.dtype == np.float64:
            arr = arr.astype(DEFAULT_FLOAT)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype == object:
            raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} {data!r:.80}")
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


def as_tensor(data, dtype=None):
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
    ka, kb = a.data.dtype.kind, b.data.dtype.kind
    if ka != "f" and kb != "f":
        return a, b
    if ka == "f":
        return a, Tensor._from_op(b.data.astype(a.data.dtype), None)
    return Tensor._from_op(a.data.astype(b.data.dtype), None), b


def binary_operands(a, b):
    """(a, b) as Tensors promoted as PyTorch does; at least one is a Tensor."""
    if not isinstance(a, Tensor):
        a = _operand(a, b) if isinstance(b, Tensor) else as_tensor(a)
    if not isinstance(b, Tensor):
        b = _operand(b, a)
    if a.data.dtype.kind != b.data.dtype.kind:  # rare: an integer or bool next to a float
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
        array([2., 4., 6.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "grad_fn", "retains_grad", "name", "__weakref__")
    # NumPy operators defer to Tensor (ndarray * Tensor -> Tensor.__rmul__), and
    # NumPy functions refuse tensors instead of silently dropping the graph.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self.retains_grad = False
        self.name = name

    @classmethod
    def _from_op(cls, array, grad_fn):
        t = cls.__new__(cls)
        t.data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t.grad = None
        t.requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        t.retains_grad = False
        t.name = None
        return t

    # ----------------------------------------------------------------- basics
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    is_leaf = property(lambda self: self.grad_fn is None)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))
    mT = property(lambda self: self.transpose(-2, -1))

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        return len(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"Tensor.item: only a one-element tensor has an item, this one has shape {self.shape}")
        return self.data.reshape(()).item()

    def numpy(self):
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"Tensor: the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    # ------------------------------------------------------- graph and grads
    def detach(self):
        """The same data, cut off from the graph."""
        return Tensor._from_op(self.data, None)

    def requires_grad_(self, flag=True):
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: only leaf tensors can change requires_grad")
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(f"requires_grad_: dtype {self.data.dtype} cannot require gradients")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward."""
        self.retains_grad = True
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, *, grad=None):
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

    def _accumulate(self, g, handed_out):
        """Add the array `g` to `.grad` (the engine's sink for leaves and retained grads)."""
        if self.grad is None:
            self.grad = private_array(g, handed_out)
        elif isinstance(self.grad, Tensor):  # left by an earlier create_graph backward
            self.grad = Tensor._from_op(self.grad.data + g, None)
        else:
            self.grad = self.grad + g
            handed_out.add(id(self.grad))

    def _accumulate_graph(self, g, handed_out):
        """Add the Tensor `g` to `.grad`, recording the addition (create_graph=True)."""
        if self.grad is None:
            self.grad = g.clone() if id(g) in handed_out else g
        else:
            prev = self.grad if isinstance(self.grad, Tensor) else Tensor._from_op(self.grad, None)
            self.grad = prev + g
        handed_out.add(id(self.grad))

    def zero_grad_(self):
        self.grad = None

    # ------------------------------------------------------------ conversion
    def astype(self, dtype):
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind == "f":
            return _Cast.apply(self, dtype=dtype)
        return Tensor(self.data.astype(dtype))

    to = astype

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def long(self):
        return self.astype(np.int64)

    def int(self):
        return self.astype(np.int32)

    def bool(self):
        return self.astype(np.bool_)

    def clone(self):
        return _Cast.apply(self, dtype=self.dtype, copy=True)

    def contiguous(self):
        return self

    # ------------------------------------------------------------- operators
    def __add__(self, other):
        return E.Add.apply(*binary_operands(self, other))

    def __radd__(self, other):
        return E.Add.apply(*binary_operands(other, self))

    def __sub__(self, other):
        return E.Sub.apply(*binary_operands(self, other))

    def __rsub__(self, other):
        return E.Sub.apply(*binary_operands(other, self))

    def __mul__(self, other):
        return E.Mul.apply(*binary_operands(self, other))

    def __rmul__(self, other):
        return E.Mul.apply(*binary_operands(other, self))

    def __truediv__(self, other):
        return E.Div.apply(*true_divide_operands(self, other))

    def __rtruediv__(self, other):
        return E.Div.apply(*true_divide_operands(other, self))

    def __pow__(self, other):
        return E.Pow.apply(*binary_operands(self, other))

    def __rpow__(self, other):
        return E.Pow.apply(*binary_operands(other, self))

    def __neg__(self):
        return E.Neg.apply(self)

    def __matmul__(self, other):
        return M.MatMul.apply(self, as_tensor(other))

    def __rmatmul__(self, other):
        return M.MatMul.apply(as_tensor(other), self)

    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))

    __lt__ = lambda self, o: self._compare(o, np.less)  # noqa: E731
    __le__ = lambda self, o: self._compare(o, np.less_equal)  # noqa: E731
    __gt__ = lambda self, o: self._compare(o, np.greater)  # noqa: E731
    __ge__ = lambda self, o: self._compare(o, np.greater_equal)  # noqa: E731
    __eq__ = lambda self, o: self._compare(o, np.equal)  # noqa: E731
    __ne__ = lambda self, o: self._compare(o, np.not_equal)  # noqa: E731

    def __getitem__(self, index):
        return S.GetItem.apply(self, index=_plain_index(index))

    def __setitem__(self, index, value):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                "Tensor.__setitem__: in-place assignment into a tensor that requires grad would "
                "corrupt its gradient; do it under dn.no_grad() or build a new tensor"
            )
        self.data[_plain_index(index)] = value.data if isinstance(value, Tensor) else value

    # ------------------------------------------------------------ elementwise
    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def sqrt(self):
        return E.Sqrt.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    def pow(self, exponent):
        return self ** exponent

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return E.Clip.apply(self, low=min, high=max)

    clip = clamp

    def sigmoid(self):
        return A.Sigmoid.apply(self)

    def tanh(self):
        return A.Tanh.apply(self)

    def relu(self):
        return A.ReLU.apply(self)

    def softmax(self, dim=-1, temperature=1.0):
        return A.Softmax.apply(self, axis=dim, temperature=temperature)

    def log_softmax(self, dim=-1, temperature=1.0):
        return A.LogSoftmax.apply(self, axis=dim, temperature=temperature)

    # ------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _alias(dim, axis, keepdim, keepdims)
        return R.Sum.apply(self, axes=R.normalize_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        dim, keepdim = _alias(dim, axis, keepdim, keepdims)
        return R.Mean.apply(self, axes=R.normalize_dims(dim, self.ndim), keepdim=keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """Variance; unbiased (correction=1) by default, as in PyTorch."""
        dim, keepdim = _alias(dim, axis, keepdim, keepdims)
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return R.Var.apply(self, axes=R.normalize_dims(dim, self.ndim), correction=correction, keepdim=keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def amax(self, dim=None, keepdim=False):
        return R.Amax.apply(self, axes=R.normalize_dims(dim, self.ndim), keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        return R.Amin.apply(self, axes=R.normalize_dims(dim, self.ndim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """Without `dim`: the maximum (ties share the gradient).  With an int `dim`:
        (values, indices) as in PyTorch, the gradient going to the returned index."""
        if dim is None:
            return self.amax()
        values = R.MaxAlongDim.apply(self, dim=dim, keepdim=keepdim)
        return ValuesIndices(values, self.argmax(dim, keepdim))

    def min(self, dim=None, keepdim=False):
        if dim is None:
            return self.amin()
        values = R.MinAlongDim.apply(self, dim=dim, keepdim=keepdim)
        return ValuesIndices(values, self.argmin(dim, keepdim))

    def argmax(self, dim=None, keepdim=False):
        return Tensor(_arg_reduce(np.argmax, self.data, dim, keepdim))

    def argmin(self, dim=None, keepdim=False):
        return Tensor(_arg_reduce(np.argmin, self.data, dim, keepdim))

    def logsumexp(self, dim=None, keepdim=False):
        return R.LogSumExp.apply(self, axes=R.normalize_dims(dim, self.ndim), keepdim=keepdim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return S.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1 :])

    def permute(self, *dims):
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return S.Permute.apply(self, axes=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0, dim1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return S.Permute.apply(self, axes=tuple(axes))

    def expand(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        lead = len(shape) - self.ndim
        full = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        return S.Expand.apply(self, shape=full)

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = {d % self.ndim for d in ((dim,) if isinstance(dim, int) else dim)}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1)))

    def unsqueeze(self, dim):
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def split(self, split_size_or_sections, dim=0):
        """Split into chunks of `split_size` (int) or of the given sizes (list), as torch.split."""
        n = self.shape[dim]
        if isinstance(split_size_or_sections, int):
            sizes = [split_size_or_sections] * (n // split_size_or_sections)
            if n % split_size_or_sections:
                sizes.append(n % split_size_or_sections)
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {dim}")
        pieces, start = [], 0
        lead = (slice(None),) * (dim % self.ndim)
        for size in sizes:
            pieces.append(self[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def gather(self, dim, index):
        """out[i][j][k] = self[index[i][j][k]][j][k] for dim=0, etc. (torch.gather).

        `index` has as many dimensions as `self` and may be smaller than it
        along the other dimensions; it does not broadcast.
        """
        return S.Gather.apply(self, indices=_index_array(index), axis=dim)

    def matmul(self, other):
        return self @ other


class _Cast(Function):
    """Change dtype (or copy); the gradient is cast back to the input's dtype by the engine."""

    @staticmethod
    def forward(ctx, a, dtype=None, copy=False):
        return a.astype(dtype, copy=True) if copy else a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad

    @staticmethod
    def backward_graph(ctx, grad):
        return grad


def _alias(dim, axis, keepdim, keepdims):
    """Accept NumPy's `axis`/`keepdims` as well as PyTorch's `dim`/`keepdim`."""
    return (axis if dim is None else dim), (keepdim if keepdims is None else keepdims)


def _arg_reduce(fn, data, dim, keepdim):
    if dim is None:
        out = fn(data)
        return np.asarray(out).reshape((1,) * data.ndim) if keepdim else np.asarray(out)
    out = fn(data, axis=dim)
    return np.expand_dims(out, dim) if keepdim else out


def _index_array(index):
    return index.data if isinstance(index, Tensor) else np.asarray(index)


def _plain_index(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


from . import function as _function  # noqa: E402

_function._tensor_api.update(Tensor=Tensor, as_tensor=as_tensor)

# The ops import Function from this package; import them after Tensor exists.
from ..ops import activation as A  # noqa: E402
from ..ops import elementwise as E  # noqa: E402
from ..ops import matmul as M  # noqa: E402
from ..ops import reduce as R  # noqa: E402
from ..ops import shape as S  # noqa: E402
