"""Convolution layers against PyTorch: Conv1d/2d, ConvTranspose1d/2d, and their defining properties."""
import itertools
import math

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from tests.oracle import assert_close, check_fn, check_module, random_inputs

# --------------------------------------------------------------------------- Conv2d grid
# stride x padding x dilation x groups, with kernels, sizes and batch sizes varied along
# the grid: odd and even kernels (even 'same' pads asymmetrically), non-square kernels,
# odd spatial sizes, batch size 1.  Stride 2 with 'same' is invalid and left out.
KERNELS = [(3, 3), (2, 2), (3, 2), (4, 3), (1, 3)]
GROUPS = {"g1": 1, "g2": 2, "depthwise": "dw"}
CONV2D_GRID = [
    (stride, padding, dilation, groups)
    for stride, padding, dilation, groups in itertools.product((1, 2), (0, 1, "same"), (1, 2), GROUPS)
    if not (stride == 2 and padding == "same")
]


@pytest.mark.covers("C1", "C6")
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", range(len(CONV2D_GRID)))
def test_conv2d_matches_torch(case):
    stride, padding, dilation, group_name = CONV2D_GRID[case]
    kernel = KERNELS[case % len(KERNELS)]
    in_channels = 4
    groups = in_channels if GROUPS[group_name] == "dw" else GROUPS[group_name]
    out_channels = 2 * groups if groups > 1 else 3
    batch, height, width = 1 + case % 2, 7 + case % 3, 9 - case % 2
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=case % 4 != 3)
    layer = nn.Conv2d(in_channels, out_channels, kernel, **kwargs)
    reference = torch.nn.Conv2d(in_channels, out_channels, kernel, **kwargs)
    check_module(layer, reference, random_inputs([(batch, in_channels, height, width)], seed=case))


@pytest.mark.covers("C1", "C6")
@pytest.mark.parametrize(
    "stride, padding, dilation, groups, kernel, length",
    [(1, 0, 1, 1, 3, 9), (2, 1, 1, 2, 3, 10), (3, 2, 2, 1, 3, 11), (1, "same", 2, 2, 4, 7),
     (1, "same", 1, 4, 3, 8), (2, 0, 3, 1, 2, 9), (1, "valid", 1, 1, 5, 5), (4, 3, 1, 2, 5, 13)],
)
def test_conv1d_matches_torch(stride, padding, dilation, groups, kernel, length):
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    layer, reference = nn.Conv1d(4, 2 * groups, kernel, **kwargs), torch.nn.Conv1d(4, 2 * groups, kernel, **kwargs)
    check_module(layer, reference, random_inputs([(2, 4, length)], seed=length))


@pytest.mark.covers("C1")
@pytest.mark.parametrize("mode, padding", [("reflect", 1), ("replicate", (2, 1)), ("circular", "same")])
def test_conv2d_padding_modes_match_torch(mode, padding):
    kwargs = dict(padding=padding, padding_mode=mode)
    layer, reference = nn.Conv2d(3, 4, (3, 4), **kwargs), torch.nn.Conv2d(3, 4, (3, 4), **kwargs)
    check_module(layer, reference, random_inputs([(2, 3, 6, 7)]))


@pytest.mark.covers("C1")
def test_conv_unbatched_input_and_functional_without_bias():
    layer, reference = nn.Conv2d(3, 4, 3, padding=1), torch.nn.Conv2d(3, 4, 3, padding=1)
    check_module(layer, reference, random_inputs([(3, 5, 6)]))
    x, w = random_inputs([(2, 3, 8, 7), (5, 3, 2, 3)], seed=1)
    check_fn(lambda a, b: F.conv2d(a, b, stride=(2, 1), dilation=(1, 2)),
             lambda a, b: torch.nn.functional.conv2d(a, b, stride=(2, 1), dilation=(1, 2)), [x, w])
    x, w, b = random_inputs([(2, 4, 9), (6, 2, 3), (6,)], seed=2)
    check_fn(lambda *t: F.conv1d(*t, padding=1, groups=2),
             lambda *t: torch.nn.functional.conv1d(*t, padding=1, groups=2), [x, w, b])


