"""Objectives to tune: the classic Bayesian-optimization test functions, and training a model.

They live in a module (not in a test or a script) so worker processes and Ray workers can
import them by name: whatever `deepnotes.tune.run` sends to another process must be picklable.

* ``branin(config)``  on x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at three points
  (-pi, 12.275), (pi, 2.275), (9.42478, 2.475) (Dixon & Szegö 1978).
* ``hartmann6(config)`` on [0, 1]^6; minimum -3.32237 (Dixon & Szegö 1978).
* ``branin_at_fidelity(config, resource)``: Branin plus a ripple that fades as 1/resource -- a
  stand-in for a learning curve, for successive halving, Hyperband and ASHA.
* ``TrainObjective(model, dataset, epochs)``: train with the config's ``lr`` and
  ``weight_decay`` (AdamW) on a training split and return the validation accuracy (maximize).
"""
from __future__ import annotations

import math

import numpy as np

BRANIN_MIN = 0.397887357729739
BRANIN_ARGMINS = ((-math.pi, 12.275), (math.pi, 2.275), (9.42477796, 2.475))
HARTMANN6_MIN = -3.322368011391339

_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                 [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]], dtype=np.float64)
_H_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])


def branin_space():
    from .space import uniform

    return {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0)}


def branin(config):
    """Branin-Hoo: (x2 - 5.1/(4 pi^2) x1^2 + 5/pi x1 - 6)^2 + 10 (1 - 1/(8 pi)) cos(x1) + 10."""
    x1, x2 = float(config["x1"]), float(config["x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def branin_at_fidelity(config, resource):
    """branin(config) + 20 / resource * cos(3 x1) cos(3 x2): early values rank configs roughly, late ones exactly."""
    x1, x2 = float(config["x1"]), float(config["x2"])
    return branin(config) + 20.0 / float(resource) * math.cos(3 * x1) * math.cos(3 * x2)


def hartmann6_space():
    from .space import uniform

    return {f"x{i}": uniform(0.0, 1.0) for i in range(6)}


def hartmann6(config):
    """Hartmann-6: -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)."""
    x = np.array([float(config[f"x{i}"]) for i in range(6)])
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(_H_A * (x - _H_P) ** 2, axis=1))))


_DATA = {}


def train_val_split(dataset, val_fraction=0.2, seed=0):
    """(x_train, y_train, x_val, y_val) from a data set's training split (its test split stays unseen)."""
    key = (dataset, val_fraction, seed)
    if key not in _DATA:
        from deepnotes import data

        split = data.get_dataset(dataset)
        order = np.random.default_rng(seed).permutation(len(split.x_train))
        n_val = int(round(val_fraction * len(order)))
        val, train = order[:n_val], order[n_val:]
        x, y = split.x_train.astype(np.float32), split.y_train
        _DATA[key] = (x[train], y[train], x[val], y[val])
    return _DATA[key]


class TrainObjective:
    """Validation accuracy of a model trained with the config's hyperparameters (to maximize).

    Config keys: ``lr`` (default 3e-3), ``weight_decay`` (0), ``batch_size`` (64), ``width``
    (the hidden width, 128), ``depth`` (hidden layers, 1). The model is built after
    ``dn.manual_seed(seed)`` and the batches come from ``default_rng(seed)``: two trials
    with the same config give the same number.
    """

    def __init__(self, model="mlp", dataset="digits", epochs=10, seed=0):
        if int(epochs) < 1:
            raise ValueError(f"TrainObjective: epochs must be >= 1, got {epochs}")
        self.model, self.dataset, self.epochs, self.seed = model, dataset, int(epochs), seed

    def __call__(self, config, epochs=None):
        import deepnotes as dn
        import deepnotes.nn as nn
        from deepnotes import optim
        from deepnotes.models import build_model

        x, y, xv, yv = train_val_split(self.dataset, seed=self.seed)
        dn.manual_seed(self.seed)
        hidden = (int(config.get("width", 128)),) * int(config.get("depth", 1))
        net = build_model(self.model, x.shape[1:], int(y.max()) + 1, hidden=hidden)
        opt = optim.AdamW(net.parameters(), lr=float(config.get("lr", 3e-3)),
                          weight_decay=float(config.get("weight_decay", 0.0)))
        loss_fn, rng, bs = nn.CrossEntropyLoss(), np.random.default_rng(self.seed), int(config.get("batch_size", 64))
        for _ in range(self.epochs if epochs is None else int(epochs)):
            order = rng.permutation(len(x))
            for i in range(0, len(x), bs):
                idx = order[i:i + bs]
                opt.zero_grad()
                with np.errstate(all="ignore"):
                    loss_fn(net(dn.tensor(x[idx])), dn.tensor(y[idx])).backward()
                opt.step()
        with dn.no_grad():
            pred = net(dn.tensor(xv)).numpy().argmax(1)
        return float(np.mean(pred == yv))
