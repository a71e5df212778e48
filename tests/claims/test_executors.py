"""Executors: the same seeds give bit-identical results in-process, in a process pool and on Ray."""
import json

import pytest

from deepnotes.claims import executors
from deepnotes.claims.executors import Task, make_executor
from deepnotes.claims.lab import normalize, run_claims


def metrics_and_effects(evidence):
    return [(r["seed"], r["metrics"], r["effects"], r["series"]) for r in evidence.results]


def run_on(kind, jobs, out, **kw):
    lab = run_claims(["K99"], budget="tiny", seeds=3, seed_offset=4, executor=kind, jobs=jobs, out=out,
                     figures=False, force=True, **kw)
    assert lab.ok, lab.errors
    return lab.evidence["K99"]


def test_local_and_process_pool_agree_bit_for_bit(fake_claim, tmp_path):
    local = run_on("local", 1, tmp_path / "local")
    pooled = run_on("process", 2, tmp_path / "process")
    assert local.seeds == pooled.seeds == [4, 5, 6]
    assert metrics_and_effects(local) == metrics_and_effects(pooled)  # == on floats: bit-identical
    assert local.criteria == pooled.criteria


def test_ray_agrees_bit_for_bit(fake_claim, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'deepnotes[ray]')")
    local = run_on("local", 1, tmp_path / "local")
    for attempt in (1, 2):  # Ray gives its raylet 30 s to register: a busy machine may need a second try
        try:
            ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 1024**2, log_to_driver=False)
            break
        except Exception as exc:  # noqa: BLE001 - Ray raises a bare Exception on a startup timeout
            ray.shutdown()
            if attempt == 2 or "timed out during startup" not in str(exc):
                raise
    try:
        on_ray = run_on("ray", 2, tmp_path / "ray")
    finally:
        ray.shutdown()
    assert metrics_and_effects(local) == metrics_and_effects(on_ray)


def test_failures_come_back_as_outcomes(fake_claim):
    outcome = executors.run_task(Task("K99", 0, "huge"))
    assert not outcome["ok"] and "budget must be one of" in outcome["error"]
    outcome = executors.run_task(Task("K98", 0, "tiny"))
    assert not outcome["ok"] and "no claim 'K98'" in outcome["error"]
    with make_executor("process", 2) as pool:
        outcomes = dict(pool.imap([Task("K99", 0, "tiny", fake_claim.name, str(fake_claim.path)),
                                   Task("K99", 1, "nope", fake_claim.name, str(fake_claim.path))]))
    by_seed = {task.seed: outcome for task, outcome in outcomes.items()}
    assert by_seed[0]["ok"] and not by_seed[1]["ok"] and "budget" in by_seed[1]["error"]
    local = executors.run_task(Task("K99", 0, "tiny"))["result"]
    assert normalize(by_seed[0]["result"])["metrics"] == normalize(local)["metrics"]


def test_blas_threads_share_the_cores(monkeypatch):
    from deepnotes import parallel

    monkeypatch.setattr(parallel, "cpu_count", lambda: 8)
    assert [parallel.blas_threads(j) for j in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]


def test_task_pins_blas_threads(fake_claim, monkeypatch):
    seen = []
    import threadpoolctl

    real = threadpoolctl.threadpool_limits

    def spy(limits=None, user_api=None):
        seen.append((limits, user_api))
        return real(limits=limits, user_api=user_api)

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", spy)
    from deepnotes import parallel

    monkeypatch.setattr(parallel, "cpu_count", lambda: 4)
    assert executors.run_task(Task("K99", 0, "tiny"), jobs=2)["ok"]
    assert seen == [(2, "blas")]


def test_bad_executor_arguments():
    with pytest.raises(ValueError, match="executor must be one of"):
        make_executor("threads")
    with pytest.raises(ValueError, match="jobs must be >= 1, got 0"):
        make_executor("process", 0)


def test_missing_ray_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ImportError, match=r"pip install 'deepnotes\[ray\]'"):
        executors.import_ray()


def test_normalize_makes_results_json_plain():
    import numpy as np

    result = {"metrics": {"a": np.float32(0.5), "n": np.int64(3)}, "series": {"x": np.arange(3.0)},
              "effects": {"d": (np.float64(1.0), 2.0)}}
    plain = normalize(result)
    assert plain == {"metrics": {"a": 0.5, "n": 3}, "series": {"x": [0.0, 1.0, 2.0]}, "effects": {"d": [1.0, 2.0]}}
    assert json.loads(json.dumps(plain)) == plain
