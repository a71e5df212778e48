"""The reference workloads W1-W5, built identically in deepnotes and in PyTorch.

Each `build(framework, name, scale)` returns (model, inputs, targets, flops) where
`flops` is the forward pass's multiply-add count x 2 (a training step is counted
as 3x the forward: forward, input-gradient and weight-gradient GEMMs).
`scale` < 1 shrinks batch and sizes for `--quick`.
"""
from __future__ import annotations

import numpy as np

WORKLOADS = {
    "W1": "MLP 784-512-512-10, ReLU, batch 128",
    "W2": "CNN conv32-pool-conv64-pool-fc128-fc10 on 1x28x28, batch 64",
    "W3": "LSTM input 32, hidden 128, length 50, batch 32, last state -> Linear(128,10)",
    "W4": "Transformer encoder d=128, 4 heads, ff 512, 2 layers, length 64, batch 32",
    "W5": "W2 with BatchNorm2d after each conv and Dropout(0.5) before the last Linear",
}


def dims(name, scale, batch=None):
    quick = scale < 1
    if name == "W1":
        return dict(batch=batch or (32 if quick else 128), width=128 if quick else 512)
    if name in ("W2", "W5"):
        return dict(batch=batch or (8 if quick else 64), side=28, c1=8 if quick else 32, c2=16 if quick else 64)
    if name == "W3":
        return dict(batch=batch or (8 if quick else 32), length=10 if quick else 50, hidden=32 if quick else 128)
    if name == "W4":
        return dict(batch=batch or (4 if quick else 32), length=16 if quick else 64, d=32 if quick else 128,
                    ff=64 if quick else 512)
    raise ValueError(f"bench: unknown workload {name!r}; known: {', '.join(WORKLOADS)}")


def flops(name, d):
    """Forward FLOPs (2 x multiply-adds) of one batch."""
    b = d["batch"]
    if name == "W1":
        w = d["width"]
        return 2 * b * (784 * w + w * w + w * 10)
    if name in ("W2", "W5"):
        s, c1, c2 = d["side"], d["c1"], d["c2"]
        conv1 = s * s * c1 * 1 * 9
        conv2 = (s // 2) ** 2 * c2 * c1 * 9
        fc = (s // 4) ** 2 * c2 * 128 + 128 * 10
        return 2 * b * (conv1 + conv2 + fc)
    if name == "W3":
        h = d["hidden"]
        return 2 * b * (d["length"] * 4 * h * (32 + h) + h * 10)
    if name == "W4":
        L, dm, ff = d["length"], d["d"], d["ff"]
        per_layer = L * (4 * dm * dm + 2 * dm * ff) + 2 * L * L * dm
        return 2 * b * (2 * per_layer + dm * 10)
    raise ValueError(name)


def build(framework, name, scale=1.0, batch=None, width=None, seed=0):
    """Model, input array, target array and forward FLOPs for one workload."""
    d = dims(name, scale, batch)
    if width is not None and name == "W1":
        d["width"] = width
    rng = np.random.default_rng(seed)
    if name == "W1":
        x = rng.standard_normal((d["batch"], 784)).astype(np.float32)
    elif name in ("W2", "W5"):
        x = rng.standard_normal((d["batch"], 1, d["side"], d["side"])).astype(np.float32)
    elif name == "W3":
        x = rng.standard_normal((d["batch"], d["length"], 32)).astype(np.float32)
    else:
        x = rng.standard_normal((d["batch"], d["length"], d["d"])).astype(np.float32)
    y = rng.integers(0, 10, size=d["batch"]).astype(np.int64)
    if framework == "deepnotes":
        import deepnotes.nn as nn
    else:
        import torch.nn as nn
    model = _model(nn, framework, name, d)
    return model, x, y, flops(name, d)


def _model(nn, framework, name, d):
    if name == "W1":
        w = d["width"]
        return nn.Sequential(nn.Linear(784, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 10))
    if name in ("W2", "W5"):
        c1, c2, bn = d["c1"], d["c2"], name == "W5"
        layers = [nn.Conv2d(1, c1, 3, padding=1)] + ([nn.BatchNorm2d(c1)] if bn else []) + [nn.ReLU(), nn.MaxPool2d(2)]
        layers += [nn.Conv2d(c1, c2, 3, padding=1)] + ([nn.BatchNorm2d(c2)] if bn else []) + [nn.ReLU(), nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(c2 * 49, 128), nn.ReLU()]
        layers += ([nn.Dropout(0.5)] if bn else []) + [nn.Linear(128, 10)]
        return nn.Sequential(*layers)
    if name == "W3":
        return _SequenceHead(nn, nn.LSTM(32, d["hidden"], batch_first=True), d["hidden"], "last")
    encoder_layer = nn.TransformerEncoderLayer(d["d"], 4, dim_feedforward=d["ff"], dropout=0.0, batch_first=True)
    return _SequenceHead(nn, nn.TransformerEncoder(encoder_layer, 2), d["d"], "mean")


def _SequenceHead(nn, body, width, pool):
    """body -> pool over time (last state or mean) -> Linear(width, 10), for either framework."""

    class SequenceHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = body
            self.head = nn.Linear(width, 10)

        def forward(self, x):
            out = self.body(x)
            if pool == "last":
                return self.head(out[1][0][-1])  # LSTM: (output, (h_n, c_n)); h_n[-1] is the last layer
            return self.head(out.mean(1))

    return SequenceHead()
