"""Losses, functional and modules, vs PyTorch (inventory L1-L4).

Every loss is compared with torch's in float64 over several shapes and
options (reductions, class weights, ignored targets, label smoothing,
probability targets, pos_weight, log_target, batch size 1, spatial targets
with the class axis 1), forward values and the gradients of input and target.
The fused cross-entropy kernel is also checked against the same computation
composed from primitive ops.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes.fast.cross_entropy import MeanCrossEntropy
from deepnotes.ops.loss import CrossEntropy
from tests.oracle import assert_close, check_fn, check_module, random_inputs

REDUCTIONS = ["mean", "sum", "none"]


def _const(array):
    """The same constant (no-grad) weight for both frameworks."""
    return (None, None) if array is None else (dn.tensor(array), torch.tensor(array))


# ------------------------------------------------------------- regression (L1)
REGRESSION = {
    "mse": (lambda **k: lambda x, y: F.mse_loss(x, y, **k), lambda **k: lambda x, y: TF.mse_loss(x, y, **k)),
    "l1": (lambda **k: lambda x, y: F.l1_loss(x, y, **k), lambda **k: lambda x, y: TF.l1_loss(x, y, **k)),
    "smooth_l1_b1": (lambda **k: lambda x, y: F.smooth_l1_loss(x, y, **k),
                     lambda **k: lambda x, y: TF.smooth_l1_loss(x, y, **k)),
    "smooth_l1_b0.3": (lambda **k: lambda x, y: F.smooth_l1_loss(x, y, beta=0.3, **k),
                       lambda **k: lambda x, y: TF.smooth_l1_loss(x, y, beta=0.3, **k)),
    "smooth_l1_b0": (lambda **k: lambda x, y: F.smooth_l1_loss(x, y, beta=0.0, **k),
                     lambda **k: lambda x, y: TF.smooth_l1_loss(x, y, beta=0.0, **k)),
    "huber_d1": (lambda **k: lambda x, y: F.huber_loss(x, y, **k), lambda **k: lambda x, y: TF.huber_loss(x, y, **k)),
    "huber_d2.5": (lambda **k: lambda x, y: F.huber_loss(x, y, delta=2.5, **k),
                   lambda **k: lambda x, y: TF.huber_loss(x, y, delta=2.5, **k)),
}


@pytest.mark.covers("L1")
@pytest.mark.parametrize("name", sorted(REGRESSION))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1,), (6,), (4, 3), (2, 3, 4)])
def test_regression_losses_match_torch(name, reduction, shape):
    make_dn, make_torch = REGRESSION[name]
    x, y = random_inputs([shape, shape], seed=len(shape), low=-3, high=3)
    y.flat[0] = x.flat[0]  # a zero residual: the kink of L1
    check_fn(make_dn(reduction=reduction), make_torch(reduction=reduction), [x, y])


@pytest.mark.covers("L1")
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_element_weighted_regression_losses_match_torch(name, reduction):
    """PyTorch's `weight=`: the weighted mean divides by sum(w) for mse/l1 but by the count for huber."""
    x, y, w = random_inputs([(5, 3)] * 3, seed=9, low=0.1, high=2)
    dn_w, th_w = _const(w)
    check_fn(lambda a, b: getattr(F, name)(a, b, reduction=reduction, weight=dn_w),
             lambda a, b: getattr(TF, name)(a, b, reduction=reduction, weight=th_w), [x, y])


@pytest.mark.covers("L1")
def test_rmse_is_sqrt_of_mse_and_l2_loss_is_the_sum():
    x, y = random_inputs([(10,), (10,)], seed=2)
    check_fn(lambda a, b: F.mse_loss(a, b).sqrt(), lambda a, b: TF.mse_loss(a, b).sqrt(), [x, y])
    assert F.mse_loss(dn.tensor(x), dn.tensor(y), reduction="sum").item() == pytest.approx(np.sum((x - y) ** 2))


@pytest.mark.covers("L1")
def test_smooth_l1_is_quadratic_near_zero_and_linear_in_the_tails():
    d = dn.tensor([0.0, 0.5, 3.0, -10.0], dtype=np.float64, requires_grad=True)
    loss = F.smooth_l1_loss(d, dn.zeros(4, dtype=np.float64), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.125, 2.5, 9.5])
    loss.sum().backward()
    np.testing.assert_allclose(d.grad, [0.0, 0.5, 1.0, -1.0])  # bounded gradient: robust to outliers


