"""The variational autoencoder (Kingma & Welling 2014; Rezende, Mohamed & Wierstra 2014).

Encoder q(z | x) = N(mu(x), diag exp(logvar(x))), prior p(z) = N(0, I), decoder p(x | z)
Bernoulli (logits; x in [0, 1]) or Gaussian (mean; fixed std). The loss is the negative
evidence lower bound, per sample::

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x)
    KL      = 1/2 sum_j (exp(logvar_j) + mu_j^2 - 1 - logvar_j)           (closed form)

with z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) (the reparameterization trick: the sample
is a differentiable function of mu and logvar, so the ELBO's gradient reaches the encoder).
A VAE is a generative model: it learns p(x) and can sample new x (`VAE.sample`).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F

from .autoencoders import _adam_epochs, _mlp

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per sample, shape (N,): 1/2 sum(exp(lv) + mu^2 - 1 - lv)."""
    return 0.5 * (logvar.exp() + mu * mu - 1.0 - logvar).sum(1)


def gaussian_kl_monte_carlo(mu, logvar, samples=10000, seed=0):
    """The same KL estimated as the mean of log q(z) - log p(z) over z ~ q (NumPy; mu, logvar (N, d))."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    eps = np.random.default_rng(seed).standard_normal((samples, *mu.shape))
    z = mu + np.exp(0.5 * logvar) * eps
    log_q = -0.5 * (eps**2 + logvar + LOG_2PI).sum(-1)
    log_p = -0.5 * (z**2 + LOG_2PI).sum(-1)
    return (log_q - log_p).mean(0)


class VAE(nn.Module):
    """Variational autoencoder with a dense Gaussian encoder and a Bernoulli or Gaussian decoder.

    Args:
        in_features: D. hidden: encoder widths (the decoder mirrors them). latent: d.
        likelihood: "bernoulli" (decoder outputs logits; x in [0, 1]) or "gaussian" (decoder
            outputs the mean; std ``decoder_std`` fixed).
    """

    def __init__(self, in_features, hidden=(64,), latent=2, likelihood="bernoulli", decoder_std=0.1):
        super().__init__()
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"VAE: likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        self.likelihood, self.decoder_std, self.latent = likelihood, float(decoder_std), int(latent)
        self.body = _mlp([in_features, *hidden], "ReLU", last_activation=True)
        width = hidden[-1] if hidden else in_features
        self.mu = nn.Linear(width, latent)
        self.logvar = nn.Linear(width, latent)
        self.decoder = _mlp([latent, *hidden[::-1], in_features], "ReLU")

    def encode(self, x):
        """(mu, logvar), each (N, latent)."""
        h = self.body(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.decoder(z)

    def reparameterize(self, mu, logvar, eps=None):
        """z = mu + exp(logvar / 2) * eps; eps ~ N(0, I) from deepnotes' generator unless given."""
        if eps is None:
            eps = dn.randn(*mu.shape, dtype=mu.dtype)
        return mu + (logvar * 0.5).exp() * eps

    def log_likelihood(self, out, x):
        """log p(x | z) per sample, shape (N,)."""
        if self.likelihood == "bernoulli":
            per = -F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            s = self.decoder_std
            per = -0.5 * ((out - x) / s) ** 2 - (math.log(s) + 0.5 * LOG_2PI)
        return per.sum(1)

    def elbo(self, x, eps=None):
        """(elbo, log-likelihood, kl), each (N,), with one reparameterized sample per x."""
        mu, logvar = self.encode(x)
        out = self.decode(self.reparameterize(mu, logvar, eps))
        ll, kl = self.log_likelihood(out, x), gaussian_kl(mu, logvar)
        return ll - kl, ll, kl

    def forward(self, x, eps=None):
        """The loss: the negative ELBO averaged over the batch (nats per sample)."""
        return -self.elbo(x, eps)[0].mean()

    def sample(self, n, seed=0):
        """n decoded samples from the prior, (n, D) (probabilities for a Bernoulli decoder)."""
        z = np.random.default_rng(seed).standard_normal((n, self.latent)).astype(np.float32)
        with dn.no_grad():
            out = self.decode(dn.tensor(z)).numpy()
        return 1.0 / (1.0 + np.exp(-out)) if self.likelihood == "bernoulli" else out


