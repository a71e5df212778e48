"""`deepnotes.onnx`: importable so scripts that mention it load; exporting is not supported.

deepnotes models are NumPy code run eagerly, with no traced graph of ATen operators to
translate into ONNX.  To move a model elsewhere, save its `state_dict()` with `deepnotes.save`
and load it into the same architecture written in PyTorch (the keys and shapes match), then
export from there with `torch.onnx.export`.
"""
from __future__ import annotations


def export(model, args=(), f=None, *pargs, kwargs=None, **options):
    raise NotImplementedError(
        "deepnotes.onnx.export: ONNX export is not supported (deepnotes runs models eagerly on NumPy and "
        "records no exportable graph). Save model.state_dict() with deepnotes.save, load it into the same "
        "architecture in PyTorch (the keys match) and call torch.onnx.export there"
    )


def is_in_onnx_export() -> bool:
    return False