# ----------------------------------------------------- binary cross-entropy (L2)
@pytest.mark.covers("L2")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weight_shape",
                         [((1,), None), ((8,), (8,)), ((5, 3), None), ((5, 3), (3,)), ((2, 3, 4), (1, 3, 1))])
def test_binary_cross_entropy_matches_torch(shape, weight_shape, reduction):
    p, y = random_inputs([shape, shape], seed=len(shape), low=0.02, high=0.98)
    dn_w, th_w = _const(None if weight_shape is None else random_inputs([weight_shape], seed=1, low=0.2, high=3)[0])
    check_fn(lambda a, b: F.binary_cross_entropy(a, b, weight=dn_w, reduction=reduction),
             lambda a, b: TF.binary_cross_entropy(a, b, weight=th_w, reduction=reduction), [p, y])


@pytest.mark.covers("L2")
def test_binary_cross_entropy_clamps_log_at_minus_100_like_torch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.3])
    check_fn(lambda a: F.binary_cross_entropy(a, dn.tensor(y), reduction="none"),
             lambda a: TF.binary_cross_entropy(a, torch.tensor(y), reduction="none"), [p])
    loss = F.binary_cross_entropy(dn.tensor(p), dn.tensor(y), reduction="none").data
    assert loss[0] == 100.0 and loss[1] == 100.0  # finite where log(0) would be infinite


@pytest.mark.covers("L2", "L4")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1,), (7,), (6, 4), (2, 4, 3)])
@pytest.mark.parametrize("weighting", ["none", "weight", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(shape, weighting, reduction):
    x, y = random_inputs([shape, shape], seed=len(shape) + 1, low=-6, high=6)
    y = (y > 0).astype(np.float64) * 0.9 + 0.05  # soft-ish labels exercise both terms
    x.flat[0], x.flat[-1] = 120.0, -150.0  # saturated logits: exp would overflow in a naive form
    w = random_inputs([shape[-1:]], seed=2, low=0.2, high=2)[0] if weighting in ("weight", "both") else None
    pw = random_inputs([shape[-1:]], seed=3, low=0.5, high=5)[0] if weighting in ("pos_weight", "both") else None
    (dn_w, th_w), (dn_pw, th_pw) = _const(w), _const(pw)
    check_fn(lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=dn_w, reduction=reduction, pos_weight=dn_pw),
             lambda a, b: TF.binary_cross_entropy_with_logits(a, b, weight=th_w, reduction=reduction, pos_weight=th_pw),
             [x, y])


@pytest.mark.covers("L2")
def test_bce_with_logits_equals_bce_of_sigmoid_where_sigmoid_is_accurate():
    x, y = random_inputs([(20,), (20,)], seed=4, low=-4, high=4)
    y = (y > 0).astype(np.float64)
    a = F.binary_cross_entropy_with_logits(dn.tensor(x), dn.tensor(y)).item()
    b = F.binary_cross_entropy(F.sigmoid(dn.tensor(x)), dn.tensor(y)).item()
    assert a == pytest.approx(b, rel=1e-12)
    big = F.binary_cross_entropy_with_logits(dn.tensor([200.0]), dn.tensor([0.0])).item()
    assert big == pytest.approx(200.0)  # exact, where the sigmoid route clamps at 100


# ---------------------------------------------------------- cross-entropy (L2)
# (input shape, number of classes is axis 1); class-index targets drop axis 1.
CE_SHAPES = [(1, 4), (7, 5), (3, 4, 6), (2, 3, 4, 5), (5,)]


def _labels(shape, n_classes, seed, ignore_index=None):
    rng = np.random.default_rng(seed)
    target_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    labels = rng.integers(0, n_classes, size=target_shape)
    if ignore_index is not None and labels.size > 1:
        labels.flat[::3] = ignore_index
    return labels


def _classes(shape):
    return shape[1] if len(shape) > 1 else shape[0]


CE_OPTIONS = [
    dict(),
    dict(weight=True),
    dict(ignore_index=-100),
    dict(ignore_index=2),  # a real class ignored
    dict(weight=True, ignore_index=1),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.25, weight=True),
    dict(label_smoothing=0.2, weight=True, ignore_index=0),
]


