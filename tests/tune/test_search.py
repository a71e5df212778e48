"""Search spaces, grid / random / Bayesian search, successive halving and ASHA (H1)."""
import math

import numpy as np
import pytest

from deepnotes import tune
from deepnotes.tune import halving, objectives
from deepnotes.tune.space import Space, choice, loguniform, parse_dimension, randint, uniform
from tests.doctests import assert_examples_run


@pytest.mark.covers("H1")
def test_space_docstring_examples_run():
    assert_examples_run("deepnotes.tune.space")


@pytest.mark.covers("H1")
def test_dimensions_map_the_unit_interval_with_bounds_and_log_scale():
    lr = loguniform(1e-4, 1e-1)
    assert lr.from_unit(0.0) == pytest.approx(1e-4) and lr.from_unit(1.0) == pytest.approx(1e-1)
    assert lr.from_unit(0.5) == pytest.approx(math.sqrt(1e-4 * 1e-1))  # geometric, not arithmetic, midpoint
    assert uniform(-1, 3).from_unit(0.25) == pytest.approx(0.0)
    for u in np.linspace(0, 1, 7):
        assert lr.to_unit(lr.from_unit(u)) == pytest.approx(u)
    ints = randint(2, 5)  # high excluded, as numpy
    assert sorted({ints.from_unit(u) for u in np.linspace(0, 1, 101)}) == [2, 3, 4]
    assert choice(["a", "b", "c"]).grid() == ["a", "b", "c"]
    assert loguniform(1, 100).grid(3) == pytest.approx([1, 10, 100])
    with pytest.raises(ValueError, match=r"loguniform: low must be > 0.*got -1"):
        loguniform(-1, 1)
    with pytest.raises(ValueError, match=r"uniform: need finite low < high, got low=2.0, high=1.0"):
        uniform(2, 1)


@pytest.mark.covers("H1")
def test_parse_dimension_reads_the_command_line_form():
    name, dim = parse_dimension("lr=loguniform(1e-4,1e-1)")
    assert name == "lr" and isinstance(dim, loguniform) and (dim.low, dim.high) == (1e-4, 1e-1)
    assert parse_dimension("act=choice(relu, tanh)")[1].options == ["relu", "tanh"]
    assert parse_dimension("width=randint(16,257)")[1].high == 257
    with pytest.raises(ValueError, match="parse_dimension: expected"):
        parse_dimension("lr=gaussian(0,1)")


@pytest.mark.covers("H1")
def test_grid_counts_and_nested_spaces():
    space = {"lr": loguniform(1e-3, 1e-1), "net": {"width": randint(8, 12), "act": choice(["relu", "tanh"])},
             "epochs": 3}
    grid = tune.GridSearch(space, resolution=3)
    configs = []
    while (c := grid.ask()) is not None:
        configs.append(c)
    assert len(configs) == len(grid) == 3 * 3 * 2  # resolution 3 for the integer too (it has 4 values)
    assert all(c["epochs"] == 3 and set(c["net"]) == {"width", "act"} for c in configs)
    assert sorted({c["lr"] for c in configs}) == pytest.approx([1e-3, 1e-2, 1e-1])
    widths = {c["net"]["width"] for c in configs}
    assert len(widths) == 3 and {8, 11} <= widths <= {8, 9, 10, 11}
    assert len({(c["lr"], c["net"]["width"], c["net"]["act"]) for c in configs}) == 18
    assert len(tune.GridSearch({"k": randint(0, 3)}, resolution=10)) == 3  # never more points than integers


@pytest.mark.covers("H1")
@pytest.mark.parametrize("sobol", [False, True])
def test_random_search_is_seeded_within_bounds_and_log_uniform(sobol):
    space = Space({"lr": loguniform(1e-5, 1e-1), "x": uniform(0, 1), "k": randint(0, 3)})
    draws = [tune.RandomSearch(space, seed=3, sobol=sobol).ask() for _ in range(2)]
    assert draws[0] == draws[1]
    searcher = tune.RandomSearch(space, seed=3, sobol=sobol)
    configs = [searcher.ask() for _ in range(512)]
    lr = np.array([c["lr"] for c in configs])
    assert lr.min() >= 1e-5 and lr.max() <= 1e-1 and {c["k"] for c in configs} == {0, 1, 2}
    # log-uniform: each decade gets about a quarter of the draws (uniform would put 90% in the top one)
    decades = np.histogram(np.log10(lr), bins=[-5, -4, -3, -2, -1])[0] / len(lr)
    assert np.all(np.abs(decades - 0.25) < 0.07)
    assert tune.RandomSearch(space, seed=4, sobol=sobol).ask() != configs[0]


