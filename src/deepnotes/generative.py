"""Autoencoders, the variational autoencoder, greedy layer-wise pre-training, generative vs discriminative.

A *discriminative* model learns p(y | x) directly (logistic regression, an MLP classifier); a
*generative* model learns how the data arise, p(x | y) p(y) or p(x), and gets p(y | x) by
Bayes' rule -- or samples new x. Ng & Jordan (2001): the generative model (naive Bayes)
reaches its (higher) asymptotic error with fewer samples; the discriminative one wins with
enough data. `generative_vs_discriminative` measures both over training-set sizes. On the
bundled breast-cancer and digits data, naive Bayes does plateau within a few dozen samples,
but logistic regression is ahead at every size tried: the crossover Ng & Jordan describe needs
data on which naive Bayes' independence assumption costs little.

* `DenseAutoencoder` / `ConvAutoencoder`: x -> code z (a bottleneck) -> x_hat, trained to
  reconstruct x; with ``noise > 0`` in `train_autoencoder` it is a denoising autoencoder
  (Vincent et al. 2008): it reconstructs the clean x from a corrupted copy.
* `VAE` (Kingma & Welling 2014): encoder q(z | x) = N(mu(x), diag exp(logvar(x))), prior
  p(z) = N(0, I), decoder p(x | z) Bernoulli (logits) or Gaussian (fixed std). The loss is the
  negative evidence lower bound, per sample::

      ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x)
      KL      = 1/2 sum_j (exp(logvar_j) + mu_j^2 - 1 - logvar_j)           (closed form)

  with z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) (the reparameterization trick: the
  sample is a differentiable function of mu and logvar).
* `greedy_pretrain` (Hinton et al. 2006; Bengio et al. 2007): train each layer as the encoder
  of a one-layer autoencoder on the codes of the layers below, then stack and fine-tune.

Shapes: dense models take x (N, D); `ConvAutoencoder` takes (N, 1, 8, 8) (digits).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import optim

LOG_2PI = math.log(2 * math.pi)


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


def train_autoencoder(model, x, epochs=10, lr=3e-3, batch_size=64, noise=0.0, likelihood="bernoulli", seed=0):
    """Adam on the reconstruction loss; ``noise`` > 0 masks that fraction of inputs to 0 (denoising AE).

    x: (N, ...) in [0, 1]. Returns the clean reconstruction loss over x after each epoch (list).
    """
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"train_autoencoder: noise is a masking fraction in [0, 1), got {noise}")
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    x = np.asarray(x, dtype=np.float32)
    history = []
    for _ in range(epochs):
        for idx in _batches(len(x), batch_size, rng):
            clean = x[idx]
            seen = clean * (rng.random(clean.shape) >= noise) if noise else clean
            opt.zero_grad()
            reconstruction_loss(model(dn.tensor(seen.astype(np.float32))), dn.tensor(clean), likelihood).backward()
            opt.step()
        with dn.no_grad():
            history.append(float(reconstruction_loss(model(dn.tensor(x)), dn.tensor(x), likelihood).item()))
    return history


# ----------------------------------------------------------------------------- VAE
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
            eps = dn.randn(*mu.shape, dtype=mu.data.dtype)
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
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    x = np.asarray(x, dtype=np.float32)
    history = []
    for _ in range(epochs):
        for idx in _batches(len(x), batch_size, rng):
            opt.zero_grad()
            model(dn.tensor(x[idx])).backward()
            opt.step()
        history.append(evaluate_elbo(model, x))
    return history


def evaluate_elbo(model, x, samples=1):
    """Mean ELBO (nats per sample) over x, averaged over ``samples`` draws of z."""
    with dn.no_grad():
        return float(np.mean([model.elbo(dn.tensor(np.asarray(x, dtype=np.float32)))[0].numpy().mean()
                              for _ in range(samples)]))


def vae_figures(model, x, y, out_dir, shape=(8, 8)):
    """Write reconstructions, prior samples and the 2-D latent map (mu of each x, coloured by y) as PNGs."""
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
        axes[0, i].imshow(x[i].reshape(shape), cmap="gray_r")
        axes[1, i].imshow(recon[i].reshape(shape), cmap="gray_r")
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle("VAE: inputs (top) and reconstructions from mu (bottom)", fontsize=9)
    paths.append(out_dir / "vae_reconstructions.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    samples = model.sample(20)
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
    for ax, s in zip(axes.ravel(), samples):
        ax.imshow(s.reshape(shape), cmap="gray_r")
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


# ----------------------------------------------------------------------------- generative vs discriminative
class ClassConditionalGaussian:
    """Gaussian naive Bayes: p(x | y = k) = prod_j N(x_j; m_kj, v_kj), p(y = k) = n_k / n; predicts
    argmax_k log p(y = k) + log p(x | y = k). ``var_smoothing`` * max variance is added to every v_kj
    (scikit-learn's GaussianNB convention)."""

    def __init__(self, var_smoothing=1e-9):
        self.var_smoothing = var_smoothing

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        self.classes_ = np.unique(y)
        eps = self.var_smoothing * X.var(0).max()
        self.theta_ = np.stack([X[y == k].mean(0) for k in self.classes_])
        self.var_ = np.stack([X[y == k].var(0) for k in self.classes_]) + eps
        self.class_prior_ = np.array([np.mean(y == k) for k in self.classes_])
        return self

    def joint_log_likelihood(self, X):
        X = np.asarray(X, dtype=np.float64)
        ll = -0.5 * (((X[:, None, :] - self.theta_) ** 2 / self.var_) + np.log(2 * np.pi * self.var_)).sum(-1)
        return ll + np.log(self.class_prior_)

    def predict(self, X):
        return self.classes_[self.joint_log_likelihood(X).argmax(1)]


def generative_vs_discriminative(sizes=(10, 20, 40, 80, 160, 320), seed=0, dataset="breast_cancer"):
    """Test accuracy of Gaussian naive Bayes (generative) and logistic regression (discriminative,
    scikit-learn) trained on the first n of a shuffled training split, for each n in ``sizes``."""
    from sklearn.linear_model import LogisticRegression

    from deepnotes import data

    split = data.get_dataset(dataset)
    order = np.random.default_rng(seed).permutation(len(split.x_train))
    rows = []
    for n in sizes:
        idx = order[:n]
        x, y = split.x_train[idx], split.y_train[idx]
        if len(np.unique(y)) < 2:
            continue
        nb = ClassConditionalGaussian().fit(x, y)
        lr = LogisticRegression(max_iter=2000).fit(x, y)
        rows.append({"n": int(n), "generative": float(np.mean(nb.predict(split.x_test) == split.y_test)),
                     "discriminative": float(lr.score(split.x_test, split.y_test))})
    return rows
