"""Intel MKL's GEMM through ctypes, on NumPy buffers (the optional ``mkl`` path of `backends.blas`).

The ``mkl`` wheel (``pip install 'deepnotes[mkl]'``) puts ``libmkl_rt.so`` in the environment's
``lib`` folder; nothing is compiled.  Two CBLAS functions are bound:

    cblas_?gemm(layout, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
    cblas_?gemm_batch_strided(..., A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch)

(? = s for float32, d for float64), always row-major, alpha = 1, beta = 0: C = op(A) op(B).

How an array is handed over.  A 2-d view whose rows are contiguous (stride of the last axis =
the item size) is passed as it is, with its row stride as the leading dimension; a view whose
*columns* are contiguous (a transposed array, ``x.T``) is passed as the matrix it transposes,
with the transpose flag flipped.  Anything else (a negative or doubled stride) is copied first.
A batch is passed with one stride between matrices; leading axes that cannot be walked with one
stride (after broadcasting) are copied into a contiguous batch.  Other dtypes, empty products
and mixed dtypes are left to NumPy by the caller.
"""
from __future__ import annotations

import ctypes
import glob
import os
import sys

import numpy as np

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112

_lib = None
_load_error = None


def library_paths():
    """Where the wheel's libmkl_rt may be: the environment's lib folder (and the base one's)."""
    found = []
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix, os.environ.get("CONDA_PREFIX") or sys.prefix)):
        found += sorted(glob.glob(os.path.join(prefix, "lib", "libmkl_rt.so*")), key=len)
    return found


def load():
    """The loaded ctypes library, or None (the reason in `load_error()`). Loads once."""
    global _lib, _load_error
    if _lib is not None or _load_error is not None:
        return _lib
    paths = library_paths()
    if not paths:
        _load_error = "libmkl_rt not found (pip install 'deepnotes[mkl]' installs it)"
        return None
    # MKL's OpenMP threads spin 200 ms after each product by default; NumPy's own BLAS (OpenBLAS,
    # for everything outside the seam) needs the same cores, so idle MKL threads sleep at once.
    os.environ.setdefault("KMP_BLOCKTIME", "0")
    try:
        lib = ctypes.CDLL(paths[0])
        for name, real in (("s", ctypes.c_float), ("d", ctypes.c_double)):
            ptr, i = ctypes.c_void_p, ctypes.c_int
            fn = getattr(lib, f"cblas_{name}gemm")
            fn.restype = None
            fn.argtypes = [i, i, i, i, i, i, real, ptr, i, ptr, i, real, ptr, i]
            batched = getattr(lib, f"cblas_{name}gemm_batch_strided")
            batched.restype = None
            batched.argtypes = [i, i, i, i, i, i, real, ptr, i, i, ptr, i, i, real, ptr, i, i, i]
        lib.MKL_Get_Max_Threads.restype = ctypes.c_int
    except (OSError, AttributeError) as exc:
        _load_error = f"{paths[0]} did not load: {exc}"
        return None
    _lib = lib
    return lib


def load_error():
    return _load_error


def version():
    """MKL's version string, e.g. '2026.2-Product', or None."""
    lib = load()
    if lib is None:
        return None
    buf = ctypes.create_string_buffer(256)
    lib.MKL_Get_Version_String(buf, 256)
    return buf.value.decode(errors="replace").strip()


def set_num_threads(n):
    lib = load()
    if lib is not None:
        lib.MKL_Set_Num_Threads(ctypes.c_int(int(n)))


def _matrix(x, trans):
    """(array, transpose flag, leading dimension) describing the last two axes of `x` to row-major
    CBLAS; `array` is `x` or, when its layout cannot be described, a contiguous copy."""
    rows, cols = x.shape[-2:]
    item = x.itemsize
    s_row = cols * item if rows == 1 else x.strides[-2]  # a single row or column may carry any stride
    s_col = item if cols == 1 else x.strides[-1]
    if x.flags.aligned and s_col == item and s_row >= max(cols, 1) * item and s_row % item == 0:
        return x, trans, s_row // item
    if x.flags.aligned and s_row == item and s_col >= max(rows, 1) * item and s_col % item == 0:
        return x, not trans, s_col // item
    x = np.ascontiguousarray(x)
    return x, trans, max(cols, 1)


