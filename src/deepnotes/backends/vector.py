"""BLAS level 1 on NumPy buffers: y <- alpha x + beta y in one pass (``cblas_?axpby``), through ctypes.

Why.  An optimizer's update is a few scaled additions over every parameter: SGD with momentum
is b <- mu b + g, then p <- p - lr b. NumPy writes each as two or three passes over memory and
a temporary (``b *= mu``, ``b += g``, ``lr * b``, ``p -= ...``: ten array-sized reads and
writes); ``?axpby`` does each in one (six). On an MLP the parameters are megabytes, out of the
L2 cache, so the passes are what the update costs: a W1 step (784-512-512-10, batch 128) spent
about 8% of its time there.

Which library.  NumPy's own BLAS, already loaded in the process: the one threadpoolctl finds in
NumPy's folder (the wheels ship OpenBLAS built with 64-bit integers and ``scipy_`` names). No
new dependency and nothing compiled; when the library or its ``?axpby`` cannot be found (a
NumPy built against another BLAS), `axpby` says so and callers take their NumPy path.

Numerics.  The library may fuse the multiply and the add (one rounding instead of two), as
PyTorch's ``add_(x, alpha=...)`` does on the CPU: results agree with the NumPy formulas to the
last bit or so, not bit for bit.
"""
from __future__ import annotations

import ctypes

import numpy as np

# (symbol pattern, integer type): the NumPy wheels' ILP64 OpenBLAS first, then plain CBLAS names.
_CANDIDATES = (("scipy_cblas_{}axpby64_", ctypes.c_int64), ("cblas_{}axpby64_", ctypes.c_int64),
               ("scipy_cblas_{}axpby", ctypes.c_int), ("cblas_{}axpby", ctypes.c_int))
_functions = None  # {dtype: ctypes function}, once looked up


def numpy_library():
    """The file of NumPy's own BLAS library (the one in NumPy's folders), or None."""
    from .choose import numpy_pool

    pool = numpy_pool(own_only=True)
    return pool.get("filepath") if pool else None


def _bind(path):
    """{dtype: axpby} from the library at `path` (empty when it has no ?axpby)."""
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return {}
    for pattern, integer in _CANDIDATES:
        found = {}
        for letter, dtype, real in (("s", np.dtype(np.float32), ctypes.c_float),
                                    ("d", np.dtype(np.float64), ctypes.c_double)):
            fn = getattr(lib, pattern.format(letter), None)
            if fn is None:
                break
            fn.restype = None  # (n, alpha, x, incx, beta, y, incy)
            fn.argtypes = [integer, real, ctypes.c_void_p, integer, real, ctypes.c_void_p, integer]
            found[dtype] = fn
        if len(found) == 2:
            return found
    return {}


def functions():
    """{dtype: axpby} for float32 and float64, looked up once; empty when unavailable."""
    global _functions
    if _functions is None:
        path = numpy_library()
        _functions = _bind(path) if path else {}
    return _functions


def available() -> bool:
    """Whether `axpby` runs in a BLAS library here (else it always returns False)."""
    return bool(functions())


def suits(read, written) -> bool:
    """Whether `axpby` can take these arrays, the ones it reads and the ones it writes: a library
    here, ndarrays of one shape and one dtype it has (float32 / float64), C-contiguous, not empty,
    the written ones writeable and apart from every other (a caller that checks a whole update
    once can then call `axpby_checked` for each of its lines)."""
    arrays = (*read, *written)
    first = written[0]
    return (first.dtype in functions() and first.size > 0
            and all(type(a) is np.ndarray and a.dtype == first.dtype and a.shape == first.shape
                    and a.flags.c_contiguous for a in arrays)
            and all(a.flags.writeable for a in written)
            and not any(np.may_share_memory(w, a) for i, w in enumerate(written) for a in (*read, *written[i + 1:])))


def axpby_checked(alpha, x, beta, y):
    """y <- alpha * x + beta * y in place, for arrays `suits((x,), (y,))` has accepted."""
    functions()[y.dtype](y.size, alpha, x.ctypes.data, 1, beta, y.ctypes.data, 1)


def axpby(alpha, x, beta, y) -> bool:
    """y <- alpha * x + beta * y in place, in one pass; returns False (y untouched) when it cannot
    (see `suits`: no library, not C-contiguous arrays of one shape and dtype, y read-only or
    overlapping x).

    x, y: arrays of any (equal) shape; alpha, beta: Python numbers.
    """
    if not (type(y) is np.ndarray and suits((x,), (y,))):
        return False
    axpby_checked(alpha, x, beta, y)
    return True