def _ce_args(options, n_classes):
    weight = random_inputs([(n_classes,)], seed=8, low=0.2, high=3)[0] if options.get("weight") else None
    dn_w, th_w = _const(weight)
    kwargs = {k: v for k, v in options.items() if k != "weight"}
    return dict(weight=dn_w, **kwargs), dict(weight=th_w, **kwargs)


@pytest.mark.covers("L2", "L4")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "plain")
@pytest.mark.parametrize("shape", CE_SHAPES)
def test_cross_entropy_class_indices_match_torch(shape, options, reduction):
    n_classes = _classes(shape)
    (z,) = random_inputs([shape], seed=len(shape), low=-4, high=4)
    labels = _labels(shape, n_classes, seed=len(shape), ignore_index=options.get("ignore_index"))
    dn_kw, th_kw = _ce_args(options, n_classes)
    check_fn(lambda a, y: F.cross_entropy(a, y, reduction=reduction, **dn_kw),
             lambda a, y: TF.cross_entropy(a, y, reduction=reduction, **th_kw), [z, labels])


@pytest.mark.covers("L2", "L3")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=True), dict(label_smoothing=0.15),
                                     dict(label_smoothing=0.3, weight=True)], ids=["plain", "w", "ls", "ls-w"])
@pytest.mark.parametrize("shape", CE_SHAPES)
def test_cross_entropy_probability_targets_match_torch(shape, options, reduction):
    n_classes = _classes(shape)
    z, t = random_inputs([shape, shape], seed=len(shape) + 3, low=-3, high=3)
    axis = 1 if len(shape) > 1 else 0
    t = np.exp(t) / np.exp(t).sum(axis=axis, keepdims=True)
    dn_kw, th_kw = _ce_args(options, n_classes)
    check_fn(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **dn_kw),
             lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **th_kw), [z, t])


@pytest.mark.covers("L2", "L4")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(weight=True), dict(ignore_index=1), dict(weight=True, ignore_index=-100)],
                         ids=["plain", "w", "ignore", "w-ignore"])
@pytest.mark.parametrize("shape", CE_SHAPES)
def test_nll_loss_matches_torch(shape, options, reduction):
    n_classes = _classes(shape)
    (z,) = random_inputs([shape], seed=len(shape) + 5, low=-4, high=0)
    labels = _labels(shape, n_classes, seed=len(shape) + 1, ignore_index=options.get("ignore_index"))
    dn_kw, th_kw = _ce_args(options, n_classes)
    check_fn(lambda a, y: F.nll_loss(a, y, reduction=reduction, **dn_kw),
             lambda a, y: TF.nll_loss(a, y, reduction=reduction, **th_kw), [z, labels])


@pytest.mark.covers("L2")
def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    z, labels = np.zeros((3, 4)), np.full(3, -100)
    check_fn(lambda a, y: F.cross_entropy(a, y), lambda a, y: TF.cross_entropy(a, y), [z, labels], grad=False)
    assert F.cross_entropy(dn.tensor(z), dn.tensor(labels), reduction="sum").item() == 0.0


# ----------------------------------------------- the fused kernel vs primitives
def _composed_cross_entropy(z, labels, weight=None):
    """log_softmax + gather + (weighted) mean, from primitive ops."""
    picked = F.log_softmax(z, dim=1).gather(1, dn.tensor(labels[:, None]))[:, 0]
    if weight is None:
        return -picked.mean()
    w = dn.tensor(weight[labels])
    return -(picked * w).sum() / float(w.data.sum())


