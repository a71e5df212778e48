"""FTRL-Proximal against a direct transcription of McMahan et al. (2013), Algorithm 1 (inventory O6)."""
import math

import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn.functional as F
from deepnotes.optim import FTRL, SGD
from tests.doctests import assert_examples_run


def paper_ftrl(gradient, dim, steps, alpha, beta, l1, l2):
    """Algorithm 1 of the paper, one coordinate at a time, written independently of the library.

    `gradient(t, w)` returns the loss gradient of example t at weights w (a list).
    Returns the weights w_1, ..., w_{steps+1} (w_1 = 0, before any example).
    """
    z, n = [0.0] * dim, [0.0] * dim

    def weights():
        w = []
        for i in range(dim):
            if abs(z[i]) <= l1:
                w.append(0.0)
            else:
                sign = 1.0 if z[i] > 0 else -1.0
                w.append(-(z[i] - sign * l1) / ((beta + math.sqrt(n[i])) / alpha + l2))
        return w

    path = [weights()]
    for t in range(steps):
        w = path[-1]
        g = gradient(t, w)
        for i in range(dim):
            sigma = (math.sqrt(n[i] + g[i] * g[i]) - math.sqrt(n[i])) / alpha
            z[i] += g[i] - sigma * w[i]
            n[i] += g[i] * g[i]
        path.append(weights())
    return np.array(path)


