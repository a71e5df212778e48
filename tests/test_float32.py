"""float32 in -> float32 out, everywhere: no silent float64 upcast in any layer family or optimizer.

A float64 temporary inside an op is invisible in the result when the op casts
back, but it doubles the memory traffic and slows the op down; so besides the
dtypes of outputs and gradients, every `Function` (forward, and backward) is
watched while the layer runs: an op whose floating inputs are all float32 must
produce float32.
"""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import optim
from deepnotes.autograd import function as function_module

F32 = np.float32


def _all_functions(cls=function_module.Function):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_functions(sub)


@pytest.fixture
def upcasts(monkeypatch):
    """Record every op that turns float32 inputs into a float64 output (forward) or gradient (backward)."""
    found = []
    original_apply = function_module.Function.apply.__func__

    def apply(cls, *inputs, **params):
        out = original_apply(cls, *inputs, **params)
        dtypes = {np.asarray(getattr(t, "data", t)).dtype for t in inputs}
        floats = {d for d in dtypes if d.kind == "f"}
        if floats == {np.dtype(F32)} and out.dtype == np.float64:
            found.append(f"{cls.__name__}.forward")
        return out

    monkeypatch.setattr(function_module.Function, "apply", classmethod(apply))
    for cls in set(_all_functions()):
        if "backward" not in cls.__dict__:
            continue

        def backward(ctx, grad, _inner=cls.__dict__["backward"].__func__, _name=cls.__name__):
            grads = _inner(ctx, grad)
            if getattr(grad, "dtype", None) == F32:
                for g in grads if isinstance(grads, tuple) else (grads,):
                    if getattr(g, "dtype", None) == np.float64:
                        found.append(f"{_name}.backward")
            return grads

        monkeypatch.setattr(cls, "backward", staticmethod(backward))
    return found


def _float_arrays(out):
    if isinstance(out, dn.Tensor):
        return [out] if out.dtype.kind == "f" else []
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in _float_arrays(item)]
    return []


def _rand(*shape, seed=0):
    return dn.tensor(np.random.default_rng(seed).standard_normal(shape).astype(F32), requires_grad=True)


def _run(module, *inputs, train=True):
    """Forward, check float32 outputs, backward a random weighting of them, check every gradient."""
    module.train(train)
    outs = _float_arrays(module(*inputs))
    assert outs, "no floating output"
    for out in outs:
        assert out.dtype == F32, f"output dtype {out.dtype}"
    rng = np.random.default_rng(1)
    loss = sum((o * dn.tensor(rng.uniform(0.5, 1.5, o.shape).astype(F32))).sum() for o in outs if o.requires_grad)
    loss.backward()
    for x in inputs:
        if isinstance(x, dn.Tensor) and x.requires_grad:
            assert x.grad is not None and x.grad.dtype == F32, f"input gradient dtype {getattr(x.grad, 'dtype', None)}"
    for name, p in module.named_parameters():
        if p.grad is not None:
            assert p.grad.dtype == F32, f"{name}.grad dtype {p.grad.dtype}"
        assert p.dtype == F32, f"parameter {name} dtype {p.dtype}"


def _tokens(*shape, high=10):
    return dn.tensor(np.random.default_rng(2).integers(0, high, size=shape))


