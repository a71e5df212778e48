"""Every fast path against the reference path it replaces: the benchmark workloads W1-W5 and a
claims-sized MLP, run with `dn.set_fast_paths(True)` and `(False)`: the same outputs (training
and inference) and the same gradient for every parameter."""
import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
import deepnotes.nn.functional as F
from deepnotes import fast
from deepnotes.bench import workloads

EXPECTED = {"adam_axpby", "feed_forward_chain", "max_pool_tiles", "mean_cross_entropy", "recurrent_inference",
            "sequential_relu_in_place", "sgd_axpby", "transformer_encoder_inference"}


def _claims_sized_mlp():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))


def _build(name):
    dn.manual_seed(0)
    if name == "claims-MLP":
        rng = np.random.default_rng(0)
        return _claims_sized_mlp(), rng.standard_normal((32, 64)).astype(np.float32), rng.integers(0, 10, 32)
    model, x, y, _ = workloads.build("deepnotes", name, scale=0.25)
    return model, x, y


def _run(name, enabled):
    """Loss, gradients (training mode) and the inference output, with fast paths on or off."""
    dn.set_fast_paths(enabled)
    try:
        model, x, y = _build(name)
        model.double()
        x = x.astype(np.float64)
        dn.manual_seed(1)  # the same dropout masks both ways
        loss = F.cross_entropy(model(dn.tensor(x)), dn.tensor(y))
        loss.backward()
        grads = {k: np.array(p.grad.numpy()) for k, p in model.named_parameters()}
        model.eval()
        with dn.no_grad():
            inference = model(dn.tensor(x)).numpy().copy()
        return float(loss.numpy()), grads, inference
    finally:
        dn.set_fast_paths(True)


def test_the_registry_lists_every_shortcut_and_what_it_replaces():
    paths = {p.name: p for p in fast.registered()}
    assert set(paths) == EXPECTED
    assert all(p.replaces.startswith("deepnotes.") for p in paths.values())


@pytest.mark.parametrize("name", ["W1", "W2", "W3", "W4", "W5", "claims-MLP"])
def test_workload_gives_the_same_numbers_with_and_without_fast_paths(name):
    fast_loss, fast_grads, fast_out = _run(name, True)
    ref_loss, ref_grads, ref_out = _run(name, False)
    np.testing.assert_allclose(fast_loss, ref_loss, rtol=1e-12)
    assert fast_grads.keys() == ref_grads.keys()
    for key in ref_grads:
        np.testing.assert_allclose(fast_grads[key], ref_grads[key], rtol=1e-10, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(fast_out, ref_out, rtol=1e-10, atol=1e-12)


def test_the_switch_really_switches(monkeypatch):
    """With fast paths off no shortcut runs; with them on each workload's shortcut does."""
    called = []
    for path in fast.registered():
        original = path.function
        monkeypatch.setitem(fast._PATHS, path.name, fast.FastPath(
            path.name, path.replaces, lambda *a, _f=original, _n=path.name, **k: called.append(_n) or _f(*a, **k)))
    for enabled in (False, True):
        called.clear()
        dn.set_fast_paths(enabled)
        try:
            for name in ("W1", "W2", "W3", "W4"):
                model, x, y = _build(name)
                F.cross_entropy(model(dn.tensor(x)), dn.tensor(y)).backward()
                for optimizer in (dn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                                  dn.optim.AdamW(model.parameters())):
                    optimizer.step()
                model.eval()
                with dn.no_grad():
                    model(dn.tensor(x))
        finally:
            dn.set_fast_paths(True)
        assert set(called) == (EXPECTED if enabled else set())


def test_disabled_context_and_environment_variable(tmp_path):
    assert dn.fast_paths_enabled()
    with fast.disabled():
        assert not dn.fast_paths_enabled() and fast.get("mean_cross_entropy") is None
    assert dn.fast_paths_enabled() and fast.get("mean_cross_entropy") is not None
    import os
    import subprocess
    import sys
    from pathlib import Path
    src = str(Path(dn.__file__).resolve().parents[1])  # this checkout's package, first on the path
    env = {**os.environ, "DEEPNOTES_FAST_PATHS": "0", "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", "import deepnotes as dn; print(dn.fast_paths_enabled())"],
                         env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
