"""The compute backends under deepnotes' ops: which BLAS runs the matrix products, with how many threads.

    import deepnotes as dn
    dn.backends.get_blas()            # "numpy" or "mkl": the library behind every matrix product
    dn.backends.set_blas("mkl")       # or "numpy", or "auto" (the measured choice); also DEEPNOTES_BLAS=...
    dn.backends.blas_info()           # the choice, the libraries found and their measured GFLOP/s
    dn.set_num_threads(2)             # BLAS threads, for NumPy's BLAS and MKL alike (threadpoolctl)

Every matrix product of the library goes through `backends.blas.gemm` / `backends.blas.matmul`
(see `blas.py`); `choose.py` decides which implementation answers, `mkl.py` binds MKL.
This package imports only NumPy (and platformdirs / threadpoolctl when it measures).

As `torch.backends`, it also says that no accelerator backend is available: `backends.mps.is_available()`
and `backends.cuda.is_built()` are False; `backends.cudnn.benchmark` and `.deterministic` can be set
(scripts set them for reproducibility) and change nothing, since NumPy on the CPU is deterministic already.
"""
from __future__ import annotations

from types import SimpleNamespace

from . import blas, choose, mkl
from .blas import gemm, matmul


def _false(*args, **kwargs) -> bool:
    return False


mps = SimpleNamespace(is_available=_false, is_built=_false)
cuda = SimpleNamespace(is_built=_false, matmul=SimpleNamespace(allow_tf32=False))
cudnn = SimpleNamespace(is_available=_false, enabled=False, benchmark=False, deterministic=False, allow_tf32=False)
mkldnn = SimpleNamespace(is_available=_false)


def get_blas() -> str:
    """The BLAS behind the seam ("numpy" or "mkl"), choosing it now if no product has yet."""
    return choose.resolve()


def set_blas(name: str) -> str:
    """Use "numpy", "mkl" or "auto" (the faster on this machine, measured once and cached) for
    every later matrix product; returns the name now in use. Raises when MKL is asked for and
    cannot load."""
    return choose.request(name)


def blas_info(measure: bool = True) -> dict:
    """{"in_use", "numpy_blas", "mkl" (version or why not), "gflops" ({"numpy": ..., "mkl": ...}
    from the cached measurement, None unless `measure`)}."""
    pool = choose.numpy_pool()
    numpy_blas = (f"{pool.get('internal_api')} {pool.get('version')}, kernel {pool.get('architecture')}, "
                  f"{pool.get('num_threads')} threads") if pool else "unknown"
    version = mkl.version()
    return {"in_use": get_blas(), "numpy_blas": numpy_blas,
            "mkl": version if version else f"not available: {mkl.load_error()}",
            "gflops": choose.measured() if measure else None}


def set_num_threads(n: int) -> None:
    """Threads of the BLAS libraries (NumPy's and MKL when loaded), like `torch.set_num_threads`."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    from threadpoolctl import threadpool_limits

    threadpool_limits(n, user_api="blas")
    if mkl._lib is not None:
        mkl.set_num_threads(n)


def get_num_threads() -> int:
    """The BLAS threads NumPy's BLAS uses."""
    return choose._threads()


__all__ = ["blas", "gemm", "matmul", "get_blas", "set_blas", "blas_info", "set_num_threads", "get_num_threads",
           "mps", "cuda", "cudnn", "mkldnn"]