@pytest.mark.covers("L2")
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n,c", [(1, 3), (16, 10), (64, 2)])
def test_fused_cross_entropy_equals_composed_primitives(n, c, weighted):
    (z,) = random_inputs([(n, c)], seed=n, low=-5, high=5)
    labels = np.random.default_rng(n).integers(0, c, size=n)
    weight = np.linspace(0.5, 2.0, c) if weighted else None
    fused_in = dn.tensor(z, requires_grad=True)
    composed_in = dn.tensor(z, requires_grad=True)
    fused = F.cross_entropy(fused_in, dn.tensor(labels), weight=None if weight is None else dn.tensor(weight))
    composed = _composed_cross_entropy(composed_in, labels, weight)
    fused_name = "CrossEntropy" if weighted else "MeanCrossEntropy"  # the unweighted mean: the hot-path kernel
    assert fused_name in _node_names(fused) and "LogSoftmax" not in _node_names(fused)  # one fused node
    assert "LogSoftmax" in _node_names(composed)
    fused.backward()
    composed.backward()
    assert_close(fused, composed, "fused vs composed loss", atol=1e-14, rtol=1e-13)
    assert_close(fused_in.grad, composed_in.grad, "fused vs composed gradient", atol=1e-14, rtol=1e-12)


@pytest.mark.covers("L2")
@pytest.mark.parametrize("n,c", [(1, 3), (16, 10), (64, 2)])
def test_mean_cross_entropy_kernel_equals_general_kernel_and_mean(n, c):
    """The hot-path kernel against the general per-sample kernel followed by the mean: value and gradient."""
    (z,) = random_inputs([(n, c)], seed=n + c, low=-6, high=6)
    labels = np.random.default_rng(c).integers(0, c, size=n)
    results = []
    for reduce_in_kernel in (True, False):
        t = dn.tensor(z, requires_grad=True)
        if reduce_in_kernel:
            loss = MeanCrossEntropy.apply(t, labels=labels)
        else:
            loss = CrossEntropy.apply(t, labels=labels).mean()
        (loss * 1.7).backward()
        results.append((loss.data, t.grad))
    assert_close(results[0][0], results[1][0], "loss", atol=1e-14, rtol=1e-13)
    assert_close(results[0][1], results[1][1], "gradient", atol=1e-14, rtol=1e-12)


def _node_names(tensor):
    """Names of the Function nodes in the graph under `tensor`."""
    names, stack = set(), [tensor]
    while stack:
        node = stack.pop().grad_fn
        if node is not None:
            names.add(type(node).__name__)
            stack.extend(node.inputs)
    return names


@pytest.mark.covers("L2")
def test_fused_cross_entropy_gradient_is_softmax_minus_onehot():
    (z,) = random_inputs([(6, 4)], seed=1)
    labels = np.array([0, 3, 1, 1, 2, 0])
    logits = dn.tensor(z, requires_grad=True)
    F.cross_entropy(logits, dn.tensor(labels), reduction="sum").backward()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad, p - np.eye(4)[labels], atol=1e-15)


@pytest.mark.covers("L2")
def test_label_smoothing_composed_from_primitives():
    """(1 - eps) * NLL + eps / C * sum_c(-log p_c): the definition, built from primitives."""
    (z,) = random_inputs([(5, 4)], seed=2)
    labels, eps = np.array([0, 1, 2, 3, 1]), 0.2
    check = dn.tensor(z, requires_grad=True)
    logp = F.log_softmax(check, dim=1)
    composed = (1 - eps) * F.nll_loss(logp, labels) + (eps / 4) * (-logp.sum(dim=1)).mean()
    fused = F.cross_entropy(dn.tensor(z), labels, label_smoothing=eps)
    assert fused.item() == pytest.approx(composed.item(), rel=1e-13)


@pytest.mark.covers("L2")
def test_cross_entropy_is_nll_of_log_softmax():
    (z,) = random_inputs([(4, 3, 5)], seed=3)
    labels = _labels((4, 3, 5), 3, seed=3)
    a = F.cross_entropy(dn.tensor(z), labels, reduction="none").data
    b = F.nll_loss(F.log_softmax(dn.tensor(z), dim=1), labels, reduction="none").data
    np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.covers("L2")
def test_cross_entropy_keeps_float32():
    z = dn.randn(8, 5, requires_grad=True)
    loss = F.cross_entropy(z, dn.tensor(np.arange(8) % 5), label_smoothing=0.1, weight=dn.ones(5))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


