"""Small reference models used by the CLI, the demo and the experiments."""
from __future__ import annotations

from . import nn


class MLP(nn.Module):
    """A multilayer perceptron: Linear -> activation [-> Dropout] repeated, then a Linear head.

    Args:
        in_features: size of the flattened input.
        hidden: sizes of the hidden layers, e.g. (128, 128).
        out_features: number of classes (logits) or regression targets.
        activation: name of an activation module in `deepnotes.nn` ("ReLU", "Tanh", ...).
        dropout: drop probability after each hidden activation (0 = none).

    Shapes: x (N, *) is flattened to (N, in_features); output (N, out_features), the logits z = W a + b.
    """

    def __init__(self, in_features, hidden=(128, 128), out_features=10, activation="ReLU", dropout=0.0):
        super().__init__()
        layers, width = [], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), getattr(nn, activation)()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.flatten = nn.Flatten()
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(self.flatten(x))


def build_model(name, input_shape, num_classes, hidden=(128, 128), dropout=0.0):
    """Build a model by name for data of `input_shape` (one sample's shape)."""
    size = 1
    for n in input_shape:
        size *= n
    if name == "mlp":
        return MLP(size, hidden, num_classes, dropout=dropout)
    raise ValueError(f"build_model: unknown model {name!r}; known: 'mlp'")
