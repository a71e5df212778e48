"""`backends.vector.axpby` (y <- alpha x + beta y in NumPy's own BLAS) against the NumPy formula,
and every case it must refuse (returning False with y untouched) rather than compute wrongly."""
import numpy as np
import pytest

from deepnotes.backends import vector

pytestmark = pytest.mark.covers("O1")

needs_library = pytest.mark.skipif(not vector.available(), reason="NumPy's BLAS has no ?axpby here")


@needs_library
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpby_matches_the_numpy_formula(dtype):
    rng = np.random.default_rng(0)
    eps = np.finfo(dtype).eps
    for shape in [(1,), (7,), (3, 5), (2, 3, 4), (1000,), (513, 65)]:
        for alpha, beta in [(1.0, 1.0), (-0.01, 1.0), (0.7, 0.9), (0.0, 2.5), (1.5, 0.0), (-1.0, -0.3)]:
            x = rng.standard_normal(shape).astype(dtype)
            y0 = rng.standard_normal(shape).astype(dtype)
            y = y0.copy()
            expected = alpha * x.astype(np.float64) + beta * y0.astype(np.float64)
            assert vector.axpby(alpha, x, beta, y)
            assert y.dtype == dtype
            # within a few roundings of each term (the library may fuse the multiply and the add)
            assert np.all(np.abs(y - expected) <= 4 * eps * (np.abs(alpha * x) + np.abs(beta * y0))), (alpha, beta)


@needs_library
def test_axpby_propagates_nan_and_inf_as_numpy_does():
    x = np.array([np.nan, 1.0, np.inf, 2.0], dtype=np.float32)
    y = np.array([1.0, np.nan, 1.0, -np.inf], dtype=np.float32)
    expected = 0.5 * x + 0.9 * y
    assert vector.axpby(0.5, x, 0.9, y)
    np.testing.assert_array_equal(y, expected)


def _refusal_cases():
    """(what, x, y) that axpby must refuse: each needs more than one contiguous pass, or none."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 8))
    b = rng.standard_normal((6, 8))
    frozen = b.copy()
    frozen.flags.writeable = False
    return [("strided", a[:, ::2], b[:, ::2]), ("y column-major", a, np.asfortranarray(b)),
            ("mixed dtypes", a.astype(np.float32), b), ("float16", a.astype(np.float16), b.astype(np.float16)),
            ("int64", a.astype(np.int64), b.astype(np.int64)), ("shapes differ", a, b[:3]), ("x is y", a, a),
            ("overlapping views", a[1:], a[:-1]), ("read-only y", a, frozen), ("empty", np.zeros(0), np.zeros(0)),
            ("x a list", list(a.ravel()), b.ravel())]


@pytest.mark.parametrize("what,x,y", _refusal_cases(), ids=[case[0] for case in _refusal_cases()])
def test_axpby_refuses_what_it_cannot_do_in_one_pass(what, x, y):
    before = np.array(y, copy=True)
    assert vector.axpby(0.5, x, 0.9, y) is False
    np.testing.assert_array_equal(y, before)  # untouched


def test_without_a_library_axpby_always_refuses(monkeypatch):
    monkeypatch.setattr(vector, "_functions", {})
    assert not vector.available()
    y = np.ones(4)
    assert vector.axpby(0.5, np.ones(4), 0.9, y) is False
    np.testing.assert_array_equal(y, np.ones(4))


def test_a_library_without_axpby_binds_nothing(tmp_path):
    assert vector._bind(str(tmp_path / "missing.so")) == {}
    libc = "libc.so.6"
    assert vector._bind(libc) == {}  # loads, but has no ?axpby


def test_numpy_pool_is_numpys_own_blas_when_scipy_loaded_another():
    import scipy.linalg  # noqa: F401 - loads SciPy's own OpenBLAS, which threadpoolctl may list first

    from deepnotes.backends import choose

    pool = choose.numpy_pool(own_only=True)
    if pool is None:
        pytest.skip("NumPy's BLAS is not in NumPy's folders here (a system BLAS)")
    built = np.__config__.CONFIG["Build Dependencies"]["blas"].get("version")
    assert choose.numpy_pool() is not None and choose.numpy_pool()["filepath"] == pool["filepath"]
    if built:
        assert pool["version"] == built
    assert vector.numpy_library() == pool["filepath"]
