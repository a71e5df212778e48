"""deepnotes: a deep-learning framework from first principles on NumPy.

    import deepnotes as dn
    import deepnotes.nn as nn

Every op, layer, loss and optimizer is checked numerically against the
reference implementation (PyTorch, scikit-learn, SciPy).
"""
import sys as _sys

import numpy as _np

from .allocator import keep_freed_memory as _keep_freed_memory
from .autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.creation import (
    arange, from_numpy, full, linspace, ones, ones_like, rand, randint, randn, tensor, zeros,
    zeros_like,
)
from .autograd.tensor import as_tensor
from .ops.api import (
    abs, add, amax, amin, argmax, argmin, cat, clamp, clip, concatenate, div, exp, flatten, gather, log,
    log_softmax, logsumexp, matmul, max, maximum, mean, min, minimum, mul, neg, pad_constant, permute, pow,
    relu, reshape, sigmoid, softmax, split, sqrt, squeeze, stack, sub, sum, take_along_dim, tanh,
    transpose, unsqueeze, var, where,
)
from .random import get_rng_state, manual_seed, set_rng_state
from ._checks import checks_enabled, set_checks
from . import errors

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
int32 = _np.int32
bool_ = _np.bool_

__version__ = "0.1.0"

# The subpackages, so that `dn.nn`, `dn.optim`, `dn.data`, `dn.train` work after `import deepnotes as dn`.
from . import backends, data, fast, nn, optim, train  # noqa: E402
from .backends import get_num_threads, set_num_threads  # noqa: E402
from .fast import fast_paths_enabled, set_fast_paths  # noqa: E402

# The speed shortcuts register themselves with `fast` (they use nn, so they load after it).
fast.load_shortcuts()

# Training steps reuse freed memory instead of page-faulting it back in (see allocator.py).
_keep_freed_memory()

# ---------------------------------------------------------------------------------------------
# PyTorch's namespace, so that `import deepnotes as torch` leaves a CPU script's names working
# (docs/pytorch.md lists what is supported, what differs and what raises).
from . import accelerator, cuda, onnx, serialization, utils  # noqa: E402,F401
from .autograd.creation import (  # noqa: E402,F401
    empty, empty_like, eye, full_like, normal, rand_like, randint_like, randn_like, randperm,
)
from .device import device  # noqa: E402,F401
from .ops.api import expand, std  # noqa: E402,F401
from .ops.tensor_api import (  # noqa: E402,F401
    Size, all, allclose, any, bmm, chunk, count_nonzero, eq, equal, ge, gt, is_floating_point, is_tensor, isclose, le,
    lt, masked_fill, mm, narrow, ne, nonzero, numel, t, unbind, unique,
)
from .ops.tensor_more import (  # noqa: E402,F401
    addmm, argwhere, baddbmm, bernoulli, broadcast_to, cumsum, diag, diagonal, dot, flip, hstack, index_select,
    isfinite, isinf, isnan, lerp, logical_and, logical_not, logical_or, logical_xor, masked_select, meshgrid,
    movedim, multinomial, mv, nan_to_num, outer, repeat_interleave, roll, std_mean, tile, trace, tril, triu,
    var_mean, vstack,
)
from .ops.api import clone, transpose as swapaxes  # noqa: E402,F401
from .ops.tensor_math import (  # noqa: E402,F401
    argsort, ceil, cos, dist, exp2, expm1, floor, kthvalue, log10, log1p, log2, norm, reciprocal, round, rsqrt, sign,
    sin, sort, square, tan, topk, trunc,
)
from .random import Generator, initial_seed, seed  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
from .autograd.grad_mode import no_grad as inference_mode  # noqa: E402,F401

float16 = half = _np.float16
float = float32  # noqa: A001 - PyTorch's alias
double = float64
long = int64
int = int32  # noqa: A001 - PyTorch's alias
int16 = short = _np.int16
int8 = _np.int8
uint8 = _np.uint8
bool = _np.bool_  # noqa: A001 - PyTorch's name
complex64, complex128 = _np.complex64, _np.complex128
_python_float = type(0.5)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted: deepnotes' NumPy kernels are deterministic already."""


def are_deterministic_algorithms_enabled() -> bool:
    return True


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """How tensors print, as PyTorch's: digits after the point, elements before summarizing, line width.

    `profile` is "default" (NumPy's own defaults), "short" (2 digits, 3 edge items) or "full" (never
    summarize); `sci_mode` True / False forces or forbids scientific notation (None: automatic)."""
    from .autograd import tensor as _tensor_module

    options = _tensor_module.PRINT_OPTIONS
    if profile is not None:
        presets = {"default": {}, "short": {"precision": 2, "edgeitems": 2, "threshold": 1000},
                   "full": {"threshold": _sys.maxsize}}
        if profile not in presets:
            raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full', got {profile!r}")
        options.clear()
        options.update(presets[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("max_line_width", linewidth)):
        if value is not None:
            options[name] = value
    options.pop("formatter", None)
    options.pop("suppress_small", None)
    if sci_mode is True:  # every float in scientific notation, with `precision` digits
        digits = options.get("precision", 8)
        options["formatter"] = {"float_kind": lambda v: f"{v:.{digits}e}"}
    elif sci_mode is False:
        options["suppress_small"] = True


def get_default_dtype():
    """float32: the dtype Python floats and the float factories give (as PyTorch's default)."""
    return float32


def set_default_dtype(d) -> None:
    """Only float32 (the default) is accepted; deepnotes' default float dtype is fixed."""
    if _np.dtype(d) != _np.float32:
        raise NotImplementedError(
            f"set_default_dtype: deepnotes' default float dtype is fixed at float32, got {d!r}; pass dtype= to "
            "the factories, or call .double() on tensors and modules"
        )


def _tensor_type(dtype, name):
    def constructor(*args):
        """`LongTensor([1, 2])` builds from data; `FloatTensor(2, 3)` builds zeros of that size."""
        if len(args) == 1 and not isinstance(args[0], type(1)):
            return tensor(args[0], dtype=dtype)
        return zeros(*args, dtype=dtype)

    constructor.__name__ = constructor.__qualname__ = name
    return constructor


FloatTensor, DoubleTensor, HalfTensor = (_tensor_type(d, n) for d, n in ((float32, "FloatTensor"),
                                         (float64, "DoubleTensor"), (float16, "HalfTensor")))
LongTensor, IntTensor, BoolTensor, ByteTensor = (_tensor_type(d, n) for d, n in ((int64, "LongTensor"),
                                                 (int32, "IntTensor"), (bool_, "BoolTensor"), (uint8, "ByteTensor")))

# Names PyTorch has that deepnotes does not support raise NotImplementedError saying what to use.
from .unsupported import unsupported_attribute as __getattr__  # noqa: E402,F401
