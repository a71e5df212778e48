"""Autoencoders, the VAE, greedy pre-training and generative vs discriminative (T3, I5)."""
import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB

import deepnotes as dn
from deepnotes import data
from deepnotes import generative as g
from tests.oracle import assert_close, gradcheck


@pytest.fixture(scope="module")
def digits():
    return data.load_digits()


@pytest.mark.covers("T3")
def test_closed_form_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(4, 3)), rng.normal(scale=0.7, size=(4, 3))
    closed = g.gaussian_kl(dn.tensor(mu), dn.tensor(logvar)).numpy()
    mc = g.gaussian_kl_monte_carlo(mu, logvar, samples=200000, seed=1)
    np.testing.assert_allclose(closed, mc, atol=0.03, rtol=0.01)
    assert np.all(closed >= 0) and g.gaussian_kl(dn.tensor(np.zeros((1, 3))), dn.tensor(np.zeros((1, 3)))).item() == 0
    # a wrong formula (the variance instead of its log in the last term) misses the Monte Carlo value
    wrong = 0.5 * (np.exp(logvar) + mu**2 - 1 - np.exp(logvar)).sum(1)
    assert np.abs(wrong - mc).max() > 0.1


@pytest.mark.covers("T3")
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_elbo_gradients_by_finite_differences(likelihood):
    dn.manual_seed(0)
    model = g.VAE(6, hidden=(5,), latent=2, likelihood=likelihood, decoder_std=0.5).double()
    rng = np.random.default_rng(1)
    x = rng.random((3, 6))
    eps = dn.tensor(rng.standard_normal((3, 2)))  # a fixed noise draw: the ELBO is then a function of x
    gradcheck(lambda xs: model.elbo(xs, eps)[0], [x])
    # and of the parameters: d(-ELBO)/d(encoder weight) by a central difference on one entry
    w = model.mu.weight
    model.zero_grad()  # gradcheck's backward already filled the parameters' .grad
    loss = model(dn.tensor(x), eps)
    loss.backward()
    h, base = 1e-6, w.detach().numpy().copy()

    def loss_at(offset):
        moved = base.copy()
        moved[0, 0] += offset
        with dn.no_grad():
            w.copy_(dn.tensor(moved))
        return model(dn.tensor(x), eps).item()

    numeric = (loss_at(h) - loss_at(-h)) / (2 * h)
    loss_at(0.0)
    assert np.asarray(w.grad)[0, 0] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


@pytest.mark.covers("T3")
def test_reparameterized_samples_have_the_encoder_moments():
    model = g.VAE(4, hidden=(3,), latent=2)
    mu, logvar = dn.tensor(np.array([[1.0, -2.0]])), dn.tensor(np.array([[0.0, np.log(4.0)]]))
    z = np.stack([model.reparameterize(mu, logvar).numpy()[0] for _ in range(4000)])
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.1)
    np.testing.assert_allclose(z.std(0), [1.0, 2.0], atol=0.1)


@pytest.mark.covers("T3")
def test_vae_trains_on_digits_and_writes_figures(digits, tmp_path):
    dn.manual_seed(0)
    model = g.VAE(64, hidden=(64,), latent=2)
    before = g.evaluate_elbo(model, digits.x_test)
    history = g.train_vae(model, digits.x_train, epochs=4, seed=0)
    after = g.evaluate_elbo(model, digits.x_test)
    assert history[-1] > history[0] and after > before + 5  # nats per image
    paths = g.vae_figures(model, digits.x_test[:200], digits.y_test[:200], tmp_path)
    assert [p.name for p in paths] == ["vae_reconstructions.png", "vae_samples.png", "vae_latent.png"]
    assert model.sample(5).shape == (5, 64)
    with pytest.raises(ValueError, match="VAE: likelihood must be"):
        g.VAE(4, likelihood="poisson")


@pytest.mark.covers("T3")
def test_vae_on_mnist1d_with_a_gaussian_decoder(tmp_path):
    run = g.vae_experiment("mnist1d", epochs=2, latent=2, hidden=(32,), out_dir=tmp_path, eval_samples=2)
    assert run["likelihood"] == "gaussian" and run["train_elbo"][-1] > run["train_elbo"][0]
    dn.manual_seed(0)
    untrained = g.evaluate_elbo(g.VAE(40, hidden=(32,), latent=2, likelihood="gaussian", decoder_std=0.5),
                                data.get_dataset("mnist1d").x_test)
    assert np.isfinite(run["test_elbo"]) and run["test_elbo"] > untrained + 5
    assert [p.name for p in run["paths"]] == ["vae_reconstructions.png", "vae_samples.png", "vae_latent.png"]
    assert all(p.stat().st_size > 1000 for p in run["paths"])
    with pytest.raises(ValueError, match="vae_experiment: dataset must be 'digits' or 'mnist1d', got 'cifar'"):
        g.vae_experiment("cifar")


@pytest.mark.covers("T3")
@pytest.mark.parametrize("kind", ["dense", "conv", "denoising"])
def test_autoencoders_reconstructions_improve(digits, kind):
    dn.manual_seed(0)
    x = digits.x_train
    if kind == "conv":
        model, x = g.ConvAutoencoder(), x.reshape(-1, 1, 8, 8)
    else:
        model = g.DenseAutoencoder(64, hidden=(32,), latent=8)
    with dn.no_grad():
        before = g.reconstruction_loss(model(dn.tensor(x)), dn.tensor(x)).item()
    history = g.train_autoencoder(model, x, epochs=3, noise=0.3 if kind == "denoising" else 0.0)
    assert history[-1] < history[0] < before and history[-1] < 0.7 * before


@pytest.mark.covers("T3")
def test_class_conditional_gaussian_matches_sklearn_gaussian_nb(digits):
    x, x_test = digits.x_train.astype(np.float64), digits.x_test.astype(np.float64)
    ours = g.ClassConditionalGaussian().fit(x, digits.y_train)
    ref = GaussianNB().fit(x, digits.y_train)
    assert_close(ours.var_, ref.var_, "per-class variances vs GaussianNB", rtol=1e-10)
    assert_close(ours.joint_log_likelihood(x_test), ref.predict_joint_log_proba(x_test),
                 "joint log-likelihood vs GaussianNB", rtol=1e-8)
    rows = g.generative_vs_discriminative(sizes=(20, 200), seed=0)
    assert [r["n"] for r in rows] == [20, 200] and all(0.5 < r["generative"] <= 1 for r in rows)


@pytest.mark.covers("I5")
def test_greedy_pretraining_learns_each_layer_as_an_autoencoder(digits):
    layers = g.greedy_pretrain([64, 16, 8], digits.x_train[:300], epochs=5)
    assert [tuple(layer.weight.shape) for layer in layers] == [(16, 64), (8, 16)]
    dn.manual_seed(0)
    fresh = g.deep_classifier([64, 16, 8], 10)
    stacked = g.deep_classifier([64, 16, 8], 10, pretrained=layers)
    assert stacked[0] is layers[0] and stacked[2] is layers[1]  # the pre-trained weights are the ones fine-tuned
    assert not np.allclose(fresh[0].weight.detach().numpy(), layers[0].weight.detach().numpy())
