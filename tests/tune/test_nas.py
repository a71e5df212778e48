"""Architecture search: the Pareto front and a tiny search on MNIST-1D (P5)."""
import numpy as np
import pytest

from deepnotes.tune import nas


@pytest.mark.covers("P5")
def test_pareto_front_keeps_exactly_the_non_dominated_rows():
    rng = np.random.default_rng(0)
    rows = [{"value": float(a), "params": int(p)} for a, p in zip(rng.random(40), rng.integers(10, 1000, 40))]
    front = nas.pareto_front(rows)
    for r in rows:
        dominated = any(o["value"] >= r["value"] and o["params"] <= r["params"]
                        and (o["value"] > r["value"] or o["params"] < r["params"]) for o in rows)
        assert (r in front) == (not dominated)
    params = [r["params"] for r in front]
    values = [r["value"] for r in front]
    assert params == sorted(params) and values == sorted(values)  # bigger on the front only if better


@pytest.mark.covers("P5")
@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_build_makes_the_declared_architecture(kind):
    import deepnotes as dn
    import deepnotes.nn as nn

    config = {"kind": kind, "depth": 3, "width": 12, "channels": 5, "kernel_size": 5, "norm": "batchnorm",
              "activation": "GELU"}
    model = nas.build(config, 40, 10)
    assert model(dn.tensor(np.random.default_rng(0).random((4, 40), dtype=np.float32))).shape == (4, 10)
    if kind == "conv":
        convs = [m for m in model.modules() if isinstance(m, nn.Conv1d)]
        assert [tuple(c.weight.shape) for c in convs] == [(5, 1, 5), (5, 5, 5), (5, 5, 5)]
        # 40 -> 20 -> 10 -> 5 positions, 5 channels each, into the head
        assert sum(p.numel() for p in model.parameters()) == (5 * 5 + 5) + 2 * (5 * 5 * 5 + 5) + 3 * 2 * 5 + 25 * 10 + 10
        assert isinstance(nas.build({**config, "norm": "layernorm"}, 40, 10)[2], nn.GroupNorm)
    else:
        assert sum(p.numel() for p in model.parameters()) == (40 * 12 + 12) + 2 * (12 * 12 + 12) + 3 * 2 * 12 + 130
    with pytest.raises(ValueError, match="nas.build: norm must be"):
        nas.build({**config, "norm": "weightnorm"}, 40, 10)
    with pytest.raises(ValueError, match="nas.build: kind must be mlp or conv, got 'rnn'"):
        nas.build({**config, "kind": "rnn"}, 40, 10)
    with pytest.raises(ValueError, match="nas.build: kernel_size must be odd and >= 1, got 4"):
        nas.build({**config, "kind": "conv", "kernel_size": 4}, 40, 10)


@pytest.mark.covers("P5")
def test_a_tiny_automl_run_reports_size_latency_and_the_smaller_model(tmp_path):
    run = nas.automl(n_trials=4, epochs=1, seed=1, n_train=400)
    rows = [r for r in run["results"].rows() if r["status"] == "ok"]
    assert len(rows) == 4 and {r["kind"] for r in rows} == {"mlp", "conv"}
    assert run["front"] == nas.pareto_front(rows) and {r["trial"] for r in run["front"]} <= {r["trial"] for r in rows}
    keys = ("kind", "depth", "width", "channels", "kernel_size", "norm", "activation")
    for r in rows:
        assert r["params"] == sum(p.numel() for p in nas.build({k: r[k] for k in keys}, 40, 10).parameters())
        assert r["latency_ms"] > 0
    ref = run["reference"]
    assert ref["params"] == 40 * 256 + 256 + 256 * 256 + 256 + 2570
    found = run["found"]
    assert found == nas.smaller_at_equal_accuracy(rows, ref)
    if found is not None:
        assert found["value"] >= ref["value"] - 0.01 and run["params_ratio"] == found["params"] / ref["params"]
    table = nas.front_table(run["front"]).splitlines()
    assert len(table) == len(run["front"]) + 1 and table[0].split()[:2] == ["trial", "kind"]
    assert nas.plot_front(rows, run["front"], tmp_path / "front.png", ref).stat().st_size > 1000


@pytest.mark.covers("P5")
def test_smaller_at_equal_accuracy_picks_the_fewest_parameters_within_tolerance():
    rows = [{"value": 0.80, "params": 500}, {"value": 0.795, "params": 50}, {"value": 0.70, "params": 5}]
    assert nas.smaller_at_equal_accuracy(rows, {"value": 0.80}) == rows[1]
    assert nas.smaller_at_equal_accuracy(rows, {"value": 0.80}, tolerance=0.0) == rows[0]
    assert nas.smaller_at_equal_accuracy(rows, {"value": 0.95}) is None