def _batch_stride(x, batch):
    """(array, stride in items between consecutive matrices) with the leading axes of `x`
    broadcast to `batch`, or a contiguous copy when one stride cannot walk them."""
    x = np.broadcast_to(x, batch + x.shape[-2:]) if x.shape[:-2] != batch else x
    axes = [(n, s) for n, s in zip(batch, x.strides[:-2]) if n != 1]
    if not axes:
        return x, 0
    inner = axes[-1][1]
    ok = inner % x.itemsize == 0 and inner >= 0
    for (n_outer, s_outer), (n_inner, s_inner) in zip(axes[:-1], axes[1:]):
        ok = ok and s_outer == s_inner * n_inner
    if ok:
        return x, inner // x.itemsize
    x = np.ascontiguousarray(x)
    return x, x.shape[-2] * x.shape[-1]


def _result(shape, dtype, out):
    """An array to write into (`out` itself when its rows are contiguous) and its leading dimension."""
    if out is not None and out.dtype == dtype and out.shape == shape and out.flags.c_contiguous:
        return out, shape[-1]
    return np.empty(shape, dtype=dtype), shape[-1]


def _finish(c, out):
    if out is not None and c is not out:
        out[...] = c
        return out
    return c


# Below this many multiply-adds a product goes to NumPy: the ctypes call and the layout checks
# (~10 us) would cost more than MKL could save on the arithmetic.
SMALL = 1 << 18


def _native(a, b, out, madds):
    """Whether MKL takes the product: both float32 or both float64, MKL loaded, not small."""
    return (_lib is not None and madds >= SMALL and a.dtype == b.dtype and a.dtype in (np.float32, np.float64)
            and (out is None or out.dtype == a.dtype))


def gemm(a, b, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b) for 2-d arrays by cblas_?gemm (NumPy's matmul for what MKL does not take)."""
    if a.ndim != 2 or b.ndim != 2 or not _native(a, b, out, a.size * b.shape[not trans_b]):
        return np.matmul(a.T if trans_a else a, b.T if trans_b else b, out=out)
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    if (a.shape[0] if trans_a else a.shape[1]) != (b.shape[1] if trans_b else b.shape[0]):
        return np.matmul(a.T if trans_a else a, b.T if trans_b else b, out=out)  # NumPy's error message
    a, ta, lda = _matrix(a, trans_a)
    b, tb, ldb = _matrix(b, trans_b)
    c, ldc = _result((m, n), a.dtype, out)
    fn = _lib.cblas_sgemm if a.dtype == np.float32 else _lib.cblas_dgemm
    fn(ROW_MAJOR, TRANS if ta else NO_TRANS, TRANS if tb else NO_TRANS, m, n, k, 1.0,
       a.ctypes.data, lda, b.ctypes.data, ldb, 0.0, c.ctypes.data, ldc)
    return _finish(c, out)


def _strided(x, trans, batch):
    """`_batch_stride` then `_matrix`: (array, flag, leading dimension, stride between matrices)."""
    x, stride = _batch_stride(x, batch)
    y, flag, ld = _matrix(x, trans)
    return y, flag, ld, (stride if y is x else y.shape[-2] * y.shape[-1])


def matmul(a, b, trans_a=False, trans_b=False, out=None):
    """Batched op(a) @ op(b) over the last two axes (leading axes broadcast), by
    cblas_?gemm_batch_strided (NumPy's matmul for what MKL does not take)."""
    if a.ndim == 2 and b.ndim == 2:
        return gemm(a, b, trans_a, trans_b, out)
    a_view = np.swapaxes(a, -1, -2) if trans_a else a
    b_view = np.swapaxes(b, -1, -2) if trans_b else b
    if (a.ndim < 2 or b.ndim < 2 or a_view.shape[-1] != b_view.shape[-2]
            or not _native(a, b, out, max(a.size * b_view.shape[-1], b.size * a_view.shape[-2]))):
        return np.matmul(a_view, b_view, out=out)
    m, k = a_view.shape[-2:]
    n = b_view.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a, ta, lda, stride_a = _strided(a, trans_a, batch)
    b, tb, ldb, stride_b = _strided(b, trans_b, batch)
    c, ldc = _result(batch + (m, n), a.dtype, out)
    if c.size == 0:
        return _finish(c, out)
    fn = _lib.cblas_sgemm_batch_strided if a.dtype == np.float32 else _lib.cblas_dgemm_batch_strided
    fn(ROW_MAJOR, TRANS if ta else NO_TRANS, TRANS if tb else NO_TRANS, m, n, k, 1.0,
       a.ctypes.data, lda, stride_a, b.ctypes.data, ldb, stride_b, 0.0, c.ctypes.data, ldc, m * n,
       int(np.prod(batch, dtype=np.int64)))
    return _finish(c, out)
