"""Devices, as PyTorch names them: deepnotes computes with NumPy on the CPU and nowhere else.

`deepnotes.device("cpu")` is accepted wherever PyTorch takes a device (`Tensor.to`,
`Module.to`, factories' `device=`, `load(map_location=...)`), so the usual boilerplate

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

runs unchanged.  Asking for another device ("cuda", "mps", "xla", ...) raises
`NotImplementedError` saying so, instead of silently computing on the CPU.
"""
from __future__ import annotations


class device:  # noqa: N801 - PyTorch's name
    """A device: `device("cpu")`, `device("cuda", 0)`, `device("cuda:1")`; `.type` and `.index`.

    Building a device object for a device deepnotes lacks is allowed (PyTorch allows it too);
    moving a tensor or a module to it raises.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if isinstance(type, int):  # device(0) means the first accelerator in PyTorch
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        name, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device: the index is given twice ({type!r} and index={index})")
            if not number.isdigit():
                raise ValueError(f"device: invalid device string {type!r}")
            index = int(number)
        if not name.isidentifier():
            raise ValueError(f"device: invalid device string {type!r}")
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("device: a device is immutable")

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return device, (self.type, self.index)


cpu = device("cpu")


def check_device(value, where: str) -> device:
    """The device `value` names, if deepnotes can compute there (the CPU); raises otherwise."""
    if value is None:
        return cpu
    dev = value if isinstance(value, device) else device(value)
    if dev.type != "cpu":
        raise NotImplementedError(
            f"{where}: device {str(dev)!r} is not available: deepnotes computes with NumPy on the CPU only. "
            "Use device='cpu', or the usual `torch.device('cuda' if torch.cuda.is_available() else 'cpu')`, "
            "which picks the CPU here"
        )
    return dev
