"""Which axes each normalization layer reduces over (inventory N2): the one fact that tells BN, LN, IN and GN apart.

For an input of shape (N, C, *spatial), e.g. (N, C, H, W):

    kind        axes                        one statistic per       layer
    'batch'     (0, 2, 3)                   channel                 BatchNorm2d(C)
    'layer'     (1, 2, 3)                   example                 LayerNorm((C, H, W))
    'instance'  (2, 3)                      (example, channel)      InstanceNorm2d(C)
    'group'     (2, 3, 4) of the            (example, group)        GroupNorm(G, C)
                (N, G, C/G, H, W) view

'layer' here is Ba et al.'s definition (all of one example's features:
normalized_shape = input_shape[1:]).  A Transformer's LayerNorm(d_model) on
(N, T, d_model) input is the same rule applied with the last axis as "the
features": axes (2,), one statistic per token.

'group' is stated on the view with the channel axis split into (G, C/G),
because a group is not a set of whole axes of the original input: reshape x
to (N, G, C // G, *spatial), reduce over the returned axes, and reshape back.
The result does not depend on G; G only sets the view's shape.
"""
from __future__ import annotations

_KINDS = ("batch", "layer", "instance", "group")


def normalization_axes(kind, input_shape):
    """The axes a normalization of `kind` reduces over for an input of shape (N, C, *spatial).

    Args:
        kind: 'batch', 'layer', 'instance' or 'group'.
        input_shape: the input's shape, N and C first.

    Returns:
        A tuple of axes.  For 'group' they index the (N, G, C/G, *spatial)
        view, which has one axis more than the input.

    Example:
        >>> normalization_axes("batch", (32, 16, 8, 8))
        (0, 2, 3)
        >>> normalization_axes("group", (32, 16, 8, 8))   # of the (32, G, 16 // G, 8, 8) view
        (2, 3, 4)
    """
    ndim = len(tuple(input_shape))
    if kind not in _KINDS:
        raise ValueError(f"normalization_axes: kind must be one of {_KINDS}, got {kind!r}")
    if ndim < 2 or (kind == "instance" and ndim < 3):
        need = "(N, C, *spatial) with at least one spatial axis" if kind == "instance" else "(N, C, *)"
        raise ValueError(f"normalization_axes: {kind!r} needs an input {need}, got shape {tuple(input_shape)}")
    if kind == "batch":
        return (0,) + tuple(range(2, ndim))
    if kind == "layer":
        return tuple(range(1, ndim))
    if kind == "instance":
        return tuple(range(2, ndim))
    return tuple(range(2, ndim + 1))
