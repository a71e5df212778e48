"""Autoencoders -- dense, convolutional, denoising -- and greedy layer-wise pre-training with them.

* `DenseAutoencoder` / `ConvAutoencoder`: x -> code z (a bottleneck) -> x_hat, trained to
  reconstruct x; with ``noise > 0`` in `train_autoencoder` it is a denoising autoencoder
  (Vincent et al. 2008): it reconstructs the clean x from a corrupted copy.
* `greedy_pretrain` (Hinton, Osindero & Teh 2006; Bengio et al. 2007): train each layer as the
  encoder of a one-layer autoencoder on the codes of the layers below, then stack and
  fine-tune (`deep_classifier`, `pretraining_experiment`). With sigmoid units and few labels
  this was how deep nets were first trained at all; with ReLU and a scaled initialization
  (Glorot & Bengio 2010, He et al. 2015) the advantage shrinks.

Shapes: dense models take x (N, D); `ConvAutoencoder` takes (N, 1, 8, 8) (digits).
"""
from __future__ import annotations

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import optim


def _mlp(sizes, activation, last_activation=False):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(getattr(nn, activation)())
    return nn.Sequential(*layers)


class DenseAutoencoder(nn.Module):
    """in_features -> hidden... -> latent -> ...hidden -> in_features; the output is logits (or values)."""

    def __init__(self, in_features, hidden=(32,), latent=8, activation="ReLU"):
        super().__init__()
        if latent < 1 or in_features < 1:
            raise ValueError(f"DenseAutoencoder: in_features and latent must be >= 1, got {in_features}, {latent}")
        sizes = [in_features, *hidden, latent]
        self.encoder = _mlp(sizes, activation)
        self.decoder = _mlp(sizes[::-1], activation)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class ConvAutoencoder(nn.Module):
    """(N, 1, 8, 8) -> conv stride 2 (8, 4, 4) -> conv stride 2 (16, 2, 2) -> transposed convs back; logits."""

    def __init__(self, channels=(8, 16)):
        super().__init__()
        c1, c2 = channels
        self.encoder = nn.Sequential(nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = nn.Sequential(nn.ConvTranspose2d(c2, c1, 2, stride=2), nn.ReLU(),
                                     nn.ConvTranspose2d(c1, 1, 2, stride=2))

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def reconstruction_loss(output, x, likelihood="bernoulli"):
    """Mean over samples of the summed per-pixel loss: BCE with logits (x in [0, 1]) or squared error."""
    if likelihood == "bernoulli":
        per = F.binary_cross_entropy_with_logits(output, x, reduction="none")
    elif likelihood == "gaussian":
        per = (output - x) ** 2
    else:
        raise ValueError(f"reconstruction_loss: likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
    return per.reshape(per.shape[0], -1).sum(1).mean()


def _batches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _adam_epochs(model, x, batch_loss, score, epochs, lr, batch_size, seed):
    """Adam on ``batch_loss(x_batch, rng)`` over shuffled batches of x (float32); ``score()`` after each epoch."""
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    x = np.asarray(x, dtype=np.float32)
    history = []
    for _ in range(epochs):
        for idx in _batches(len(x), batch_size, rng):
            opt.zero_grad()
            batch_loss(x[idx], rng).backward()
            opt.step()
        history.append(score())
    return history


def train_autoencoder(model, x, epochs=10, lr=3e-3, batch_size=64, noise=0.0, likelihood="bernoulli", seed=0):
    """Adam on the reconstruction loss; ``noise`` > 0 masks that fraction of inputs to 0 (denoising AE).

    x: (N, ...) in [0, 1]. Returns the clean reconstruction loss over x after each epoch (list).
    """
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"train_autoencoder: noise is a masking fraction in [0, 1), got {noise}")
    x = np.asarray(x, dtype=np.float32)

    def batch_loss(clean, rng):
        seen = clean * (rng.random(clean.shape) >= noise) if noise else clean
        return reconstruction_loss(model(dn.tensor(seen.astype(np.float32))), dn.tensor(clean), likelihood)

    def score():
        with dn.no_grad():
            return float(reconstruction_loss(model(dn.tensor(x)), dn.tensor(x), likelihood).item())

    return _adam_epochs(model, x, batch_loss, score, epochs, lr, batch_size, seed)


# ----------------------------------------------------------------------------- pre-training
def greedy_pretrain(sizes, x, epochs=10, lr=3e-3, activation="Sigmoid", seed=0):
    """Greedy layer-wise pre-training: Linear layers sizes[0] -> sizes[1] -> ..., each trained as the
    encoder of a one-hidden-layer autoencoder (squared error) on the previous layers' codes.

    Returns the list of trained `nn.Linear` encoders (stack them with activations, add a head, fine-tune).
    """
    codes, layers = np.asarray(x, dtype=np.float32), []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        dn.manual_seed(seed + i)
        enc, dec = nn.Linear(a, b), nn.Linear(b, a)
        ae = nn.Sequential(enc, getattr(nn, activation)(), dec)
        train_autoencoder(ae, codes, epochs=epochs, lr=lr, likelihood="gaussian", seed=seed + i)
        with dn.no_grad():
            codes = getattr(nn, activation)()(enc(dn.tensor(codes))).numpy()
        layers.append(enc)
    return layers


def deep_classifier(sizes, n_classes, activation="Sigmoid", pretrained=None):
    """Linear+activation for each step of ``sizes`` then a Linear head; ``pretrained`` Linear layers are reused."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [pretrained[i] if pretrained else nn.Linear(a, b), getattr(nn, activation)()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], n_classes))


def pretraining_experiment(n_labels=200, sizes=(64, 64, 64, 64, 64), activation="Sigmoid", epochs=60,
                           pretrain_epochs=15, lr=3e-3, seed=0):
    """Test accuracy of a deep net fine-tuned on ``n_labels`` labelled digits, from greedy layer-wise
    pre-training on all training images (labels unused) vs from random (PyTorch-default) init.

    Returns {"pretrained": acc, "random": acc, "n_labels": n, "activation": name}.
    """
    from deepnotes import data

    split = data.load_digits()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(split.x_train), n_labels, replace=False)
    out = {"n_labels": int(n_labels), "activation": activation}
    for arm in ("pretrained", "random"):
        pre = greedy_pretrain(list(sizes), split.x_train, pretrain_epochs, lr, activation, seed) if arm == "pretrained" \
            else None
        dn.manual_seed(seed + 100)
        model = deep_classifier(list(sizes), 10, activation, pre)
        opt, loss_fn, r = optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss(), np.random.default_rng(seed)
        x, y = split.x_train[idx], split.y_train[idx]
        for _ in range(epochs):
            for b in _batches(len(x), 32, r):
                opt.zero_grad()
                loss_fn(model(dn.tensor(x[b])), dn.tensor(y[b])).backward()
                opt.step()
        with dn.no_grad():
            out[arm] = float(np.mean(model(dn.tensor(split.x_test)).numpy().argmax(1) == split.y_test))
    return out
