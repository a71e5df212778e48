"""Pooling, adaptive pooling and interpolation against PyTorch (forward, gradients, indices)."""
import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from tests.oracle import assert_close, check_fn, check_module, gradcheck, random_inputs

TF = torch.nn.functional


def _ties(shape, seed=0):
    """Small integers as floats: many windows hold several equal maxima."""
    return np.random.default_rng(seed).integers(0, 3, size=shape).astype(np.float64)


# ------------------------------------------------------------------------------ max pooling
MAX_POOL_2D = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 1, True), (3, 2, 1, 2, True),
    ((2, 3), (1, 2), (1, 1), 1, False),
    ((3, 2), 3, (1, 0), (2, 1), True), (2, 1, 1, 1, False), (4, 3, 2, 1, True),
]


@pytest.mark.covers("C4")
@pytest.mark.parametrize("case", range(len(MAX_POOL_2D)))
def test_max_pool2d_matches_torch_with_ties_and_indices(case):
    kernel, stride, padding, dilation, ceil_mode = MAX_POOL_2D[case]
    kw = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
              return_indices=True)
    shape = (1 + case % 2, 3, 7 + case % 2, 9 - case % 3)
    for x in (random_inputs([shape], seed=case)[0], _ties(shape, case)):  # ties: the first maximum wins
        check_fn(lambda t: F.max_pool2d(t, **kw), lambda t: TF.max_pool2d(t, **kw), [x])
    check_module(nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw), [_ties(shape, case + 1)])


@pytest.mark.covers("C4")
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode",
                         [(2, None, 0, 1, False), (3, 2, 1, 2, True), (4, 3, 2, 1, True), (3, 1, 1, 3, False)])
def test_max_pool1d_matches_torch(kernel, stride, padding, dilation, ceil_mode):
    kw = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    check_module(nn.MaxPool1d(**kw), torch.nn.MaxPool1d(**kw), [_ties((2, 3, 10))])


@pytest.mark.covers("C4")
def test_max_pool_infinite_and_nan_windows_route_like_torch():
    """A window of -inf values reports its first in-bounds element; NaN propagates (last NaN wins)."""
    x = np.random.default_rng(0).standard_normal((1, 2, 9, 9))
    x[0, 0, :7, :7] = -np.inf
    x[0, 1, 2, 3] = x[0, 1, 3, 4] = np.nan
    pools = [(F.max_pool2d, TF.max_pool2d, dict(kernel_size=2 * d + 1, stride=2, padding=d, dilation=d)) for d in (1, 2)]
    pools.append((F.adaptive_max_pool2d, TF.adaptive_max_pool2d, dict(output_size=(3, 4))))
    for ours, theirs, kw in pools:
        dn_out, dn_idx = ours(dn.tensor(x), return_indices=True, **kw)
        th_out, th_idx = theirs(torch.tensor(x), return_indices=True, **kw)
        assert_close(dn_out, th_out, "values")
        np.testing.assert_array_equal(dn_idx.numpy(), th_idx.numpy())


# -------------------------------------------------------------------------- average pooling
AVG_POOL_2D = [  # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, False, False, None),
    (3, 2, 1, True, True, None), (3, 2, 1, True, False, None), ((2, 4), (1, 3), (1, 2), True, False, None),
    (3, 2, 1, True, True, 5), (4, 3, 2, True, True, None),
]


@pytest.mark.covers("C4")
@pytest.mark.parametrize("case", range(len(AVG_POOL_2D)))
def test_avg_pool2d_matches_torch(case):
    kernel, stride, padding, ceil_mode, count_include_pad, divisor_override = AVG_POOL_2D[case]
    kw = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
              count_include_pad=count_include_pad, divisor_override=divisor_override)
    shape = (1 + case % 2, 2, 7 + case % 2, 9 - case % 3)
    check_module(nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), random_inputs([shape], seed=case))


@pytest.mark.covers("C4")
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad",
                         [(2, None, 0, False, True), (3, 2, 1, True, False), (4, 3, 2, True, True),
                          (5, 2, 2, False, False)])
def test_avg_pool1d_matches_torch(kernel, stride, padding, ceil_mode, count_include_pad):
    kw = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
              count_include_pad=count_include_pad)
    check_module(nn.AvgPool1d(**kw), torch.nn.AvgPool1d(**kw), random_inputs([(2, 3, 10)]))


# ------------------------------------------------------------------------- adaptive pooling
@pytest.mark.covers("C4")
@pytest.mark.parametrize("size, out", [((7, 10), (3, 4)), ((5, 3), (7, 2)), ((6, 6), (None, 4)), ((9, 5), 1)])
def test_adaptive_pool2d_matches_torch(size, out):
    """Non-divisible sizes: windows [floor(i L/out), ceil((i+1) L/out)) overlap and differ in size."""
    check_module(nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out), random_inputs([(2, 3, *size)]))
    if None not in np.atleast_1d(out):
        kw = dict(output_size=out, return_indices=True)
        check_fn(lambda t: F.adaptive_max_pool2d(t, **kw), lambda t: TF.adaptive_max_pool2d(t, **kw),
                 [_ties((2, 3, *size))])