@pytest.mark.covers("H1")
def test_bayesian_optimization_finds_branins_minimum_on_most_seeds():
    regrets, random_regrets = [], []
    for seed in range(3):
        bo = tune.run(objectives.branin, objectives.branin_space(), searcher="bo", n_trials=25, seed=seed)
        rnd = tune.run(objectives.branin, objectives.branin_space(), searcher="random", n_trials=25, seed=seed)
        regrets.append(bo.best["value"] - objectives.BRANIN_MIN)
        random_regrets.append(rnd.best["value"] - objectives.BRANIN_MIN)
        x = (bo.best["config"]["x1"], bo.best["config"]["x2"])
        assert min(math.dist(x, m) for m in objectives.BRANIN_ARGMINS) < 3.0  # near one of the three minima
    assert sum(r < 0.15 for r in regrets) >= 2
    assert np.median(regrets) < np.median(random_regrets)


@pytest.mark.covers("H1")
def test_results_table_exports_and_plots(tmp_path):
    results = tune.run(objectives.branin, objectives.branin_space(), searcher="random", n_trials=8, seed=0)
    values = results.values()
    assert results.best["value"] == values.min()
    np.testing.assert_array_equal(results.running_best(), np.minimum.accumulate(values))
    assert len(results.table().splitlines()) == 9
    doc = __import__("json").loads(results.to_json(tmp_path / "t.json").read_text())
    assert doc["best"]["value"] == results.best["value"] and len(doc["trials"]) == 8
    assert results.to_csv(tmp_path / "t.csv").read_text().splitlines()[0] == "trial,x1,x2,value,seconds,status"
    assert results.plot(tmp_path / "t.png").stat().st_size > 1000
    assert results.plot_gp(tmp_path / "gp.png").stat().st_size > 1000
    assert results.plot_gp(tmp_path / "gp1.png", dims=["x1"]).stat().st_size > 1000


def _failing(config):
    if config["x1"] > 5:
        raise RuntimeError("boom")
    return objectives.branin(config)


@pytest.mark.covers("H1")
def test_a_failing_trial_is_recorded_and_the_search_goes_on():
    results = tune.run(_failing, objectives.branin_space(), searcher="random", n_trials=10, seed=0)
    statuses = [t["status"] for t in results.trials]
    assert "error" in statuses and "ok" in statuses and len(statuses) == 10
    assert all("boom" in t["error"] for t in results.trials if t["status"] == "error")


@pytest.mark.covers("H1")
def test_successive_halving_keeps_the_top_third_and_asha_promotes():
    def objective(config, resource):  # a noisy early value that converges to (x - 0.3)^2
        return (config["x"] - 0.3) ** 2 + 1.0 / resource * math.sin(40 * config["x"]) ** 2

    space = {"x": uniform(0, 1)}
    sh = halving.successive_halving(objective, space, n_configs=27, min_resource=1, max_resource=9, eta=3)
    assert [len(r) for r in sh["rungs"]] == [27, 9, 3]
    assert [r[0]["resource"] for r in sh["rungs"]] == [1, 3, 9]
    survivors = {id(t["config"]) for t in sh["rungs"][1]}
    best_first = sorted(sh["rungs"][0], key=lambda t: t["value"])[:9]
    assert survivors == {id(t["config"]) for t in best_first}
    assert sh["cost"] == 27 + 27 + 27 < 27 * 9
    result = halving.asha(objective, space, n_trials=27, min_resource=1, max_resource=9, eta=3)
    counts = [len(r) for r in result["rungs"]]
    assert counts[0] == 27 and 0 < counts[2] <= counts[1] <= 27 // 3 + 1
    assert abs(result["best"]["config"]["x"] - 0.3) < 0.15
    assert halving.rungs(1, 27, 3) == [1, 3, 9, 27]
    with pytest.raises(ValueError, match="rungs: need"):
        halving.rungs(0, 9, 3)


def _mixed(config):
    return (config["k"] - 3) ** 2 + (0.0 if config["act"] == "b" else 1.0) + (math.log10(config["lr"]) + 2) ** 2


@pytest.mark.covers("H1")
def test_bo_hands_integers_and_choices_to_the_objective():
    space = {"k": randint(0, 8), "act": choice(["a", "b", "c"]), "lr": loguniform(1e-4, 1e-1)}
    results = tune.run(_mixed, space, searcher="bo", n_trials=12, seed=0, n_initial=4, acquisition="ucb")
    for t in results.trials:
        assert isinstance(t["config"]["k"], int) and 0 <= t["config"]["k"] < 8 and t["config"]["act"] in "abc"
    assert results.best["value"] <= min(t["value"] for t in results.trials[:4])
    with pytest.raises(ValueError, match="BayesianOptimization: acquisition must be 'ei' or 'ucb', got 'pi'"):
        tune.BayesianOptimization(space, acquisition="pi")
