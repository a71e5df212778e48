"""The GEMM seam: the MKL path equals the NumPy path for every product and every op that uses it.

The seam's own tests compare each implementation with a float64 NumPy product over shapes,
transposes, strided and transposed views, broadcast batches and both float dtypes. The op tests
run each op (matmul, bmm, Linear, convolutions, RNN/LSTM/GRU, attention, the Transformer's fast
path) under ``set_blas("numpy")`` and ``set_blas("mkl")`` and compare outputs and every gradient.
Without MKL installed the MKL half skips and the fallback tests still run.
"""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.backends import blas, choose, mkl

HAVE_MKL = mkl.load() is not None
needs_mkl = pytest.mark.skipif(not HAVE_MKL, reason=f"MKL not available: {mkl.load_error()}")
IMPLS = [("numpy", blas.numpy_gemm, blas.numpy_matmul)] + ([("mkl", mkl.gemm, mkl.matmul)] if HAVE_MKL else [])


@pytest.fixture(autouse=True)
def every_product_to_mkl(monkeypatch):
    """The MKL path hands small products to NumPy; these tests' small shapes must reach MKL."""
    monkeypatch.setattr(mkl, "SMALL", 0)


@pytest.fixture
def restore_blas():
    """Put back whichever BLAS was in use (the tests run against the active one)."""
    previous = dn.backends.get_blas()
    yield
    choose.activate(previous)


def _operand(rng, shape, dtype, layout):
    """An array of `shape` laid out as asked: contiguous, a transposed (column-major) view,
    or a strided view (every other column of a wider array)."""
    if layout == "contiguous":
        return rng.standard_normal(shape).astype(dtype)
    if layout == "transposed":
        return np.swapaxes(rng.standard_normal(shape[:-2] + shape[-2:][::-1]).astype(dtype), -1, -2)
    wide = rng.standard_normal(shape[:-1] + (2 * shape[-1],)).astype(dtype)
    return wide[..., ::2]


LAYOUTS = ("contiguous", "transposed", "strided")
TOLERANCE = {np.float32: 1e-4, np.float64: 1e-12}