def sparse_data(seed, n=600, dim=60, informative=8, active=5):
    """Binary features, `active` of `dim` present per example; labels from a sparse logistic model."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, dim))
    for row in x:  # a few present features per example (test-data construction, not library code)
        row[rng.choice(dim, size=active, replace=False)] = 1.0
    w_true = np.zeros(dim)
    w_true[:informative] = rng.choice([-3.0, 3.0], size=informative)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ w_true)))).astype(float)
    return x, y


def logistic_gradient(x, y):
    def gradient(t, w):
        p = 1 / (1 + math.exp(-float(np.dot(x[t], w))))
        return list((p - y[t]) * x[t])
    return gradient


def train_online(x, y, optimizer_factory, batch=1, epochs=1):
    """Logistic regression without bias through the library; returns the weight after every step."""
    w = dn.tensor(np.zeros(x.shape[1]), requires_grad=True)
    opt = optimizer_factory([w])
    path = [w.numpy().copy()]
    for _ in range(epochs):
        for start in range(0, len(x), batch):
            xb, yb = dn.tensor(x[start:start + batch]), dn.tensor(y[start:start + batch])
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(xb @ w, yb, reduction="sum").backward()
            opt.step()
            path.append(w.numpy().copy())
    return w, opt, np.array(path)


@pytest.mark.covers("O6")
@pytest.mark.parametrize("alpha,beta,l1,l2", [(0.1, 1.0, 0.0, 0.0), (0.5, 1.0, 1.0, 0.0), (0.3, 0.5, 0.5, 2.0),
                                              (1.0, 0.0, 3.0, 0.1)])
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_the_papers_per_coordinate_update(alpha, beta, l1, l2, sparse):
    x, y = sparse_data(0, n=150, dim=12, informative=4, active=3)
    expected = paper_ftrl(logistic_gradient(x, y), x.shape[1], len(x), alpha, beta, l1, l2)
    _, opt, path = train_online(x, y, lambda p: FTRL(p, alpha=alpha, beta=beta, l1=l1, l2=l2, sparse=sparse))
    np.testing.assert_allclose(path, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.covers("O6")
def test_absent_features_leave_z_and_n_untouched():
    x, y = sparse_data(1, n=40, dim=20)
    w = dn.tensor(np.zeros(20), requires_grad=True)
    opt = FTRL([w], alpha=0.5, l1=0.2, sparse=True)
    for t in range(len(x)):
        before = {k: opt.state[w][k].copy() for k in ("z", "n")} if opt.state[w] else None
        w_before = w.numpy().copy()
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(dn.tensor(x[t]) @ w, dn.tensor(y[t])).backward()
        opt.step()
        absent = x[t] == 0
        if before is not None:
            for k in ("z", "n"):
                np.testing.assert_array_equal(opt.state[w][k][absent], before[k][absent])
        np.testing.assert_array_equal(w.numpy()[absent], w_before[absent])


@pytest.mark.covers("O6")
def test_sparse_and_dense_modes_agree_from_zero_and_differ_only_for_untouched_nonzero_weights():
    x, y = sparse_data(2, n=100, dim=30)
    _, _, dense = train_online(x, y, lambda p: FTRL(p, alpha=0.4, l1=0.3, l2=0.1))
    _, _, sparse = train_online(x, y, lambda p: FTRL(p, alpha=0.4, l1=0.3, l2=0.1, sparse=True))
    np.testing.assert_array_equal(dense, sparse)
    # From a nonzero start, a coordinate with no gradient yet: dense snaps it to its FTRL value (0), sparse keeps it.
    results = {}
    for sparse_mode in (False, True):
        w = dn.tensor(np.full(3, 0.7), requires_grad=True)
        opt = FTRL([w], l1=0.1, sparse=sparse_mode)
        w.grad = np.array([0.5, 0.0, 0.0])
        opt.step()
        results[sparse_mode] = w.numpy().copy()
    assert results[False][1:].tolist() == [0.0, 0.0]
    assert results[True][1:].tolist() == [0.7, 0.7]
    assert results[False][0] == results[True][0]


@pytest.mark.covers("O6")
def test_l1_gives_exact_zeros_at_little_cost_in_accuracy():
    x, y = sparse_data(3, n=1500, dim=100, informative=20, active=10)
    train, test = slice(0, 1200), slice(1200, None)
    weights = {}
    for l1 in (0.0, 10.0):
        w, _, _ = train_online(x[train], y[train], lambda p, l1=l1: FTRL(p, alpha=0.5, l1=l1), batch=10, epochs=2)
        weights[l1] = w.numpy()
    accuracy = {l1: float(np.mean((x[test] @ w > 0) == (y[test] > 0.5))) for l1, w in weights.items()}
    zeros = {l1: int(np.sum(w == 0)) for l1, w in weights.items()}
    assert zeros[0.0] == 0
    assert zeros[10.0] >= 50  # most of the 80 uninformative features are exactly 0 (measured: 67)
    assert np.all(weights[10.0][:20] != 0)  # the informative ones survive
    assert accuracy[10.0] >= accuracy[0.0] - 0.03  # measured: 0.847 with L1, 0.833 without
    assert accuracy[0.0] > 0.75


@pytest.mark.covers("O6")
def test_plain_sgd_with_l1_penalty_gives_no_exact_zeros():
    """The contrast that motivates FTRL: a subgradient L1 step jumps across 0 instead of landing on it."""
    x, y = sparse_data(3, n=600, dim=80, informative=8, active=6)
    w = dn.tensor(np.zeros(80), requires_grad=True)
    opt = SGD([w], lr=0.05)
    for start in range(0, len(x), 10):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(dn.tensor(x[start:start + 10]) @ w, dn.tensor(y[start:start + 10]))
        (loss + 0.02 * w.abs().sum()).backward()
        opt.step()
    assert np.sum(w.numpy() == 0) < 5


@pytest.mark.covers("O6")
def test_float32_stays_float32_and_state_dict_round_trips():
    w = dn.tensor(np.zeros(5, dtype=np.float32), requires_grad=True)
    opt = FTRL([w], alpha=0.2, l1=0.01)
    rng = np.random.default_rng(0)
    for _ in range(3):
        w.grad = rng.normal(size=5).astype(np.float32)
        opt.step()
    assert w.dtype == np.float32 and opt.state[w]["z"].dtype == np.float32
    saved = opt.state_dict()
    assert saved["state"][0]["step"] == 3
    w2 = dn.tensor(w.numpy().copy(), requires_grad=True)
    opt2 = FTRL([w2], alpha=0.2, l1=0.01)
    opt2.load_state_dict(saved)
    g = rng.normal(size=5).astype(np.float32)
    w.grad, w2.grad = dn.tensor(g), dn.tensor(g.copy())
    opt.step(), opt2.step()
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


@pytest.mark.covers("E3", "O6")
def test_backward_fills_grad_and_only_step_moves_the_weights():
    w = dn.tensor(np.array([0.0, 0.0]), requires_grad=True)
    opt = FTRL([w], alpha=1.0)
    (w * dn.tensor(np.array([-2.0, 1.0]))).sum().backward()
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])  # backprop computed a gradient, changed nothing
    np.testing.assert_array_equal(w.grad.numpy(), [-2.0, 1.0])
    w.grad = w.grad.numpy() * 0.0 + np.array([-2.0, 0.0])  # the optimizer consumes whatever is in .grad
    opt.step()
    assert w.numpy()[0] > 0 and w.numpy()[1] == 0.0


@pytest.mark.covers("O6")
def test_bad_hyperparameters_raise():
    w = dn.tensor(np.zeros(2), requires_grad=True)
    for kwargs, name in ((dict(alpha=0.0), "alpha"), (dict(l1=-1.0), "l1"), (dict(l2=-0.1), "l2"),
                         (dict(beta=-1.0), "beta")):
        with pytest.raises(ValueError, match=f"FTRL: invalid {name}"):
            FTRL([w], **kwargs)


@pytest.mark.covers("O6")
def test_docstring_examples():
    assert_examples_run("deepnotes.optim.ftrl")
