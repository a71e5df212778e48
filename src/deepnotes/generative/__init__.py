"""Generative models: autoencoders, the variational autoencoder, greedy layer-wise pre-training,
and generative vs discriminative classifiers.

A *discriminative* model learns p(y | x) directly (logistic regression, an MLP classifier); a
*generative* model learns how the data arise, p(x | y) p(y) or p(x), and gets p(y | x) by
Bayes' rule -- or samples new x (a VAE). Ng & Jordan (2001): the generative model (naive
Bayes) reaches its (higher) asymptotic error with fewer samples; the discriminative one wins
with enough data. `generative_vs_discriminative` measures both over training-set sizes. On the
bundled breast-cancer and digits data, naive Bayes does plateau within a few dozen samples,
but logistic regression is ahead at every size tried: the crossover Ng & Jordan describe needs
data on which naive Bayes' independence assumption costs little.

Modules: `autoencoders` (dense, convolutional and denoising autoencoders; greedy layer-wise
pre-training), `vae` (the VAE, its ELBO and closed-form KL, training, figures). This file holds
the class-conditional Gaussian (naive Bayes) and the comparison.
"""
from __future__ import annotations

import numpy as np

from .autoencoders import (ConvAutoencoder, DenseAutoencoder, deep_classifier, greedy_pretrain, pretraining_experiment,
                           reconstruction_loss, train_autoencoder)
from .vae import VAE, evaluate_elbo, gaussian_kl, gaussian_kl_monte_carlo, train_vae, vae_experiment, vae_figures

__all__ = ["DenseAutoencoder", "ConvAutoencoder", "reconstruction_loss", "train_autoencoder", "greedy_pretrain",
           "deep_classifier", "pretraining_experiment", "VAE", "gaussian_kl", "gaussian_kl_monte_carlo", "train_vae",
           "evaluate_elbo", "vae_figures", "vae_experiment", "ClassConditionalGaussian",
           "generative_vs_discriminative"]


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
