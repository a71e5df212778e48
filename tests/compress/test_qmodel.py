"""BatchNorm folding (against torch's fuse_*_bn_eval), post-training quantization and QAT."""
import numpy as np
import pytest
import torch
from torch.nn.utils import fusion

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.compress import prune, qmodel
from deepnotes.compress.quantize import FakeQuantize


def trained_bn(layer, bn, x):
    """Run a few training batches so BN's running statistics are not the defaults."""
    model = nn.Sequential(layer, bn)
    model.train()
    for k in range(3):
        model(dn.tensor(x * (1 + k)))
    bn.weight.data[...] = np.linspace(0.5, 1.5, bn.weight.numpy().size)
    bn.bias.data[...] = np.linspace(-0.3, 0.3, bn.bias.numpy().size)
    return model.eval()


@pytest.mark.covers("P2")
@pytest.mark.parametrize("kind", ["linear", "conv1d", "conv2d"])
def test_fold_batchnorm_keeps_eval_outputs_and_matches_torch(kind):
    dn.manual_seed(0)
    rng = np.random.default_rng(0)
    if kind == "linear":
        layer, bn, x = nn.Linear(6, 5), nn.BatchNorm1d(5), rng.standard_normal((16, 6))
    elif kind == "conv1d":
        layer, bn, x = nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4), rng.standard_normal((8, 3, 10))
    else:
        layer, bn, x = nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4), rng.standard_normal((8, 3, 7, 7))
    x = x.astype(np.float32)
    model = trained_bn(layer, bn, x)
    folded = qmodel.fold_batchnorm(model)
    assert len(folded) == 1
    with dn.no_grad():
        np.testing.assert_allclose(folded(dn.tensor(x)).numpy(), model(dn.tensor(x)).numpy(), atol=1e-5, rtol=1e-5)
    tlayer = {"linear": torch.nn.Linear(6, 5), "conv1d": torch.nn.Conv1d(3, 4, 3, padding=1),
              "conv2d": torch.nn.Conv2d(3, 4, 3, stride=2)}[kind]
    tbn = torch.nn.BatchNorm1d(bn.num_features) if kind != "conv2d" else torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        for tm, m in ((tlayer, layer), (tbn, bn)):
            for k, v in tm.state_dict().items():
                if k in m.state_dict():
                    v.copy_(torch.from_numpy(np.asarray(m.state_dict()[k].numpy())))
    fuse = fusion.fuse_linear_bn_eval if kind == "linear" else fusion.fuse_conv_bn_eval
    tfused = fuse(tlayer.eval(), tbn.eval())
    np.testing.assert_allclose(folded[0].weight.numpy(), tfused.weight.detach().numpy(), atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(folded[0].bias.numpy(), tfused.bias.detach().numpy(), atol=1e-6, rtol=1e-5)


def small_mlp():
    dn.manual_seed(1)
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 4)).eval()


@pytest.mark.covers("P2")
def test_ptq_is_close_to_float_and_coarser_weights_are_worse():
    x = np.random.default_rng(2).standard_normal((128, 12)).astype(np.float32)
    model = small_mlp()
    with dn.no_grad():
        ref = model(dn.tensor(x)).numpy()
    errors = {}
    for bits in (8, 4, 2):
        q = qmodel.prepare(model, per_channel=True, weight_bits=bits)
        qmodel.calibrate(q, [x[:64], x[64:]])
        with dn.no_grad():
            errors[bits] = np.abs(q(dn.tensor(x)).numpy() - ref).max()
    assert errors[8] < 0.05 * np.abs(ref).max() and errors[8] < errors[4] < errors[2]
    assert isinstance(q[0], FakeQuantize) and not q[1].activation_post_process.observer_enabled


@pytest.mark.covers("P2")
def test_qat_trains_through_the_fake_quantizers():
    model = small_mlp()
    q = qmodel.prepare_qat(model)
    assert q.training and q[1].activation_post_process.observer_enabled
    x = dn.tensor(np.random.default_rng(3).standard_normal((32, 12)).astype(np.float32))
    out = q(x)
    out.sum().backward()
    grad = q[1].layer.weight.grad.numpy()
    assert grad is not None and np.abs(grad).sum() > 0
    assert not np.array_equal(q[1].quantized_weight().numpy(), q[1].layer.weight.numpy())  # weights are rounded


@pytest.mark.covers("P2")
def test_prepare_rejects_what_it_cannot_quantize():
    with pytest.raises(ValueError, match="prepare: cannot quantize a Sigmoid"):
        qmodel.prepare(nn.Sequential(nn.Linear(3, 3), nn.Sigmoid()))
    with pytest.raises(ValueError, match="fold_batchnorm: a BatchNorm1d must follow a Linear or Conv layer"):
        qmodel.fold_batchnorm(nn.Sequential(nn.BatchNorm1d(3)))
    with pytest.raises(ValueError, match="observer must be one of"):
        qmodel.prepare(small_mlp(), observer="histogram")
    pruned = small_mlp()
    prune.l1_unstructured(pruned[0], "weight", 0.5)
    with pytest.raises(ValueError, match="prepare: Linear carry forward pre-hooks"):
        qmodel.prepare(pruned)
    prune.remove(pruned[0], "weight")
    assert (qmodel.prepare(pruned)[1].layer.weight.numpy() == 0).sum() == round(0.5 * 12 * 16)
