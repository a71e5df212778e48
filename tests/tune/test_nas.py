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
def test_a_tiny_architecture_search_reports_size_and_latency(tmp_path):
    results, front = nas.search(n_trials=3, epochs=1, seed=0)
    rows = [r for r in results.rows() if r["status"] == "ok"]
    assert len(rows) == 3 and front and {r["trial"] for r in front} <= {r["trial"] for r in rows}
    assert front == nas.pareto_front(rows)
    for r in rows:
        model = nas.build({k: r[k] for k in ("depth", "width", "norm", "activation")}, 40, 10)
        assert r["params"] == sum(p.numel() for p in model.parameters()) and r["latency_ms"] > 0
    assert nas.plot_front(rows, front, tmp_path / "front.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="nas.build: norm must be"):
        nas.build({"depth": 1, "width": 4, "norm": "weightnorm", "activation": "ReLU"}, 3, 2)