# ----------------------------------------------------------------- transposed convolution
TRANSPOSED_GRID = [  # stride, padding, output_padding, dilation, groups, kernel
    (1, 0, 0, 1, 1, 3), (2, 0, 0, 1, 1, 3), (2, 1, 1, 1, 1, 3), (2, 1, 1, 2, 2, (3, 2)),
    (3, 2, (2, 1), 1, 1, 4), (1, 1, 1, 2, 1, 3), ((2, 1), (1, 0), (1, 0), 1, 4, 2), (2, 0, 0, 1, 2, 4),
]


@pytest.mark.covers("C5")
@pytest.mark.parametrize("case", range(len(TRANSPOSED_GRID)))
def test_conv_transpose2d_matches_torch(case):
    stride, padding, output_padding, dilation, groups, kernel = TRANSPOSED_GRID[case]
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation,
                  groups=groups, bias=case != 2)
    layer = nn.ConvTranspose2d(4, 2 * groups, kernel, **kwargs)
    reference = torch.nn.ConvTranspose2d(4, 2 * groups, kernel, **kwargs)
    check_module(layer, reference, random_inputs([(1 + case % 2, 4, 4 + case % 2, 5)], seed=case))


@pytest.mark.covers("C5")
@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 1, 2), (3, 1, 2, 2, 1), (2, 2, 0, 3, 4)])
def test_conv_transpose1d_matches_torch(stride, padding, output_padding, dilation, groups):
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups)
    layer, reference = nn.ConvTranspose1d(4, groups, 3, **kwargs), torch.nn.ConvTranspose1d(4, groups, 3, **kwargs)
    check_module(layer, reference, random_inputs([(2, 4, 6)]))


@pytest.mark.covers("C5")
def test_conv_transpose_output_size_argument_matches_torch():
    kw = dict(stride=2, padding=1)
    layer, reference = nn.ConvTranspose2d(3, 2, 3, **kw), torch.nn.ConvTranspose2d(3, 2, 3, **kw)
    out = check_module(layer, reference, random_inputs([(2, 3, 4, 5)]), call=lambda m, x: m(x, output_size=[8, 9]))
    assert out[0].shape == (2, 2, 8, 9)
    with pytest.raises(ValueError, match="output_size"):
        layer(dn.zeros(2, 3, 4, 5, dtype=np.float64), output_size=(10, 9))


