"""Model compression: pruning, quantization (fp16, int8, binary, ternary), distillation, sizes.

* `prune`    — ``torch.nn.utils.prune``'s model (``weight_orig`` + ``weight_mask`` + a forward
  pre-hook): magnitude, random, structured (L_n), global; gradual cubic schedule; sparsity report.
* `quantize` — observers, PyTorch's ``fake_quantize_per_tensor_affine`` / ``_per_channel_affine``
  (straight-through gradient), `FakeQuantize`.
* `qmodel`   — BatchNorm folding, post-training quantization, quantization-aware training.
* `int8`     — the same model in integers (int8 weights, uint8 activations, int32 accumulation,
  fixed-point requantization).
* `half`     — float16 ranges, mixed-precision training with dynamic loss scaling.
* `lowbit`   — BinaryConnect, BWN/XNOR scaling, TWN ternary weights.
* `distill`  — Hinton et al.'s distillation loss and a training helper.
* `size`     — bytes per storage format.
"""
from . import distill, half, int8, lowbit, prune, qmodel, quantize, size
from .distill import distillation_loss
from .int8 import convert_int8
from .qmodel import calibrate, fold_batchnorm, freeze, prepare, prepare_qat, quantize_ptq
from .quantize import fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine
from .size import model_size, size_report

__all__ = ["prune", "quantize", "qmodel", "int8", "half", "lowbit", "distill", "size", "distillation_loss",
           "convert_int8", "calibrate", "fold_batchnorm", "freeze", "prepare", "prepare_qat", "quantize_ptq",
           "fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine", "model_size", "size_report"]
