"""The one seam every matrix product of deepnotes goes through: `gemm` and its batched form `matmul`.

    gemm(a, b, trans_a=False, trans_b=False, out=None)     op(a) @ op(b),  a, b 2-d
    matmul(a, b, trans_a=False, trans_b=False, out=None)   the same over the last two axes,
                                                           leading (batch) axes broadcast

with op(x) = x^T when its flag is set.  A transpose is a flag, not a copy: BLAS reads a
row-major matrix as its transpose by swapping its loops (the `TransA` / `TransB` arguments of
`cblas_sgemm`), so `gemm(g, x, trans_a=True)` computes g^T x without ever writing g^T.  `out`
receives the product when given (it saves an allocation on hot paths).

Two implementations sit behind the seam, chosen once per process (`backends.set_blas`):

* ``numpy`` (always there): `np.matmul` on transposed *views*; NumPy hands a view of a
  transposed contiguous array to its BLAS (OpenBLAS in the wheels) with the transpose flag,
  so no copy is made here either.
* ``mkl`` (optional, ``pip install 'deepnotes[mkl]'``): Intel MKL's ``cblas_?gemm`` and
  ``cblas_?gemm_batch_strided`` called through ctypes on the NumPy buffers
  (`backends.mkl`); float32 and float64 only, anything else goes to the NumPy path.

Which one runs is decided on first use (`backends.choose`): ``DEEPNOTES_BLAS=numpy|mkl``, or a
one-time micro-benchmark of both on the library's typical shapes, cached per machine.
Shapes follow `np.matmul` (both operands at least 2-d here; 1-d promotion is `ops.matmul`'s job).
"""
from __future__ import annotations

import numpy as np


def numpy_gemm(a, b, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b) by NumPy's matmul on views (the reference implementation of the seam)."""
    return np.matmul(a.T if trans_a else a, b.T if trans_b else b, out=out)


def numpy_matmul(a, b, trans_a=False, trans_b=False, out=None):
    """Batched op(a) @ op(b) over the last two axes by NumPy's matmul on views."""
    # the ndarray method, not np.swapaxes: that one is a Python-level wrapper, ~1 us per call
    return np.matmul(a.swapaxes(-1, -2) if trans_a else a, b.swapaxes(-1, -2) if trans_b else b, out=out)


class _Active:
    """The implementation in use: two functions, swapped as a pair by `use`.

    Until the first product the pair is `_first_gemm` / `_first_matmul`, which make the choice
    (environment, cache or micro-benchmark) and then replace themselves, so a product costs
    one attribute lookup and one call over NumPy's matmul."""

    name = None
    gemm = None
    matmul = None


def use(name, gemm_fn, matmul_fn):
    """Route every later product to `gemm_fn` / `matmul_fn` (called by `backends.set_blas`)."""
    _Active.name, _Active.gemm, _Active.matmul = name, gemm_fn, matmul_fn


def gemm(a, b, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b) for 2-d arrays a, b; op(x) = x^T when its flag is set.

    a: (m, k), or (k, m) with trans_a;  b: (k, n), or (n, k) with trans_b  ->  (m, n).
    `out`: an (m, n) array of the result's dtype that receives the product (returned).
    """
    return _Active.gemm(a, b, trans_a, trans_b, out)


def matmul(a, b, trans_a=False, trans_b=False, out=None):
    """Batched `gemm`: op(a) @ op(b) over the last two axes of arrays with >= 2 axes.

    a: (..., m, k) (or (..., k, m) with trans_a), b: (..., k, n) (or (..., n, k) with trans_b)
    -> (..., m, n), the leading axes broadcast as in `np.matmul`.
    """
    return _Active.matmul(a, b, trans_a, trans_b, out)


def _first_gemm(a, b, trans_a=False, trans_b=False, out=None):
    from . import choose

    choose.resolve()
    return _Active.gemm(a, b, trans_a, trans_b, out)


def _first_matmul(a, b, trans_a=False, trans_b=False, out=None):
    from . import choose

    choose.resolve()
    return _Active.matmul(a, b, trans_a, trans_b, out)


use(None, _first_gemm, _first_matmul)
