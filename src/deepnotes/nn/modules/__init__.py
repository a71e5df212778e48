"""`deepnotes.nn.modules.<family>`, laid out as `torch.nn.modules`, so a qualified name such as
`torch.nn.modules.rnn.LSTM` or `torch.nn.modules.linear.Linear` keeps working after
`import deepnotes as torch`.  The classes are the same objects as `deepnotes.nn.<Class>`; each
family is a small module registered here (no code of its own)."""
from __future__ import annotations

import sys
from types import ModuleType

from .. import containers, module as _module
from ..layers import (
    activation, attention, conv, dropout, embedding, linear, loss, more_activations, normalization, pooling,
    recurrent, transformer_decoder,
)

# PyTorch's family module -> (deepnotes module, the class names it holds)
FAMILIES = {
    "module": (_module, ["Module"]),
    "linear": (linear, ["Linear"]),
    "container": (containers, ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]),
    "flatten": (containers, ["Flatten", "Unflatten"]),
    "activation": (activation, ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "PReLU", "ReLU", "Sigmoid", "Softmax",
                                "Tanh"]),
    "conv": (conv, ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]),
    "pooling": (pooling, ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
                          "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d"]),
    "upsampling": (pooling, ["Upsample"]),
    "dropout": (dropout, ["AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "FeatureAlphaDropout"]),
    "batchnorm": (normalization, ["BatchNorm1d", "BatchNorm2d"]),
    "instancenorm": (normalization, ["InstanceNorm1d", "InstanceNorm2d"]),
    "normalization": (normalization, ["GroupNorm", "LayerNorm"]),
    "rnn": (recurrent, ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell"]),
    "sparse": (embedding, ["Embedding", "EmbeddingBag"]),
    "activation_attention": (attention, ["MultiheadAttention"]),
    "transformer": (transformer_decoder, ["Transformer", "TransformerDecoder", "TransformerDecoderLayer",
                                          "TransformerEncoder", "TransformerEncoderLayer"]),
    "loss": (loss, ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss",
                    "MSELoss", "NLLLoss", "SmoothL1Loss"]),
}
FAMILIES["activation"][1].append("MultiheadAttention")  # torch.nn.modules.activation.MultiheadAttention
del FAMILIES["activation_attention"]
FAMILIES["activation_more"] = (more_activations, ["Hardtanh", "LogSigmoid", "Mish", "ReLU6", "SiLU", "Softplus",
                                                  "Softsign"])


def _register():
    more = FAMILIES.pop("activation_more")  # these live in torch.nn.modules.activation too
    for name in more[1]:
        FAMILIES["activation"][1].append(name)
    for family, (source, names) in FAMILIES.items():
        mod = ModuleType(f"{__name__}.{family}", f"torch.nn.modules.{family}'s names in deepnotes")
        for name in names:
            home = next(m for m in (source, attention, more_activations) if hasattr(m, name))
            setattr(mod, name, getattr(home, name))
        sys.modules[mod.__name__] = mod
        globals()[family] = mod


_register()