FLOAT32_CASES = [
    ("mse_loss", lambda x, p, y: F.mse_loss(x, p)),
    ("l1_loss", lambda x, p, y: F.l1_loss(x, p)),
    ("smooth_l1_loss", lambda x, p, y: F.smooth_l1_loss(x, p, beta=0.5)),
    ("huber_loss", lambda x, p, y: F.huber_loss(x, p, delta=2.0)),
    ("binary_cross_entropy", lambda x, p, y: F.binary_cross_entropy(F.sigmoid(x), p, weight=dn.ones(3))),
    ("bce_with_logits", lambda x, p, y: F.binary_cross_entropy_with_logits(x, p, pos_weight=dn.ones(3) * 2.0)),
    ("cross_entropy_probs", lambda x, p, y: F.cross_entropy(x, p, label_smoothing=0.1)),
    ("nll_loss", lambda x, p, y: F.nll_loss(F.log_softmax(x, dim=1), y, weight=dn.ones(3))),
    ("kl_div", lambda x, p, y: F.kl_div(F.log_softmax(x, dim=1), p, reduction="batchmean")),
]


@pytest.mark.covers("L1", "L2", "L3")
@pytest.mark.parametrize("name,loss_fn", FLOAT32_CASES, ids=[c[0] for c in FLOAT32_CASES])
def test_float32_in_float32_out(name, loss_fn):
    x = dn.randn(4, 3, requires_grad=True)
    p = F.softmax(dn.randn(4, 3), dim=1).detach()
    loss = loss_fn(x, p, dn.tensor([0, 2, 1, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


# --------------------------------------------------------------- KL divergence (L3)
@pytest.mark.covers("L3")
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("shape", [(1, 4), (6, 3), (2, 3, 4)])
def test_kl_div_matches_torch(shape, reduction, log_target):
    z, t = random_inputs([shape, shape], seed=len(shape), low=-3, high=3)
    logq = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    p = np.exp(t) / np.exp(t).sum(axis=-1, keepdims=True)
    target = np.log(p) if log_target else p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns in both
        check_fn(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                 lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), [logq, target])


@pytest.mark.covers("L3")
def test_kl_div_zero_target_contributes_zero():
    logq = np.log(np.array([[0.2, 0.3, 0.5]]))
    p = np.array([[0.0, 0.4, 0.6]])
    check_fn(lambda a: F.kl_div(a, dn.tensor(p), reduction="sum"),
             lambda a: TF.kl_div(a, torch.tensor(p), reduction="sum"), [logq])
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(dn.tensor(logq), dn.tensor(p))


@pytest.mark.covers("L3")
def test_cross_entropy_is_entropy_plus_kl_and_their_gradients_agree():
    """H(p, q) = H(p) + KL(p || q); H(p) does not depend on the logits, so the gradients are equal."""
    z, t = random_inputs([(6, 5), (6, 5)], seed=12, low=-3, high=3)
    p = np.exp(2 * t) / np.exp(2 * t).sum(axis=1, keepdims=True)
    entropy = -(p * np.log(p)).sum(axis=1).mean()

    z_ce = dn.tensor(z, requires_grad=True)
    cross_entropy = F.cross_entropy(z_ce, dn.tensor(p))  # mean over samples of -sum p log q
    z_kl = dn.tensor(z, requires_grad=True)
    kl = F.kl_div(F.log_softmax(z_kl, dim=1), dn.tensor(p), reduction="batchmean")
    assert cross_entropy.item() == pytest.approx(entropy + kl.item(), rel=1e-13)
    assert kl.item() > 0 and entropy > 0
    cross_entropy.backward()
    kl.backward()
    np.testing.assert_allclose(z_ce.grad, z_kl.grad, atol=1e-15)
    # and both match torch's cross-entropy gradient
    th_z = torch.tensor(z, requires_grad=True)
    TF.cross_entropy(th_z, torch.tensor(p)).backward()
    assert_close(z_ce.grad, th_z.grad, "CE gradient")


# ----------------------------------------------------- class weights (L4)
@pytest.mark.covers("L4")
def test_class_weighted_mean_is_the_weighted_average_of_per_sample_losses():
    (z,) = random_inputs([(9, 3)], seed=6)
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])
    weight = np.array([1.0, 3.0, 6.0])  # inverse-frequency weights
    per_sample = F.cross_entropy(dn.tensor(z), labels, reduction="none").data
    weighted = F.cross_entropy(dn.tensor(z), labels, weight=dn.tensor(weight)).item()
    assert weighted == pytest.approx((weight[labels] * per_sample).sum() / weight[labels].sum(), rel=1e-13)