def train_vae(model, x, epochs=20, lr=3e-3, batch_size=64, seed=0):
    """Adam on -ELBO; returns the mean ELBO over x after each epoch (one sample of z each)."""
    return _adam_epochs(model, x, lambda batch, rng: model(dn.tensor(batch)), lambda: evaluate_elbo(model, x), epochs,
                        lr, batch_size, seed)


def evaluate_elbo(model, x, samples=1):
    """Mean ELBO (nats per sample) over x, averaged over ``samples`` draws of z."""
    with dn.no_grad():
        return float(np.mean([model.elbo(dn.tensor(np.asarray(x, dtype=np.float32)))[0].numpy().mean()
                              for _ in range(samples)]))


def _show(ax, values, shape):
    """An image of ``shape`` (digits), or a line plot when ``shape`` is None (a 1-D signal: MNIST-1D)."""
    if shape is None:
        ax.plot(values, lw=0.8, color="k")
    else:
        ax.imshow(values.reshape(shape), cmap="gray_r")


def vae_figures(model, x, y, out_dir, shape=(8, 8)):
    """Write reconstructions, prior samples and the 2-D latent map (mu of each x, coloured by y) as PNGs.

    ``shape``: how one x is drawn -- an image shape such as (8, 8), or None for a 1-D signal (a line).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    x = np.asarray(x, dtype=np.float32)
    with dn.no_grad():
        mu, logvar = model.encode(dn.tensor(x))
        recon = model.decode(mu).numpy()
    recon = 1 / (1 + np.exp(-recon)) if model.likelihood == "bernoulli" else recon
    paths = []
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
    for i in range(10):
        _show(axes[0, i], x[i], shape)
        _show(axes[1, i], recon[i], shape)
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle("VAE: inputs (top) and reconstructions from mu (bottom)", fontsize=9)
    paths.append(out_dir / "vae_reconstructions.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    samples = model.sample(20)
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
    for ax, s in zip(axes.ravel(), samples):
        _show(ax, s, shape)
        ax.axis("off")
    fig.suptitle("VAE: samples decoded from z ~ N(0, I)", fontsize=9)
    paths.append(out_dir / "vae_samples.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    m = mu.numpy()
    points = ax.scatter(m[:, 0], m[:, 1 if m.shape[1] > 1 else 0], c=y, cmap="tab10", s=6)
    fig.colorbar(points, ax=ax, label="class")
    ax.set(xlabel="z_1", ylabel="z_2", title="VAE latent means by class")
    paths.append(out_dir / "vae_latent.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    return paths


def vae_experiment(dataset="digits", epochs=20, latent=2, hidden=(64,), seed=0, out_dir=None, eval_samples=10):
    """Train a VAE on a data set's training split and score the ELBO on its test split.

    digits (pixels in [0, 1]): a Bernoulli decoder. mnist1d (real-valued signals, about unit
    scale): a Gaussian decoder with std 0.5. Returns {"dataset", "likelihood", "train_elbo" (per
    epoch), "test_elbo" (nats per sample, averaged over ``eval_samples`` draws of z), "paths"
    (the three PNGs of `vae_figures` when ``out_dir`` is given)}.
    """
    from deepnotes import data

    if dataset not in ("digits", "mnist1d"):
        raise ValueError(f"vae_experiment: dataset must be 'digits' or 'mnist1d', got {dataset!r}")
    split = data.get_dataset(dataset)
    likelihood, shape = ("bernoulli", (8, 8)) if dataset == "digits" else ("gaussian", None)
    dn.manual_seed(seed)
    model = VAE(split.x_train.shape[1], hidden=tuple(hidden), latent=latent, likelihood=likelihood, decoder_std=0.5)
    history = train_vae(model, split.x_train, epochs=epochs, seed=seed)
    dn.manual_seed(seed + 1)
    out = {"dataset": dataset, "likelihood": likelihood, "train_elbo": history,
           "test_elbo": evaluate_elbo(model, split.x_test, samples=eval_samples), "paths": []}
    if out_dir is not None:
        out["paths"] = vae_figures(model, split.x_test[:500], split.y_test[:500], Path(out_dir) / dataset, shape)
    return out
