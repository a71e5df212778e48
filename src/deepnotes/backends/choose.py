"""Which BLAS the GEMM seam uses: the environment, the user's call, or a one-time measurement.

Order of precedence, decided at the first matrix product of a process:

1. `backends.set_blas("numpy" | "mkl" | "auto")`, when called;
2. the environment variable ``DEEPNOTES_BLAS=numpy|mkl|auto``;
3. ``auto``: NumPy when MKL is not installed; otherwise the faster of the two on this machine,
   measured once by `measure` (float32 GEMMs of the shapes the library runs most: the
   benchmark MLP's forward and backward products, an im2col convolution, a recurrent step) and
   cached in the user cache directory (``platformdirs.user_cache_dir("deepnotes")/blas.json``),
   keyed by CPU model, thread count and library versions.  MKL must beat NumPy by
   `MARGIN` to be chosen: the default wins ties.

Which BLAS wins depends on the machine (MKL on Intel, often OpenBLAS on AMD), hence the
measurement rather than a rule.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from . import blas, mkl

CHOICES = ("numpy", "mkl")
MARGIN = 1.03  # MKL's summed time must be below NumPy's / MARGIN to be chosen
# (m, k, n, trans_a, trans_b): W1's forward and both backward GEMMs, a conv layer's W @ cols,
# an LSTM step's W z_t, attention's scores.
SHAPES = ((128, 784, 512, False, True), (128, 512, 512, False, True), (512, 128, 784, True, False),
          (128, 512, 512, False, False), (32, 9, 12544, False, False), (512, 161, 32, False, False),
          (64, 32, 64, False, True))

_state = {"requested": None, "measured": None}


def _cache_file():
    import platformdirs

    return Path(os.environ.get("DEEPNOTES_CACHE_DIR") or platformdirs.user_cache_dir("deepnotes")) / "blas.json"


def numpy_pool(own_only=False):
    """threadpoolctl's record of NumPy's own BLAS (the library in NumPy's folders; another module's,
    SciPy's OpenBLAS say, can be listed first), else (unless `own_only`) of the first non-MKL BLAS;
    None if there is none."""
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas" and p.get("internal_api") != "mkl"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))  # site-packages
    own = (os.path.join(root, "numpy") + os.sep, os.path.join(root, "numpy.libs") + os.sep)
    mine = [p for p in pools if os.path.abspath(p.get("filepath") or "").startswith(own)]
    return (mine or ([] if own_only else pools) or [None])[0]


def _threads():
    pool = numpy_pool()
    return pool["num_threads"] if pool else 1


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_key():
    """What a measurement depends on: CPU model, BLAS threads, NumPy's and MKL's versions, and the
    OpenBLAS tuning variables some machines set (they change NumPy's speed)."""
    tuning = ",".join(f"{v}={os.environ[v]}" for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ)
    return f"{_cpu_model()}|threads={_threads()}|numpy={np.__version__}|mkl={mkl.version()}|{tuning}"


def _time(fn, operands, repeats):
    import statistics  # deferred: 10 modules (0.7 MB: random, fractions, decimal) that only a measurement needs

    a, b, ta, tb = operands
    fn(a, b, ta, tb)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(a, b, ta, tb)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(repeats=15, rounds=3):
    """GFLOP/s of each available BLAS over `SHAPES`, float32: {"numpy": ..., "mkl": ... or None}.

    The two libraries alternate shape by shape and round by round, so a busy moment of a shared
    machine falls on both; the figure is total FLOPs over the summed median times."""
    rng = np.random.default_rng(0)
    cases = []
    for m, k, n, ta, tb in SHAPES:
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        cases.append(((a, b, ta, tb), 2.0 * m * k * n))
    impls = {"numpy": blas.numpy_gemm}
    if mkl.load() is not None:
        mkl.set_num_threads(_threads())
        impls["mkl"] = mkl.gemm
    seconds = {name: 0.0 for name in impls}
    for _ in range(rounds):
        for operands, _flops in cases:
            for name, fn in impls.items():
                seconds[name] += _time(fn, operands, repeats)
    total = rounds * sum(f for _, f in cases)
    return {name: (total / seconds[name] / 1e9 if name in seconds else None) for name in CHOICES}


def measured(refresh=False):
    """The cached measurement for this machine (made and cached on first need)."""
    if _state["measured"] is not None and not refresh:
        return _state["measured"]
    path, key = _cache_file(), machine_key()
    cached = {}
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    if refresh or key not in cached:
        cached[key] = measure()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cached, indent=1))
        except OSError:
            pass  # a read-only home: measure again next time
    _state["measured"] = cached[key]
    return cached[key]


def _pick_auto():
    if mkl.load() is None:
        return "numpy"
    speed = measured()
    return "mkl" if speed.get("mkl") and speed["mkl"] > speed["numpy"] * MARGIN else "numpy"


def _requested():
    if _state["requested"] is not None:
        return _state["requested"]
    value = os.environ.get("DEEPNOTES_BLAS", "auto").strip().lower() or "auto"
    if value not in CHOICES + ("auto",):
        raise ValueError(f"DEEPNOTES_BLAS: expected numpy, mkl or auto, got {value!r}")
    return value


def activate(name):
    """Route the seam to `name` ("numpy" or "mkl"); MKL gets NumPy's BLAS thread count."""
    if name == "mkl":
        if mkl.load() is None:
            raise RuntimeError(f"set_blas('mkl'): MKL is not available: {mkl.load_error()}")
        mkl.set_num_threads(_threads())
        blas.use("mkl", mkl.gemm, mkl.matmul)
    else:
        blas.use("numpy", blas.numpy_gemm, blas.numpy_matmul)


def resolve():
    """Make the choice now (the first product does it when nothing has); returns the name in use."""
    if blas._Active.name is None:
        requested = _requested()
        if requested == "mkl" and mkl.load() is None:  # asked by the environment: warn, do not fail
            import warnings

            warnings.warn(f"DEEPNOTES_BLAS=mkl: MKL is not available ({mkl.load_error()}); using NumPy's BLAS",
                          RuntimeWarning, stacklevel=3)
            requested = "numpy"
        activate(_pick_auto() if requested == "auto" else requested)
    return blas._Active.name


def request(name):
    """`backends.set_blas`: "numpy", "mkl" or "auto" (the measured choice), effective at once."""
    name = str(name).strip().lower()
    if name not in CHOICES + ("auto",):
        raise ValueError(f"set_blas: expected 'numpy', 'mkl' or 'auto', got {name!r}")
    activate(_pick_auto() if name == "auto" else name)
    _state["requested"] = name
    return blas._Active.name
