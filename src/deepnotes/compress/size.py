"""How many bytes a model takes in each storage format.

Per weight tensor with n entries and C output channels (biases and other parameters stay float32,
4 bytes each, in every format except fp16, where everything is 2 bytes):

=============  ===============================================================================
fp32           4 n
fp16           2 n
int8           n + 8 C: one byte per weight, a float32 scale and an int32 zero point per channel
int8 (tensor)  n + 8: one scale and one zero point for the tensor
binary         ceil(n / 8) + 4 C (one bit per weight, alpha per output channel)
ternary        ceil(2 n / 8) + 4 (two bits per weight, one alpha per layer)
sparse (CSR)   8 nnz + 4 (R + 1): a float32 value and an int32 column index per kept weight, and
               row pointers over the R = C rows of the weight seen as (C, n / C)
=============  ===============================================================================

A sparse format only pays off above 50% sparsity (8 bytes per kept weight against 4 per dense one).
"""
from __future__ import annotations

import math

import numpy as np

from ..nn.module import Module

__all__ = ["FORMATS", "tensor_bytes", "model_size", "size_report"]

FORMATS = ("fp32", "fp16", "int8", "int8_per_tensor", "binary", "ternary", "sparse_csr")


def tensor_bytes(weight, fmt: str) -> int:
    """Bytes of one weight array (output channels on axis 0) stored in ``fmt``."""
    w = np.asarray(weight)
    n, c = w.size, (w.shape[0] if w.ndim else 1)
    if fmt == "fp32":
        return 4 * n
    if fmt == "fp16":
        return 2 * n
    if fmt == "int8":
        return n + 8 * c
    if fmt == "int8_per_tensor":
        return n + 8
    if fmt == "binary":
        return math.ceil(n / 8) + 4 * c
    if fmt == "ternary":
        return math.ceil(2 * n / 8) + 4
    if fmt == "sparse_csr":
        return 8 * int(np.count_nonzero(w)) + 4 * (c + 1)
    raise ValueError(f"tensor_bytes: format must be one of {FORMATS}, got {fmt!r}")


def _weights(model):
    """(name, effective weight array, is_weight) for every parameter (pruned ones as orig * mask)."""
    for mod_name, m in model.named_modules():
        for name, p in m._parameters.items():
            if p is None:
                continue
            base = name[:-len("_orig")] if name.endswith("_orig") else name
            data = p._data * m._buffers[base + "_mask"]._data if base + "_mask" in m._buffers else p._data
            yield (f"{mod_name}.{base}" if mod_name else base), data, base == "weight" and data.ndim >= 2


def model_size(model: Module, fmt: str = "fp32") -> int:
    """Total bytes of ``model``: weight matrices/kernels in ``fmt``, other parameters float32 (fp16: 2 bytes)."""
    if fmt not in FORMATS:
        raise ValueError(f"model_size: format must be one of {FORMATS}, got {fmt!r}")
    total = 0
    for _, data, is_weight in _weights(model):
        total += tensor_bytes(data, fmt) if is_weight else (2 if fmt == "fp16" else 4) * data.size
    return int(total)


def size_report(model: Module) -> dict:
    """{format: bytes} for every format, and the compression ratio against fp32."""
    sizes = {fmt: model_size(model, fmt) for fmt in FORMATS}
    return {fmt: {"bytes": b, "ratio": sizes["fp32"] / b} for fmt, b in sizes.items()}
