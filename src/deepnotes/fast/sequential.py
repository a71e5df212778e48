"""Fast path: `Sequential.forward` with a ReLU that rectifies its predecessor's output in place.

Within a Sequential, the output of a Linear or convolution goes to the next module alone. When
that module is a ReLU, rectifying the fresh array in place loses nothing and saves an
allocation and a pass over memory. The ReLU still saves the rectified array for backward; the
mask out > 0 is the same either way. Only the exact classes qualify (a subclass may return
something else), and never a module with hooks or a `forward` replaced on the instance: those
must run and see what they would see without the shortcut.
"""
from __future__ import annotations

from ..nn.layers.activation import ReLU
from ..nn.layers.conv import Conv1d, Conv2d
from ..nn.layers.linear import Linear
from ..ops.activation import ReLU as ReLUFunction
from . import register

# Layers whose output is a new array that nothing else keeps: their backward reads their
# inputs, never their output.
_PRIVATE_OUTPUT = (Linear, Conv1d, Conv2d)


def rectifies_in_place(previous, module):
    """Whether `module` is a plain ReLU that may overwrite the output of `previous`."""
    return (type(module) is ReLU and type(previous) in _PRIVATE_OUTPUT
            and not module.has_hooks and not previous.has_hooks
            and "forward" not in module.__dict__ and "forward" not in previous.__dict__)


@register("sequential_relu_in_place", replaces="deepnotes.nn.Sequential.forward")
def sequential_forward(modules, x):
    """Call `modules` in order, a ReLU right after a Linear/conv rectifying in place."""
    previous = None
    for m in modules:
        x = ReLUFunction.apply(x, overwrite=True) if rectifies_in_place(previous, m) else m(x)
        previous = m
    return x
