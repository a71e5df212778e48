"""The convolution figure builders (handbook entries C1, C5, C6): the data they draw is computed by deepnotes and
checked here against independent arithmetic, and every builder writes an image."""
import numpy as np
import pytest

from deepnotes.handbook.figures import build_figure
from deepnotes.handbook.figures import convolution as figures


@pytest.mark.covers("C5")
@pytest.mark.parametrize("length, kernel, stride, padding", [(8, 3, 2, 0), (7, 3, 1, 1), (9, 2, 3, 2)])
def test_conv_matrix_rows_are_the_kernel_placed_at_each_stride(length, kernel, stride, padding):
    """Row o of C holds w1..wK starting at input position o*S - P (cut at the padded borders)."""
    C = figures.conv_matrix(length, kernel, stride=stride, padding=padding)
    assert C.shape == ((length + 2 * padding - kernel) // stride + 1, length)
    expected = np.zeros_like(C)
    for o in range(C.shape[0]):
        for k in range(kernel):
            i = o * stride - padding + k
            if 0 <= i < length:
                expected[o, i] = k + 1
    np.testing.assert_array_equal(C, expected)


@pytest.mark.covers("C5")
def test_transposed_conv_applies_the_transposed_matrix_and_does_not_invert():
    import deepnotes as dn
    import deepnotes.nn.functional as F

    C = figures.conv_matrix(8, 3, stride=2)
    y = np.array([1.0, -2.0, 0.5])
    back = F.conv_transpose1d(dn.tensor(y.reshape(1, 1, 3)), dn.tensor(np.arange(1.0, 4).reshape(1, 1, 3)),
                              stride=2, output_padding=1).numpy().ravel()
    np.testing.assert_allclose(back, C.T @ y)
    x = np.arange(8.0)
    assert not np.allclose(C.T @ (C @ x), x)


@pytest.mark.covers("C6")
@pytest.mark.parametrize("dilations, field, holes", [((1, 1, 1), 7, 0), ((1, 2, 4), 15, 0), ((2, 2, 2), 13, 120)])
def test_receptive_mask_field_and_gridding_holes(dilations, field, holes):
    """Field = 1 + 2 * sum(d) for 3x3 kernels; three dilation-2 layers only touch even offsets (7x7 of 13x13)."""
    mask = figures.receptive_mask(dilations, size=21)
    rows, cols = np.nonzero(mask)
    assert rows.max() - rows.min() + 1 == field == 1 + 2 * sum(dilations)
    box = mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert int((box == 0).sum()) == holes


@pytest.mark.covers("C4")
def test_pooling_shift_example_by_hand():
    """2 x 2 pooling of eye(4): max [[1, 0], [0, 1]], avg halves; shifted one column right, every window holds one 1."""
    ex = figures.pooling_shift_example()
    np.testing.assert_array_equal(ex["max"], np.eye(2))
    np.testing.assert_allclose(ex["avg"], np.eye(2) / 2)
    np.testing.assert_array_equal(ex["max_shifted"], np.ones((2, 2)))
    np.testing.assert_allclose(ex["avg_shifted"], np.full((2, 2), 0.25))


@pytest.mark.covers("C1", "C4", "C5", "C6")
@pytest.mark.parametrize("name", ["output_size_diagram", "transposed_matrix_diagram", "dilation_gridding_diagram",
                                  "pooling_shift_diagram"])
def test_builder_writes_an_image(name, tmp_path):
    out = build_figure(f"deepnotes.handbook.figures.convolution.{name}", tmp_path / f"{name}.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
