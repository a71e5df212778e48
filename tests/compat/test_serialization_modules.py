"""deepnotes.save / load (no pickle) and Module conveniences, against PyTorch's behaviour."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes.serialization import add_safe_globals, safe_globals
from tests.oracle import assert_close, check_fn, check_module


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4, 2)
        self.register_buffer("calls", dn.zeros(1))
        self.register_buffer("scratch", dn.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(F.relu(self.conv1(x)).mean((2, 3)))


class TorchTinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3)
        self.fc = torch.nn.Linear(4, 2)
        self.register_buffer("calls", torch.zeros(1))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)


def test_checkpoint_dict_round_trip(tmp_path):
    model = TinyNet()
    opt = dn.optim.Adam(model.parameters(), lr=1e-3)
    model(dn.randn(2, 1, 5, 5)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    dn.save({"epoch": 3, "model": model.state_dict(), "optim": opt.state_dict(), "note": "ok", "arr": np.arange(3)},
            path)
    loaded = dn.load(path, map_location="cpu", weights_only=True)
    assert loaded["epoch"] == 3 and loaded["note"] == "ok" and loaded["arr"].tolist() == [0, 1, 2]
    assert list(loaded["model"]) == list(model.state_dict()) and isinstance(loaded["model"]["fc.weight"], dn.Tensor)
    clone = TinyNet()
    clone_opt = dn.optim.Adam(clone.parameters(), lr=1e-3)
    assert clone.load_state_dict(loaded["model"]) == ([], [])
    clone_opt.load_state_dict(loaded["optim"])
    for a, b in zip(model.parameters(), clone.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(NotImplementedError, match="CPU only"):
        dn.load(path, map_location="cuda:0")


def test_file_objects_and_whole_model_with_safe_globals():
    model = TinyNet()
    buffer = io.BytesIO()
    dn.save(model, buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="TinyNet.*add_safe_globals"):
        dn.load(buffer)
    with safe_globals([TinyNet]):
        buffer.seek(0)
        rebuilt = dn.load(buffer)
    assert isinstance(rebuilt, TinyNet) and repr(rebuilt) == repr(model)
    x = dn.randn(2, 1, 5, 5)
    np.testing.assert_array_equal(rebuilt(x).data, model(x).data)
    add_safe_globals([TinyNet])
    buffer.seek(0)
    assert isinstance(dn.load(buffer), TinyNet)
    dn.serialization.clear_safe_globals()


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="cannot save function"):
        dn.save({"f": lambda x: x}, tmp_path / "bad.pt")
    with pytest.raises(NotImplementedError, match="never pickles"):
        dn.save({}, tmp_path / "x.pt", pickle_module=object())


def test_state_dict_keys_and_load_errors_like_torch():
    ours, theirs = TinyNet(), TorchTinyNet()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    bad = {k: v for k, v in ours.state_dict().items() if k != "fc.bias"}
    bad["extra"] = dn.zeros(1)
    for model, state in ((ours, bad), (theirs, {k: torch.tensor(v.numpy()) for k, v in bad.items()})):
        with pytest.raises(RuntimeError):
            model.load_state_dict(state)
        result = model.load_state_dict(state, strict=False)
        assert list(result.missing_keys) == ["fc.bias"] and list(result.unexpected_keys) == ["extra"]


def test_printing_matches_torch():
    assert repr(TinyNet()) == repr(TorchTinyNet()).replace("TorchTinyNet", "TinyNet")
    for ours, theirs in ((nn.Conv2d(1, 32, 3, 1), torch.nn.Conv2d(1, 32, 3, 1)),
                         (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Flatten()),
                          torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Flatten())),
                         (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
                         (nn.LSTM(3, 4, batch_first=True), torch.nn.LSTM(3, 4, batch_first=True))):
        assert repr(ours) == repr(theirs)


def test_module_to_cpu_half_and_apply():
    model = TinyNet()
    assert model.to("cpu") is model and model.cpu() is model and model.to(dn.device("cpu")) is model
    assert model.to("cpu", dn.float64).fc.weight.dtype == np.float64
    assert model.half().conv1.weight.dtype == np.float16
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Conv2d", "Linear", "TinyNet"]
    with pytest.raises(NotImplementedError, match="CPU only"):
        model.cuda()


def test_parameter_containers_and_unflatten_match_torch():
    (x,) = np.random.default_rng(0).normal(size=(1, 4, 6))
    check_module(nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), [x])
    plist = nn.ParameterList([dn.ones(2), dn.zeros(3)])
    tlist = torch.nn.ParameterList([torch.ones(2), torch.zeros(3)])
    assert list(plist.state_dict()) == list(tlist.state_dict()) and len(plist) == 2
    pdict = nn.ParameterDict({"a": dn.ones(2)})
    pdict["b"] = dn.zeros(1)
    assert list(pdict.state_dict()) == ["a", "b"] and "b" in pdict
    assert isinstance(plist[1], nn.Parameter) and plist[1].requires_grad


def test_backward_hooks_receive_tensors():
    layer = nn.Linear(3, 2)
    seen = []
    handle = layer.register_full_backward_hook(lambda m, gin, gout: seen.append((type(gin[0]), gout[0].norm())))
    layer(dn.randn(4, 3, requires_grad=True)).sum().backward()
    handle.remove()
    assert seen and seen[0][0] is dn.Tensor and isinstance(seen[0][1], dn.Tensor)


@pytest.mark.parametrize("num_classes", [-1, 7])
def test_one_hot_and_pad_match_torch(num_classes):
    labels = np.random.default_rng(1).integers(0, 5, (3, 4))
    assert_close(F.one_hot(dn.tensor(labels), num_classes), torch.nn.functional.one_hot(torch.tensor(labels),
                                                                                        num_classes), "one_hot")
    (x,) = np.random.default_rng(2).normal(size=(1, 2, 4, 5))
    for mode, pads in (("constant", (1, 2, 0, 1)), ("reflect", (2, 1, 1, 2)), ("replicate", (1, 1, 2, 0)),
                       ("circular", (1, 2, 1, 1)), ("constant", (-1, 2, 1, -2))):
        value = 0.5 if mode == "constant" else None
        check_fn(lambda a: F.pad(a, pads, mode, value), lambda a: torch.nn.functional.pad(a, pads, mode, value), [x])


@pytest.mark.parametrize("dim", [1, -1])
def test_normalize_and_cosine_similarity_match_torch(dim):
    a, b = np.random.default_rng(3).normal(size=(2, 4, 5))
    check_fn(lambda u: F.normalize(u, dim=dim), lambda u: torch.nn.functional.normalize(u, dim=dim), [a])
    check_fn(lambda u: F.normalize(u, p=1, dim=dim), lambda u: torch.nn.functional.normalize(u, p=1, dim=dim), [a])
    check_fn(lambda u, v: F.cosine_similarity(u, v, dim), lambda u, v: torch.nn.functional.cosine_similarity(u, v, dim),
             [a, b])
    check_fn(lambda u, v: F.pairwise_distance(u, v), lambda u, v: torch.nn.functional.pairwise_distance(u, v), [a, b])


def test_qualified_names_resolve_to_the_same_classes():
    import deepnotes.nn.modules.linear
    import deepnotes.utils.data
    from deepnotes.nn.modules.rnn import LSTM

    assert LSTM is nn.LSTM and deepnotes.nn.modules.linear.Linear is nn.Linear
    assert deepnotes.utils.data.DataLoader is dn.data.DataLoader
    with pytest.raises(NotImplementedError, match="ONNX export is not supported"):
        dn.onnx.export(TinyNet(), dn.zeros(1, 1, 5, 5), "model.onnx")


@pytest.mark.covers("A1")
@pytest.mark.parametrize("name,kwargs", [("SiLU", {}), ("Mish", {}), ("Softplus", {}), ("Softplus", {"beta": 2.0,
                                         "threshold": 3.0}), ("Hardtanh", {"min_val": -0.5, "max_val": 1.5}),
                                         ("ReLU6", {}), ("LogSigmoid", {}), ("Softsign", {})])
def test_more_activations_match_torch(name, kwargs):
    (x,) = np.random.default_rng(4).uniform(-8, 8, size=(1, 5, 7))
    check_module(getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), [x])
    assert repr(getattr(nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**kwargs))
