"""`deepnotes._checks.holds_nan`: exact on contiguous arrays and on strided views (which it reads in
place), and infinities alone are not NaN."""
import numpy as np
import pytest

from deepnotes._checks import holds_nan


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "channel-major", "sliced", "flipped", "rows, transposed"])
def test_holds_nan_finds_one_nan_anywhere_and_nothing_else(dtype, layout):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 5, 8)).astype(dtype)
    view = {"contiguous": lambda a: a, "transposed": lambda a: a.transpose(2, 0, 1),
            "channel-major": lambda a: a.swapaxes(0, 1), "sliced": lambda a: a[:, ::2, 1:],
            "flipped": lambda a: a[::-1, :, ::-1], "rows, transposed": lambda a: a[2:4].transpose(2, 0, 1)}[layout]
    assert not holds_nan(view(base))
    for index in np.ndindex(view(base).shape):
        if rng.random() > 0.1:
            continue
        a = base.copy()
        v = view(a)
        v[index] = np.nan
        assert holds_nan(v), index
    # +inf and -inf together sum to NaN: not a NaN of the array
    a = base.copy()
    v = view(a)
    v[(0,) * v.ndim] = np.inf
    v[(1,) * v.ndim] = -np.inf
    assert not holds_nan(v)
    assert not holds_nan(np.array([], dtype)) and not holds_nan(np.arange(4))


def test_a_permuted_contiguous_array_is_read_in_place_and_a_slice_is_not_copied():
    from deepnotes._checks import _one_block

    a = np.zeros((4, 3, 5), np.float32)
    assert np.shares_memory(_one_block(a.transpose(1, 2, 0)), a)
    assert _one_block(a[:, 1:]) is None and _one_block(a[::-1]) is None
    assert _one_block(np.broadcast_to(np.zeros(5, np.float32), (3, 5))) is None
