"""deepnotes: a deep-learning framework from first principles on NumPy.

    import deepnotes as dn
    import deepnotes.nn as nn

Every op, layer, loss and optimizer is checked numerically against the
reference implementation (PyTorch, scikit-learn, SciPy).
"""
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
from . import data, fast, nn, optim, train  # noqa: E402
from .fast import fast_paths_enabled, set_fast_paths  # noqa: E402

# The speed shortcuts register themselves with `fast` (they use nn, so they load after it).
from .fast import cross_entropy, pooling, recurrent, sequential, transformer  # noqa: E402,F401

# Training steps reuse freed memory instead of page-faulting it back in (see allocator.py).
_keep_freed_memory()
