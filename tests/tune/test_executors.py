"""Trials on the local, process-pool and Ray executors give identical results for the same seeds (H1)."""
import pytest

from deepnotes import tune
from deepnotes.tune import objectives
from deepnotes.tune.executors import make_trial_executor


def _values(results):
    return [(t["trial"], t["config"], t["value"]) for t in results.trials]


@pytest.mark.covers("H1")
def test_process_pool_gives_the_local_results():
    local = tune.run(objectives.hartmann6, objectives.hartmann6_space(), searcher="random", n_trials=12, seed=5)
    pooled = tune.run(objectives.hartmann6, objectives.hartmann6_space(), searcher="random", n_trials=12, seed=5,
                      executor="process", jobs=2)
    assert _values(pooled) == _values(local)
    other = tune.run(objectives.hartmann6, objectives.hartmann6_space(), searcher="random", n_trials=12, seed=6)
    assert _values(other) != _values(local)


@pytest.mark.covers("H1")
def test_ray_gives_the_local_results():
    ray = pytest.importorskip("ray")
    local = tune.run(objectives.branin, objectives.branin_space(), searcher="random", n_trials=6, seed=2)
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 1024**2, log_to_driver=False)
    try:
        remote = tune.run(objectives.branin, objectives.branin_space(), searcher="random", n_trials=6, seed=2,
                          executor="ray", jobs=2)
        # BO keeps 2 trials in flight on Ray: both get distinct points (constant liar), all finish
        bo = tune.run(objectives.branin, objectives.branin_space(), searcher="bo", n_trials=8, seed=2,
                      executor="ray", jobs=2)
        # ASHA on 2 Ray workers: every config starts at rung 0, the top third of each rung moves up
        asha = tune.asha(objectives.branin_at_fidelity, objectives.branin_space(), n_trials=9, min_resource=1,
                         max_resource=9, eta=3, seed=2, executor="ray", jobs=2)
    finally:
        ray.shutdown()
    assert _values(remote) == _values(local)
    configs = [tuple(t["config"].values()) for t in bo.trials]
    assert len(set(configs)) == 8 and all(t["status"] == "ok" for t in bo.trials)
    counts = [len(r) for r in asha["rungs"]]
    assert counts[0] == 9 and 1 <= counts[2] <= counts[1] <= 3 and asha["best"]["resource"] == 9
    assert asha["best"]["value"] == objectives.branin_at_fidelity(asha["best"]["config"], 9)


@pytest.mark.covers("H1")
def test_make_trial_executor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="make_trial_executor: executor must be one of"):
        make_trial_executor("cluster")
    with pytest.raises(ValueError, match="make_trial_executor: jobs must be >= 1, got 0"):
        make_trial_executor("process", 0)
