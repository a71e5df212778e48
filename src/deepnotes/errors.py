"""The errors deepnotes raises for a mistake in the caller's input, all in one place.

Each class subclasses the Python built-in that code already catches, so
`except ValueError` keeps working, and names the kind of mistake precisely.
Every message names the layer or function, the argument, the value received
and what was expected:

    Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)): expected input with 3 channels,
    shape (N, 3, H, W), got shape (4, 5, 32, 32)

| class                         | built-in it is                  | raised for                                  |
|-------------------------------|---------------------------------|---------------------------------------------|
| `ShapeError`                  | `ValueError`                    | shapes that do not fit (matmul, broadcast,  |
|                               |                                 | reshape, a layer's input, negative sizes)   |
| `DTypeError`                  | `TypeError`                     | a dtype the op refuses (strings, objects,   |
|                               |                                 | float32 @ float64, integer input to a layer)|
| `NonFiniteError`              | `FloatingPointError, ValueError`| NaN / Inf in the input of a checked layer   |
|                               |                                 | or loss; anomaly mode's NaN in a gradient   |
| `AnomalyError`                | `NonFiniteError, RuntimeError`  | anomaly mode: a NaN / inf gradient in backward |
| `IndexRangeError`             | `IndexError, ValueError`        | an index or a dim outside its range         |
| `EmptyInputError`             | `ValueError`                    | fit / evaluate / a metric on no data        |
| `UnsupportedError`            | `NotImplementedError,           | a PyTorch name deepnotes does not have      |
|                               | AttributeError`                 | (`deepnotes.unsupported`)                   |
| `train.checkpoint.CheckpointError` | `ValueError`               | a missing, damaged or foreign checkpoint    |

`NonFiniteError` is also a `ValueError` because `Linear` raised `ValueError`
for a NaN input before the class existed.  docs/reliability.md lists what
raises each one and what the checks cost.
"""
from __future__ import annotations


class ShapeError(ValueError):
    """A tensor's shape (or a size argument) is not what the op needs."""


class DTypeError(TypeError):
    """A tensor's dtype is not one the op accepts (or two dtypes the op will not mix)."""


class NonFiniteError(FloatingPointError, ValueError):
    """A NaN or an infinity where the op promises to refuse one."""


class AnomalyError(NonFiniteError, RuntimeError):
    """Anomaly mode (`dn.autograd.detect_anomaly()`): an op's gradient turned NaN or infinite in backward.

    Also a RuntimeError, the class PyTorch's anomaly mode raises."""


class IndexRangeError(IndexError, ValueError):
    """An index, a class label or a dim outside the range of the axis it addresses.

    Both an IndexError (as PyTorch raises) and a ValueError (as deepnotes raised for a class label
    out of range before this class existed), like NumPy's AxisError."""


class EmptyInputError(ValueError):
    """No data where some is needed: an empty loader in fit / evaluate, a metric of nothing."""


class UnsupportedError(NotImplementedError, AttributeError):
    """A PyTorch name deepnotes does not have (`deepnotes.unsupported`); the message says what to use.

    Also an AttributeError, so that `hasattr(t, "register_hook")` and `getattr(x, name, default)`, the
    probes other libraries make to recognise an object, still answer False and the default."""


__all__ = ["ShapeError", "DTypeError", "NonFiniteError", "AnomalyError", "IndexRangeError", "EmptyInputError",
           "UnsupportedError"]