def _pair(rng, shape_a, shape_b, ta, tb, dtype, i):
    """Operands whose op(a), op(b) have shapes `shape_a`, `shape_b` (stored transposed when the
    flag is set), in layouts that vary with the case number i."""
    def flip(s):
        return s[:-2] + s[-2:][::-1]
    return (_operand(rng, flip(shape_a) if ta else shape_a, dtype, LAYOUTS[i % 3]),
            _operand(rng, flip(shape_b) if tb else shape_b, dtype, LAYOUTS[(i // 3 + 1) % 3]))


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name,gemm,_", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_equals_float64_product(name, gemm, _, dtype):
    rng, tol = np.random.default_rng(1), TOLERANCE[dtype]
    for trial in range(24):
        m, k, n = (int(v) for v in rng.integers(1, 40, size=3))
        ta, tb = bool(trial & 1), bool(trial & 2)
        a, b = _pair(rng, (m, k), (k, n), ta, tb, dtype, trial)
        expected = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
        got = gemm(a, b, ta, tb)
        assert got.shape == (m, n) and got.dtype == dtype, (name, trial)
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.sqrt(k), err_msg=f"{name} trial {trial}")


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name,gemm,_", IMPLS)
def test_gemm_writes_into_out(name, gemm, _):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((6, 7))
    for out in (np.empty((5, 6)), np.empty((6, 5)).T, np.empty((5, 12))[:, ::2]):
        returned = gemm(a, b, False, True, out)
        assert returned is out
        np.testing.assert_allclose(out, a @ b.T, rtol=1e-12)


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name,_,matmul", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_matmul_broadcasts_like_numpy(name, _, matmul, dtype):
    rng, tol = np.random.default_rng(3), TOLERANCE[dtype]
    cases = [((3, 4, 5), (3, 5, 6)), ((2, 3, 4, 5), (5, 6)), ((4, 5), (2, 3, 5, 6)), ((2, 1, 4, 5), (1, 3, 5, 6)),
             ((1, 4, 5), (3, 5, 2)), ((2, 3, 1, 5), (2, 3, 5, 1))]
    for i, (sa, sb) in enumerate(cases):
        ta, tb = bool(i & 1), bool(i & 2)
        a, b = _pair(rng, sa, sb, ta, tb, dtype, i)
        expected = np.matmul(np.swapaxes(a, -1, -2) if ta else a, np.swapaxes(b, -1, -2) if tb else b,
                             dtype=np.float64)
        got = matmul(a, b, ta, tb)
        assert got.shape == expected.shape and got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * 5, err_msg=f"{name} case {i}")
    # a batch whose axes one stride cannot walk (a transposed stack) and a non-contiguous `out`
    a = rng.standard_normal((4, 3, 5, 6)).astype(dtype).transpose(1, 0, 2, 3)
    b = rng.standard_normal((3, 4, 6, 2)).astype(dtype)
    out = np.empty((3, 4, 2, 5), dtype=dtype).swapaxes(-1, -2)
    assert matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, np.matmul(a, b, dtype=np.float64), rtol=tol, atol=tol * 5)


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name,gemm,matmul", IMPLS)
def test_other_dtypes_and_bad_shapes_behave_as_numpy(name, gemm, matmul):
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(gemm(a, b), a @ b)  # integers: NumPy's path
    np.testing.assert_allclose(gemm(a.astype(np.float32), b.astype(np.float64)), a @ b)  # mixed: promoted
    assert gemm(np.ones((0, 3)), np.ones((3, 4))).shape == (0, 4)
    np.testing.assert_array_equal(gemm(np.ones((2, 0)), np.ones((0, 4))), np.zeros((2, 4)))
    with pytest.raises(ValueError):
        gemm(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError):
        matmul(np.ones((2, 2, 3)), np.ones((3, 4, 5)))


@needs_mkl
def test_small_products_go_to_numpy(monkeypatch):
    monkeypatch.setattr(mkl, "SMALL", 1 << 18)
    calls = []
    monkeypatch.setattr(mkl, "_matrix", lambda *a: calls.append(a) or pytest.fail("a small product reached MKL"))
    a = np.ones((8, 8), np.float32)
    np.testing.assert_array_equal(mkl.gemm(a, a), a @ a)
    np.testing.assert_array_equal(mkl.matmul(np.ones((3, 8, 8), np.float32), a), np.full((3, 8, 8), 8.0))
    assert not calls


# ------------------------------------------------------------------ every op that uses the seam
def _run(build, seed=0):
    """Outputs and gradients (of the inputs and of every parameter) of `build()` -> (output, leaves)."""
    dn.manual_seed(seed)
    out, leaves = build()
    loss = sum((o * o).sum() for o in (out if isinstance(out, tuple) else (out,)))
    loss.backward()
    values = [o.detach().numpy().copy() for o in (out if isinstance(out, tuple) else (out,))]
    return values + [np.array(getattr(leaf.grad, "data", leaf.grad)) for leaf in leaves]


def _inputs(*shapes, dtype=np.float64):
    """The same random leaves on every call (each case is built once per BLAS)."""
    rng = np.random.default_rng(len(shapes) + sum(map(len, shapes)))
    return [dn.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def _matmul_cases(dtype):
    def make(sa, sb, transpose_b=False):
        def build():
            a, b = _inputs(sa, sb, dtype=dtype)
            return (a @ (b.transpose(-1, -2) if transpose_b else b)), [a, b]
        return build

    return [make((4, 5), (5, 3)), make((2, 6, 5), (5, 3)), make((2, 4, 5), (2, 3, 5), transpose_b=True),
            make((5,), (3, 5, 2)), make((3, 4, 5), (5,)), make((7, 2, 4, 5), (1, 5, 3))]


def _layer_cases(dtype):
    def layer(module, shape, call=None):
        def build():
            mod = module().to(dtype)
            x, = _inputs(shape, dtype=dtype)
            out = call(mod, x) if call else mod(x)
            return out, [x] + list(mod.parameters())
        return build

    def lstm(m, x):
        return m(x)[0]

    def mha(m, x):
        return m(x, x, x)[0]

    return [
        layer(lambda: nn.Linear(6, 4), (3, 5, 6)),
        layer(lambda: nn.Conv2d(3, 4, 3, padding=1, stride=2), (2, 3, 7, 6)),
        layer(lambda: nn.Conv2d(4, 6, 3, groups=2, dilation=2), (2, 4, 9, 9)),
        layer(lambda: nn.Conv1d(2, 3, 5), (3, 2, 11)),
        layer(lambda: nn.ConvTranspose2d(3, 2, 3, stride=2), (2, 3, 4, 4)),
        layer(lambda: nn.LSTM(5, 6, num_layers=2, batch_first=True), (3, 4, 5), lstm),
        layer(lambda: nn.GRU(5, 6, bidirectional=True), (4, 3, 5), lstm),
        layer(lambda: nn.RNN(5, 6), (4, 3, 5), lstm),
        layer(lambda: nn.MultiheadAttention(8, 2, batch_first=True), (2, 5, 8), mha),
        layer(lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    ]


def _both(case):
    """The case's results under the NumPy path and under the MKL path."""
    results = {}
    for name in ("numpy", "mkl"):
        dn.backends.set_blas(name)
        results[name] = _run(case)
    return results["numpy"], results["mkl"]


@needs_mkl
@pytest.mark.covers("E1", "E4", "C1", "S1", "S2", "S4")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_op_gives_the_same_results_and_gradients_under_mkl(dtype, restore_blas):
    tol = 2e-4 if dtype == np.float32 else 1e-10
    for i, case in enumerate(_matmul_cases(dtype) + _layer_cases(dtype)):
        reference, got = _both(case)
        assert len(reference) == len(got)
        for r, g in zip(reference, got):
            assert r.dtype == g.dtype and r.shape == g.shape
            np.testing.assert_allclose(g, r, rtol=tol, atol=tol, err_msg=f"case {i}")


@needs_mkl
@pytest.mark.covers("S4")
def test_transformer_inference_fast_path_is_the_same_under_mkl(restore_blas):
    rng = np.random.default_rng(7)
    dn.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True), 2).eval()
    x = dn.tensor(rng.standard_normal((3, 6, 16)).astype(np.float32))
    outputs = {}
    for name in ("numpy", "mkl"):
        dn.backends.set_blas(name)
        with dn.no_grad():
            outputs[name] = encoder(x).numpy()
    np.testing.assert_allclose(outputs["mkl"], outputs["numpy"], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ choice, fallback, threads
@pytest.fixture
def without_mkl(restore_blas):
    """A process where the MKL library cannot be found (as without the extra installed); put back
    before `restore_blas` reactivates the BLAS in use."""
    saved = (mkl._lib, mkl._load_error, mkl.library_paths, dict(choose._state))
    mkl._lib, mkl._load_error, mkl.library_paths = None, None, lambda: []
    choose._state.update(requested=None, measured=None)
    blas.use(None, blas._first_gemm, blas._first_matmul)
    yield
    mkl._lib, mkl._load_error, mkl.library_paths = saved[:3]
    choose._state.update(saved[3])


@pytest.mark.covers("V1")
def test_without_mkl_auto_uses_numpy_without_measuring(without_mkl, monkeypatch):
    monkeypatch.delenv("DEEPNOTES_BLAS", raising=False)
    monkeypatch.setattr(choose, "measure", lambda: pytest.fail("measured although MKL is missing"))
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(blas.gemm(a, a, trans_b=True), a @ a.T)  # the first product chooses
    assert dn.backends.get_blas() == "numpy"
    x = dn.randn(4, 3, requires_grad=True)
    (x @ dn.tensor(a.T.astype(np.float32))).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), np.tile(a.sum(axis=0), (4, 1)), rtol=1e-6)