@pytest.mark.covers("L4")
def test_integer_class_weight_equals_replicating_the_samples():
    """Cost-sensitive learning = resampling: weight k on a class acts as k copies of its samples."""
    (z,) = random_inputs([(5, 3)], seed=7)
    labels = np.array([0, 2, 1, 2, 0])
    weight = np.array([1.0, 2.0, 3.0])
    repeats = weight[labels].astype(int)
    weighted = F.cross_entropy(dn.tensor(z), labels, weight=dn.tensor(weight))
    replicated = F.cross_entropy(dn.tensor(np.repeat(z, repeats, axis=0)), np.repeat(labels, repeats))
    assert weighted.item() == pytest.approx(replicated.item(), rel=1e-13)


@pytest.mark.covers("L4")
def test_pos_weight_equals_replicating_the_positives():
    x = np.array([0.3, -1.2, 2.0, 0.1, -0.4])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    pw = 3.0
    weighted = F.binary_cross_entropy_with_logits(dn.tensor(x), dn.tensor(y), pos_weight=dn.tensor([pw]),
                                                  reduction="sum")
    repeats = np.where(y == 1, int(pw), 1)
    replicated = F.binary_cross_entropy_with_logits(dn.tensor(np.repeat(x, repeats)), dn.tensor(np.repeat(y, repeats)),
                                                    reduction="sum")
    assert weighted.item() == pytest.approx(replicated.item(), rel=1e-13)


# ------------------------------------------------------------------- modules
def _probs(shape, seed):
    (t,) = random_inputs([shape], seed=seed)
    return np.exp(t) / np.exp(t).sum(axis=1, keepdims=True)


MODULE_CASES = [
    ("MSELoss", {}, lambda: random_inputs([(4, 3), (4, 3)], seed=1)),
    ("L1Loss", {"reduction": "sum"}, lambda: random_inputs([(4, 3), (4, 3)], seed=2)),
    ("SmoothL1Loss", {"beta": 0.5}, lambda: random_inputs([(6,), (6,)], seed=3)),
    ("HuberLoss", {"delta": 0.7, "reduction": "none"}, lambda: random_inputs([(2, 5), (2, 5)], seed=4)),
    ("BCELoss", {"weight": np.array([0.5, 1.0, 2.0])},
     lambda: random_inputs([(4, 3), (4, 3)], seed=5, low=0.05, high=0.95)),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([2.0, 0.5, 1.0]), "weight": np.array([1.0, 2.0, 3.0])},
     lambda: random_inputs([(4, 3), (4, 3)], seed=6, low=0, high=1)),
    ("CrossEntropyLoss", {"weight": np.array([1.0, 2.0, 0.5, 1.5]), "ignore_index": 1, "label_smoothing": 0.1},
     lambda: random_inputs([(6, 4)], seed=7) + [np.array([0, 1, 2, 3, 1, 0])]),
    ("CrossEntropyLoss", {}, lambda: random_inputs([(3, 4, 2)], seed=8) + [_probs((3, 4, 2), 9)]),
    ("NLLLoss", {"weight": np.array([1.0, 2.0, 0.5])},
     lambda: random_inputs([(5, 3)], seed=10, low=-3, high=0) + [np.array([0, 2, 1, 1, 0])]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True},
     lambda: [np.log(_probs((3, 4), 11)), np.log(_probs((3, 4), 12))]),
]