@pytest.mark.covers("C5")
@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 1, 1), (2, 2, 2, 2), (3, 1, 2, 1)])
def test_conv_transpose_is_the_adjoint_of_conv(stride, padding, dilation, groups):
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)> for random x, y (claim K31)."""
    x, w = random_inputs([(2, 4, 9, 8), (6, 4 // groups, 3, 3)], seed=stride + padding)
    cx = F.conv2d(dn.tensor(x), dn.tensor(w), stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = np.random.default_rng(1).standard_normal(cx.shape)
    smallest = [(p - 1) * stride - 2 * padding + dilation * 2 + 1 for p in cx.shape[2:]]
    extra = tuple(s - m for s, m in zip(x.shape[2:], smallest))  # output_padding that restores x's size
    cty = F.conv_transpose2d(dn.tensor(y), dn.tensor(w), stride=stride, padding=padding, output_padding=extra,
                             groups=groups, dilation=dilation)
    assert cty.shape == x.shape
    np.testing.assert_allclose(np.sum(cx.numpy() * y), np.sum(x * cty.numpy()), rtol=1e-12)


def _matrix_of(linear_map, shape):
    """The matrix of a linear map on arrays of `shape`, one column per basis vector."""
    columns = []
    for i in range(math.prod(shape)):
        basis = np.zeros(math.prod(shape))
        basis[i] = 1.0
        columns.append(linear_map(basis.reshape(shape)).ravel())
    return np.stack(columns, axis=1)


@pytest.mark.covers("C5")
def test_conv_transpose_multiplies_by_the_transposed_matrix_and_does_not_invert():
    w = dn.tensor(random_inputs([(1, 1, 3, 3)], seed=3)[0])
    conv = _matrix_of(lambda a: F.conv2d(dn.tensor(a), w, stride=2, padding=1).numpy(), (1, 1, 5, 5))   # (9, 25)
    transposed = _matrix_of(lambda a: F.conv_transpose2d(dn.tensor(a), w, stride=2, padding=1).numpy(), (1, 1, 3, 3))
    np.testing.assert_allclose(transposed, conv.T, atol=1e-12)
    # C^T C is not the identity: transposed convolution upsamples, it does not undo the convolution.
    x = random_inputs([(1, 1, 5, 5)], seed=4)[0]
    roundtrip = F.conv_transpose2d(F.conv2d(dn.tensor(x), w, stride=2, padding=1), w, stride=2, padding=1)
    assert roundtrip.shape == x.shape
    assert np.abs(roundtrip.numpy() - x).max() > 0.1
    assert np.linalg.matrix_rank(conv.T @ conv) <= 9 < 25


@pytest.mark.covers("C3")
def test_1x1_convolution_is_a_linear_layer_applied_at_every_pixel():
    conv, linear = nn.Conv2d(5, 3, 1).double(), nn.Linear(5, 3).double()
    linear.weight.data[...] = conv.weight.numpy()[:, :, 0, 0]
    linear.bias.data[...] = conv.bias.numpy()
    x = dn.tensor(random_inputs([(2, 5, 4, 3)])[0])
    per_pixel = linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    assert_close(conv(x), per_pixel.numpy(), "1x1 conv vs per-pixel Linear")
    assert nn.utils.count_parameters(conv) == 5 * 3 + 3


@pytest.mark.covers("E6", "C1")
def test_two_convolutions_without_activation_are_one_convolution():
    """conv(conv(x)) with no nonlinearity is one convolution with a (k1 + k2 - 1) kernel:
    W[o, i, c] = sum_m sum_{a + b = c} W2[o, m, b] W1[m, i, a], b = b2 + sum W2 b1."""
    first, second = nn.Conv2d(2, 4, 3).double(), nn.Conv2d(4, 3, 2).double()
    w1, b1, w2, b2 = first.weight.numpy(), first.bias.numpy(), second.weight.numpy(), second.bias.numpy()
    merged_w = np.zeros((3, 2, 4, 4))
    for u, v in itertools.product(range(2), range(2)):  # kernel offsets of the second conv
        merged_w[:, :, u:u + 3, v:v + 3] += np.einsum("om,mihw->oihw", w2[:, :, u, v], w1)
    merged_b = b2 + np.einsum("omhw,m->o", w2, b1)
    x = dn.tensor(random_inputs([(2, 2, 7, 6)])[0])
    assert_close(second(first(x)), F.conv2d(x, dn.tensor(merged_w), dn.tensor(merged_b)).numpy(), "merged conv")


# ------------------------------------------------------------------ init, dtype, repr, errors
@pytest.mark.covers("C1")
@pytest.mark.parametrize("layer", [nn.Conv2d(8, 16, 3, groups=2), nn.ConvTranspose2d(8, 12, (3, 2), groups=4),
                                   nn.Conv1d(6, 4, 5)], ids=["conv2d", "transposed", "conv1d"])
def test_default_init_is_pytorch_uniform_bound(layer):
    """W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel)."""
    w = layer.weight.numpy()
    bound = 1 / math.sqrt(w.shape[1] * math.prod(w.shape[2:]))
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.2 * bound  # U(-b, b) has std b / sqrt 3
    many_biases = type(layer)(2 * layer.groups, 512, 1, groups=layer.groups).bias.numpy()  # fan_in = 2 (or 512/groups)
    fan_in = (2 if isinstance(layer, nn.Conv2d | nn.Conv1d) else 512 // layer.groups)
    assert 0.95 / math.sqrt(fan_in) < np.abs(many_biases).max() <= 1 / math.sqrt(fan_in)
    dn.manual_seed(7)
    first = type(layer)(layer.in_channels, layer.out_channels, layer.kernel_size, groups=layer.groups).weight.numpy()
    dn.manual_seed(7)
    again = type(layer)(layer.in_channels, layer.out_channels, layer.kernel_size, groups=layer.groups).weight.numpy()
    np.testing.assert_array_equal(first, again)


@pytest.mark.covers("C1")
def test_float32_stays_float32():
    layer = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    x = dn.randn(2, 3, 7, 7, requires_grad=True)
    y = nn.ConvTranspose2d(4, 2, 3, stride=2)(layer(x))
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.numpy().dtype == np.float32 and layer.weight.grad.numpy().dtype == np.float32


@pytest.mark.covers("C1")
@pytest.mark.parametrize("args, kwargs", [
    ((3, 6, 3), {}),
    ((3, 6, 3), dict(padding="same", groups=3, bias=False, padding_mode="reflect")),
    ((2, 4, (3, 5)), dict(stride=2, padding=(1, 2), dilation=(2, 1))),
])
def test_repr_matches_torch(args, kwargs):
    assert repr(nn.Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))
    transposed = dict(stride=2, output_padding=1)
    assert repr(nn.ConvTranspose2d(*args, **transposed)) == repr(torch.nn.ConvTranspose2d(*args, **transposed))


@pytest.mark.covers("C1")
def test_bad_input_raises_naming_the_layer_and_shapes():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*3 channels.*\(2, 4, 9, 9\)"):
        layer(dn.zeros(2, 4, 9, 9))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*\(2, 3, 2, 9\).*smaller than the kernel"):
        layer(dn.zeros(2, 3, 2, 9))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*4-d input \(N, C, H, W\).*\(3, 9\)"):
        layer(dn.zeros(3, 9))
    with pytest.raises(ValueError, match=r"ConvTranspose1d\(4, 2.*4 channels"):
        nn.ConvTranspose1d(4, 2, 3)(dn.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(3, 8, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(TypeError, match=r"Conv2d\(3, 8.*float64.*float32"):
        layer(dn.zeros(1, 3, 5, 5, dtype=np.float64))
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=2)(dn.zeros(1, 3, 4, 4))


@pytest.mark.covers("C1")
@pytest.mark.parametrize("groups", [1, 2])
def test_backward_twice_with_retain_graph_matches_torch(groups):
    # The last backward reuses the saved columns for W^T g; a retained graph must keep them intact.
    x, w = random_inputs([(2, 4, 6, 7), (6, 4 // groups, 3, 3)], seed=groups)
    ours = [dn.tensor(a, requires_grad=True) for a in (x, w)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w)]
    y = F.conv2d(*ours, padding=1, groups=groups)
    ty = torch.nn.functional.conv2d(*theirs, padding=1, groups=groups)
    for call in range(3):  # retained twice, then the last backward frees the graph
        if call < 2:
            y.sum().backward(retain_graph=True)
            ty.sum().backward(retain_graph=True)
        else:
            (y * y).sum().backward()
            (ty * ty).sum().backward()
        for name, a, b in zip(("x.grad", "weight.grad"), ours, theirs):
            assert_close(a.grad, b.grad, f"backward {call + 1}: {name}")


@pytest.mark.covers("C1")
def test_last_backward_keeps_one_columns_sized_array_alive():
    # The columns (C k^2 x N P) are the layer's largest array: on the graph's last backward W^T g
    # is written over them, so backward's peak stays well under a second copy.
    import tracemalloc

    layer = nn.Conv2d(16, 16, 3, padding=1)
    x = dn.randn(8, 16, 32, 32, requires_grad=True)
    loss = layer(x).sum()
    columns = 16 * 9 * 8 * 32 * 32 * 4
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * columns, f"backward allocated {peak / 1e6:.1f} MB; the columns are {columns / 1e6:.1f} MB"