@pytest.mark.covers("V1")
def test_without_mkl_asking_for_it_warns_or_fails_clearly(without_mkl, monkeypatch):
    monkeypatch.setenv("DEEPNOTES_BLAS", "mkl")
    with pytest.warns(RuntimeWarning, match="MKL is not available"):
        assert dn.backends.get_blas() == "numpy"
    with pytest.raises(RuntimeError, match=r"set_blas\('mkl'\).*not found"):
        dn.backends.set_blas("mkl")
    with pytest.raises(ValueError, match="expected 'numpy', 'mkl' or 'auto', got 'openblas'"):
        dn.backends.set_blas("openblas")
    monkeypatch.setenv("DEEPNOTES_BLAS", "fast")
    blas.use(None, blas._first_gemm, blas._first_matmul)
    with pytest.raises(ValueError, match="DEEPNOTES_BLAS: expected numpy, mkl or auto, got 'fast'"):
        dn.backends.get_blas()
    choose.activate("numpy")


@pytest.mark.covers("V1")
def test_the_measurement_is_cached_per_machine(monkeypatch, tmp_path, restore_blas):
    calls = []
    monkeypatch.setenv("DEEPNOTES_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(choose._state, "measured", None)
    monkeypatch.setattr(choose, "measure", lambda: calls.append(1) or {"numpy": 10.0, "mkl": 30.0})
    assert choose.measured() == {"numpy": 10.0, "mkl": 30.0}
    monkeypatch.setitem(choose._state, "measured", None)  # a new process: read from the file
    assert choose.measured() == {"numpy": 10.0, "mkl": 30.0} and len(calls) == 1
    assert (tmp_path / "blas.json").exists()
    if HAVE_MKL:  # 3x faster in the (fake) measurement: auto picks MKL
        assert dn.backends.set_blas("auto") == "mkl"
        monkeypatch.setitem(choose._state, "measured", {"numpy": 10.0, "mkl": 10.1})  # within the margin
        assert dn.backends.set_blas("auto") == "numpy"


def test_measure_reports_both_libraries():
    speed = choose.measure(repeats=1, rounds=1)
    assert speed["numpy"] > 0
    assert (speed["mkl"] > 0) if HAVE_MKL else speed["mkl"] is None


def test_set_num_threads_sets_every_blas(restore_blas):
    from threadpoolctl import threadpool_info

    previous = dn.get_num_threads()
    try:
        if HAVE_MKL:
            dn.backends.set_blas("mkl")
        dn.set_num_threads(2)
        pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert pools and all(p["num_threads"] == 2 for p in pools)
    finally:
        dn.set_num_threads(previous)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
            dn.set_num_threads(bad)