@pytest.mark.covers("C4")
@pytest.mark.parametrize("length, out", [(10, 3), (5, 7), (8, 8)])
def test_adaptive_pool1d_matches_torch(length, out):
    check_module(nn.AdaptiveAvgPool1d(out), torch.nn.AdaptiveAvgPool1d(out), random_inputs([(2, 3, length)]))
    check_module(nn.AdaptiveMaxPool1d(out), torch.nn.AdaptiveMaxPool1d(out), [_ties((2, 3, length))])


@pytest.mark.covers("C4")
def test_global_average_pooling_is_the_spatial_mean():
    x = dn.tensor(random_inputs([(2, 4, 5, 7)])[0])
    assert_close(nn.AdaptiveAvgPool2d(1)(x), x.numpy().mean(axis=(2, 3), keepdims=True), "global average")
    assert_close(nn.AdaptiveMaxPool2d((1, 1))(x), x.numpy().max(axis=(2, 3), keepdims=True), "global max")


# ---------------------------------------------------------------------------- interpolation
INTERPOLATE = [  # mode, align_corners, size or scale_factor
    ("nearest", None, dict(size=(11, 4))), ("nearest", None, dict(scale_factor=2)),
    ("nearest", None, dict(scale_factor=(1.7, 0.6))), ("nearest", None, dict(size=(3, 13))),
    ("nearest-exact", None, dict(scale_factor=1.5)),
    ("bilinear", False, dict(size=(11, 4))), ("bilinear", False, dict(scale_factor=2)),
    ("bilinear", False, dict(scale_factor=(0.5, 3.3))), ("bilinear", False, dict(size=(3, 13))),
    ("bilinear", True, dict(size=(11, 4))), ("bilinear", True, dict(scale_factor=2)),
    ("bilinear", True, dict(size=(3, 1))), ("bilinear", False, dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("area", None, dict(size=(4, 3))),
]


@pytest.mark.covers("C5", "C7")
@pytest.mark.parametrize("case", range(len(INTERPOLATE)))
def test_interpolate_matches_torch(case):
    mode, align_corners, how = INTERPOLATE[case]
    kw = dict(mode=mode, align_corners=align_corners, **how)
    check_fn(lambda t: F.interpolate(t, **kw), lambda t: TF.interpolate(t, **kw),
             random_inputs([(1 + case % 2, 2, 7, 5)], seed=case))


@pytest.mark.covers("C5")
@pytest.mark.parametrize("shape, how", [((26, 14), dict(size=(22, 46))), ((26,), dict(size=22)),
                                        ((14,), dict(size=46)), ((7, 5), dict(scale_factor=2.01))])
def test_nearest_source_index_follows_torch_exactly(shape, how):
    """floor(dst * scale) in float32 for 2-d and in the input's dtype (here float64) for 1-d, as
    PyTorch's kernels (26 -> 22 and 14 -> 46 pixels round differently), and dst // 2 whenever the
    output is exactly twice the input (scale_factor=2.01 on 7 -> 14).

    PyTorch's 1-d *backward* rounds in float32 even for float64 input, so there its gradient is
    not the gradient of its own forward; deepnotes' gradient is checked by finite differences."""
    x = random_inputs([(1, 2, *shape)])
    one_d = len(shape) == 1
    check_fn(lambda t: F.interpolate(t, **how), lambda t: TF.interpolate(t, **how), x, grad=not one_d)
    if one_d:
        gradcheck(lambda t: F.interpolate(t, **how), x)


@pytest.mark.covers("C5")
@pytest.mark.parametrize("size, align_corners", [(12, False), (4, True), (3, False)])
def test_linear_interpolate_1d_matches_torch(size, align_corners):
    kw = dict(size=size, mode="linear", align_corners=align_corners)
    check_fn(lambda t: F.interpolate(t, **kw), lambda t: TF.interpolate(t, **kw), random_inputs([(2, 3, 7)]))


@pytest.mark.covers("C5", "C7")
def test_upsample_module_matches_torch():
    for kw in (dict(scale_factor=2), dict(size=(5, 9), mode="bilinear", align_corners=True)):
        layer, reference = nn.Upsample(**kw), torch.nn.Upsample(**kw)
        assert repr(layer) == repr(reference)
        check_module(layer, reference, random_inputs([(2, 3, 4, 4)]))


# ---------------------------------------------------------------------------- misc behaviour
@pytest.mark.covers("C4")
def test_pooling_keeps_float32_and_accepts_unbatched_input():
    x = dn.randn(3, 8, 8, requires_grad=True)
    y = F.max_pool2d(x, 2) + F.avg_pool2d(x, 2) + F.adaptive_avg_pool2d(x, 4)
    y.sum().backward()
    assert y.shape == (3, 4, 4) and y.dtype == np.float32 and x.grad.numpy().dtype == np.float32
    up = F.interpolate(dn.randn(1, 2, 3, 3), scale_factor=2, mode="bilinear")
    assert up.dtype == np.float32 and up.shape == (1, 2, 6, 6)


@pytest.mark.covers("C4")
def test_repr_matches_torch():
    for ours, theirs in [(nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
                         (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
                         (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)), (nn.AvgPool1d(3), torch.nn.AvgPool1d(3)),
                         (nn.AdaptiveAvgPool2d((None, 3)), torch.nn.AdaptiveAvgPool2d((None, 3)))]:
        assert repr(ours) == repr(theirs)


@pytest.mark.covers("C4")
def test_bad_input_raises_naming_the_layer():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*4-d input.*\(2, 8\)"):
        nn.MaxPool2d(2)(dn.zeros(2, 8))
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(dn.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: input of spatial size \(2, 8\) is too small"):
        F.avg_pool2d(dn.zeros(1, 1, 2, 8), 3)
    with pytest.raises(ValueError, match="bilinear"):
        F.interpolate(dn.zeros(1, 1, 8), size=4, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(dn.zeros(1, 1, 8, 8), size=4, align_corners=True)
    with pytest.raises(ValueError, match="exactly one"):
        F.interpolate(dn.zeros(1, 1, 8, 8))


# ------------------------------------------------------------- disjoint tiles: the fast path
TILES = [  # kernel, input shape: stride == kernel, no padding (rows / columns past the last tile unused)
    (2, (2, 3, 8, 6)), (2, (1, 2, 9, 7)), (3, (2, 2, 9, 10)), ((2, 3), (2, 3, 6, 8)), ((1, 2), (1, 2, 3, 5)),
    (17, (1, 2, 34, 35)),  # 289 offsets: the winner no longer fits a uint8
]


@pytest.mark.covers("C4")
@pytest.mark.parametrize("kernel, shape", TILES)
def test_max_pool_tiles_fast_path_matches_torch_and_the_general_scan(kernel, shape):
    from deepnotes.fast.pooling import MaxPoolTiles
    x = random_inputs([shape], seed=len(shape))[0]
    channel_major = np.ascontiguousarray(x.swapaxes(0, 1)).swapaxes(0, 1)  # the layout conv2d produces
    for x in (x, _ties(shape, 3), channel_major):  # ties: the first maximum wins
        check_fn(lambda t: F.max_pool2d(t, kernel), lambda t: TF.max_pool2d(t, kernel), [x])
        # The same values and gradient as the general path (argmax indices + gather).
        ours = dn.tensor(x, requires_grad=True)
        general = dn.tensor(x, requires_grad=True)
        y = F.max_pool2d(ours, kernel)
        y_general, _ = F.max_pool2d(general, kernel, return_indices=True)
        assert isinstance(y.grad_fn, MaxPoolTiles)
        g = np.random.default_rng(1).uniform(0.5, 1.5, y.shape)
        y.backward(g)
        y_general.backward(g)
        np.testing.assert_array_equal(y.numpy(), y_general.numpy())
        np.testing.assert_array_equal(ours.grad.numpy(), general.grad.numpy())
    check_module(nn.MaxPool2d(kernel), torch.nn.MaxPool2d(kernel), [_ties(shape, 5)])
    check_module(nn.MaxPool1d(2), torch.nn.MaxPool1d(2), [_ties(shape[:3], 6)])


@pytest.mark.covers("C4")
def test_max_pool_tiles_route_nan_and_inf_like_torch():
    """NaN propagates and the last NaN of a tile (row-major) takes the gradient; -inf tiles pick the first."""
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    x[0, 0, :4, :4] = -np.inf
    x[0, 1, 0, 0] = x[0, 1, 1, 0] = x[0, 1, 3, 3] = x[0, 1, 4, 5] = x[0, 1, 5, 4] = np.nan
    x[0, 1, 2, 2] = np.inf
    for kernel in (2, 3, (2, 3)):
        check_fn(lambda t: F.max_pool2d(t, kernel), lambda t: TF.max_pool2d(t, kernel), [x])


@pytest.mark.covers("C4")
def test_max_pool_tiles_under_no_grad_and_float32():
    x = dn.randn(2, 3, 8, 8)
    with dn.no_grad():
        y = F.max_pool2d(x, 2)
    assert y.grad_fn is None and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(2, 3, 4, 2, 4, 2).max(axis=(3, 5)))


@pytest.mark.covers("C4")
def test_conv_relu_pool_stack_keeps_the_channel_major_layout_and_matches_torch():
    """Conv2d hands MaxPool2d a channel-major array and col2im hands gradients back the same way."""
    def stack(m):
        return m.Sequential(m.Conv2d(2, 3, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Conv2d(3, 4, 3, padding=1),
                            m.ReLU(), m.MaxPool2d(2), m.Flatten())
    x = random_inputs([(3, 2, 8, 10)], seed=7)[0]
    check_module(stack(nn), stack(torch.nn), [x])
    y = nn.Conv2d(2, 3, 3, padding=1)(dn.tensor(x.astype(np.float32)))
    assert y.numpy().swapaxes(0, 1).flags.c_contiguous  # the layout the pooling kernel takes without a copy