@pytest.mark.covers("L1", "L2", "L3", "L4")
@pytest.mark.parametrize("name,options,make_inputs", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_loss_modules_match_torch(name, options, make_inputs):
    dn_opts = {k: dn.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    th_opts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    ours, theirs = getattr(nn, name)(**dn_opts), getattr(torch.nn, name)(**th_opts)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight buffers, as torch
    check_module(ours, theirs, make_inputs())


@pytest.mark.covers("L1")
def test_legacy_size_average_and_reduce_map_onto_reduction():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"


# -------------------------------------------------------------- bad input
@pytest.mark.covers("L2")
def test_cross_entropy_label_out_of_range_names_classes_and_label():
    with pytest.raises(ValueError, match=r"cross_entropy: target contains class index 5, outside \[0, 5\) for 5 classes"):
        F.cross_entropy(dn.randn(3, 5), dn.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match=r"nll_loss: target contains class index -1"):
        F.nll_loss(dn.randn(3, 5), dn.tensor([0, -1, 1]))


@pytest.mark.covers("L2")
def test_cross_entropy_target_kind_and_shape_errors():
    z = dn.randn(4, 3)
    with pytest.raises(ValueError, match=r"cross_entropy: a floating-point target holds class probabilities and must "
                                         r"have the input's shape \(4, 3\), got \(4,\)"):
        F.cross_entropy(z, dn.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match=r"cross_entropy: a target of the input's shape \(4, 3\) holds class "
                                        r"probabilities and must be floating-point, got dtype int64"):
        F.cross_entropy(z, dn.tensor(np.zeros((4, 3), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"cross_entropy: expected target of shape \(4,\) for input of shape \(4, 3\)"):
        F.cross_entropy(z, dn.tensor([0, 1]))
    with pytest.raises(TypeError, match=r"nll_loss: expected integer class indices as target \(shape \(4,\)\), "
                                        r"got dtype float32"):
        F.nll_loss(z, dn.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have one entry per class, shape \(3,\), got \(2,\)"):
        F.cross_entropy(z, dn.tensor([0, 1, 2, 1]), weight=dn.ones(2))
    with pytest.raises(ValueError, match="ignore_index .* not supported with probability targets"):
        F.cross_entropy(z, F.softmax(dn.randn(4, 3), dim=1), ignore_index=0)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(z, dn.tensor([0, 1, 2, 1]), label_smoothing=1.5)


@pytest.mark.covers("L1", "L2")
@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.binary_cross_entropy,
                                F.binary_cross_entropy_with_logits, F.kl_div])
def test_input_target_shape_mismatch_names_both_shapes(fn):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: input and target must have the same shape, "
                                         r"got input \(4, 1\) and target \(4,\)"):
        fn(dn.rand(4, 1), dn.rand(4))


@pytest.mark.covers("L1", "L2")
def test_other_bad_arguments():
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        F.mse_loss(dn.ones(2), dn.ones(2), reduction="avg")
    with pytest.raises(TypeError, match="mse_loss: expected a floating-point target, got dtype int64"):
        F.mse_loss(dn.ones(2), dn.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy(dn.tensor([0.5, 1.5]), dn.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to the input's shape \(4, 2\)"):
        F.binary_cross_entropy_with_logits(dn.rand(4, 2), dn.rand(4, 2), pos_weight=dn.ones(3))
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(dn.ones(2), dn.ones(2), beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(dn.ones(2), dn.ones(2), delta=0.0)


@pytest.mark.covers("L2", "O5")
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2}, {"ignore_index": 1}, {"weight": True}])
def test_cross_entropy_second_derivatives_match_torch(options):
    """Newton steps and Hessian-vector products through the fused cross-entropy kernel."""
    from tests.oracle import check_grad_grad

    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, size=5)
    kw = dict(options)
    w = rng.uniform(0.5, 2.0, size=4) if kw.pop("weight", False) else None
    check_grad_grad(
        lambda a, t: F.cross_entropy(a, t, weight=None if w is None else dn.tensor(w), reduction="none", **kw),
        lambda a, t: torch.nn.functional.cross_entropy(a, t, weight=None if w is None else torch.tensor(w),
                                                       reduction="none", **kw),
        [z, y],
    )


@pytest.mark.covers("L2", "O5")
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits_second_derivatives_match_torch(pos_weight):
    from tests.oracle import check_grad_grad

    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((6, 3)) * 3, rng.uniform(0, 1, size=(6, 3))
    pw = rng.uniform(0.5, 3.0, size=3) if pos_weight else None
    check_grad_grad(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=None if pw is None else dn.tensor(pw),
                                                        reduction="none"),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, pos_weight=None if pw is None else torch.tensor(pw), reduction="none"),
        [x, t],
    )