LAYERS = {
    "linear": lambda: (nn.Linear(6, 4), _rand(3, 5, 6)),
    "relu": lambda: (nn.ReLU(), _rand(4, 5)),
    "leaky_relu": lambda: (nn.LeakyReLU(0.1), _rand(4, 5)),
    "prelu": lambda: (nn.PReLU(3), _rand(2, 3, 4)),
    "elu": lambda: (nn.ELU(), _rand(4, 5)),
    "gelu": lambda: (nn.GELU(), _rand(4, 5)),
    "gelu_tanh": lambda: (nn.GELU("tanh"), _rand(4, 5)),
    "sigmoid": lambda: (nn.Sigmoid(), _rand(4, 5)),
    "tanh": lambda: (nn.Tanh(), _rand(4, 5)),
    "softmax": lambda: (nn.Softmax(dim=1), _rand(4, 5)),
    "log_softmax": lambda: (nn.LogSoftmax(dim=1), _rand(4, 5)),
    "conv1d": lambda: (nn.Conv1d(3, 4, 3, stride=2, padding=1), _rand(2, 3, 9)),
    "conv2d": lambda: (nn.Conv2d(2, 4, 3, padding=1, groups=2), _rand(2, 2, 6, 6)),
    "conv2d_dilated": lambda: (nn.Conv2d(2, 3, 3, dilation=2, padding="same"), _rand(2, 2, 7, 7)),
    "conv_transpose1d": lambda: (nn.ConvTranspose1d(3, 2, 3, stride=2), _rand(2, 3, 5)),
    "conv_transpose2d": lambda: (nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
                                 _rand(2, 2, 4, 4)),
    "max_pool2d_tiles": lambda: (nn.MaxPool2d(2), _rand(2, 3, 6, 7)),
    "max_pool2d_general": lambda: (nn.MaxPool2d(3, 2, padding=1), _rand(2, 3, 7, 7)),
    "max_pool1d": lambda: (nn.MaxPool1d(2), _rand(2, 3, 8)),
    "avg_pool2d": lambda: (nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), _rand(2, 3, 7, 7)),
    "adaptive_avg_pool2d": lambda: (nn.AdaptiveAvgPool2d((3, 2)), _rand(2, 3, 7, 5)),
    "adaptive_max_pool2d": lambda: (nn.AdaptiveMaxPool2d(3), _rand(2, 3, 7, 5)),
    "upsample_bilinear": lambda: (nn.Upsample(scale_factor=2, mode="bilinear"), _rand(1, 2, 3, 4)),
    "upsample_nearest": lambda: (nn.Upsample(size=(5, 7)), _rand(1, 2, 3, 4)),
    "batch_norm1d": lambda: (nn.BatchNorm1d(4), _rand(5, 4)),
    "batch_norm2d": lambda: (nn.BatchNorm2d(3), _rand(4, 3, 5, 5)),
    "layer_norm": lambda: (nn.LayerNorm(6), _rand(3, 4, 6)),
    "group_norm": lambda: (nn.GroupNorm(2, 4), _rand(3, 4, 5)),
    "instance_norm2d": lambda: (nn.InstanceNorm2d(3, affine=True), _rand(2, 3, 4, 4)),
    "dropout": lambda: (nn.Dropout(0.3), _rand(4, 5)),
    "dropout2d": lambda: (nn.Dropout2d(0.3), _rand(2, 3, 4, 4)),
    "alpha_dropout": lambda: (nn.AlphaDropout(0.3), _rand(4, 5)),
    "locked_dropout": lambda: (nn.LockedDropout(0.3), _rand(5, 2, 4)),
    "drop_connect": lambda: (nn.DropConnectLinear(5, 3, p=0.3), _rand(4, 5)),
    "rnn": lambda: (nn.RNN(3, 4, num_layers=2, bidirectional=True), _rand(5, 2, 3)),
    "lstm": lambda: (nn.LSTM(3, 4, batch_first=True), _rand(2, 5, 3)),
    "gru": lambda: (nn.GRU(3, 4), _rand(5, 2, 3)),
    "lstm_cell": lambda: (nn.LSTMCell(3, 4), _rand(2, 3)),
    "gru_cell": lambda: (nn.GRUCell(3, 4), _rand(2, 3)),
    "zoneout_lstm": lambda: (nn.Zoneout(nn.LSTM(3, 4), p_h=0.2, p_c=0.1), _rand(5, 2, 3)),
    "recurrent_dropout_gru": lambda: (nn.RecurrentDropout(nn.GRU(3, 4), p=0.3), _rand(5, 2, 3)),
    "multihead_attention": lambda: (_SelfAttention(), _rand(2, 5, 8)),
    "transformer_encoder_layer": lambda: (nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                                                     batch_first=True), _rand(2, 5, 8)),
    "embedding": lambda: (nn.Embedding(10, 4), _tokens(3, 5)),
    "embedding_bag": lambda: (nn.EmbeddingBag(10, 4, mode="mean"), _tokens(3, 5)),
    "residual_block": lambda: (nn.ResidualBlock(3, 4, stride=2), _rand(2, 3, 6, 6)),
    "sequential_cnn": lambda: (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                             nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(36, 3)),
                               _rand(2, 1, 6, 6)),
}


class _SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x)


@pytest.mark.covers("E1")
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_layer_keeps_float32_forward_and_backward(name, train, upcasts):
    dn.manual_seed(0)
    module, x = LAYERS[name]()
    _run(module, x, train=train)
    assert not upcasts, f"{name}: float64 inside {sorted(set(upcasts))}"


LOSSES = {
    "cross_entropy": (nn.CrossEntropyLoss(label_smoothing=0.1), lambda: _tokens(4, high=3), (4, 3)),
    "cross_entropy_weighted": (nn.CrossEntropyLoss(weight=dn.tensor(np.array([1.0, 2.0, 0.5], F32)),
                                                   label_smoothing=0.2, ignore_index=1), lambda: _tokens(4, high=3),
                               (4, 3)),
    "nll": (nn.NLLLoss(), lambda: _tokens(4, high=3), (4, 3)),
    "mse": (nn.MSELoss(), lambda: _rand(4, 3, seed=5).detach(), (4, 3)),
    "l1": (nn.L1Loss(), lambda: _rand(4, 3, seed=5).detach(), (4, 3)),
    "huber": (nn.HuberLoss(delta=0.5), lambda: _rand(4, 3, seed=5).detach(), (4, 3)),
    "smooth_l1": (nn.SmoothL1Loss(beta=0.5), lambda: _rand(4, 3, seed=5).detach(), (4, 3)),
    "bce_with_logits": (nn.BCEWithLogitsLoss(), lambda: dn.tensor((np.arange(12) % 2).reshape(4, 3).astype(F32)),
                        (4, 3)),
    "kl_div": (nn.KLDivLoss(reduction="batchmean"), lambda: dn.tensor(np.full((4, 3), 1 / 3, F32)), (4, 3)),
}


@pytest.mark.covers("L1")
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_keeps_float32(name, upcasts):
    loss_fn, target, shape = LOSSES[name]
    x = _rand(*shape)
    inputs = F.log_softmax(x, dim=1) if name == "kl_div" else x
    loss = loss_fn(inputs, target())
    assert loss.dtype == F32
    loss.backward()
    assert x.grad.dtype == F32
    assert not upcasts, f"{name}: float64 inside {sorted(set(upcasts))}"


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "sgd_nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-3),
    "adam_amsgrad": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
    "nadam": lambda p: optim.NAdam(p, lr=1e-2),
    "adagrad": lambda p: optim.Adagrad(p, lr=1e-2),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.9, centered=True),
}


@pytest.mark.covers("O1")
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_state_and_parameters_stay_float32(name):
    dn.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = OPTIMIZERS[name](model.parameters())
    x, y = _rand(8, 5).detach(), _tokens(8, high=2)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    for p in model.parameters():
        assert p.dtype == F32 and p.grad.dtype == F32
        for key, value in opt.state[p].items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                assert value.dtype == F32, f"{name}: state {key!r} has dtype {value.dtype}"
