"""`deepnotes bench --profile` and the hand-written NumPy step its overhead figure is measured against."""
import json
import subprocess
import sys

import numpy as np
import pytest


def test_hand_written_numpy_step_is_the_deepnotes_w1_step():
    """The overhead comparison is fair only if both sides compute the same step: after three steps
    from the same weights, the NumPy step's weights equal deepnotes' (small sizes)."""
    from deepnotes.bench.profile import _deepnotes_step, numpy_mlp_step

    step, _, model, x, y = _deepnotes_step("W1", scale=0.25)
    params = [p.detach().numpy().astype(np.float64) for p in model.parameters()]
    np_step = numpy_mlp_step(params, x.astype(np.float64), y)
    for _ in range(3):
        step()
        np_step()
    for mine, theirs in zip(params, model.parameters()):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_profile_splits_the_step_by_op_optimizer_and_overhead():
    result = subprocess.run(
        [sys.executable, "-m", "deepnotes.cli", "bench", "--profile", "--quick", "--workloads", "W1,W3", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    w1 = report["profiles"][0]
    calls = {(op, phase): n for op, phase, _, n in w1["ops"]}
    assert w1["workload"] == "W1" and calls[("LinearChain", "forward")] == 1  # the whole MLP, one node
    assert abs(sum(r[2] for r in w1["ops"]) + w1["optimizer_ms"] + w1["overhead_ms"] - w1["step_ms"]) < 1e-6
    assert "framework overhead" in result.stdout and "RecurrentSequence" in result.stdout


def test_bench_refuses_bad_thread_and_clock_options(capsys):
    from deepnotes.cli import main

    assert main(["bench", "--threads", "0"]) == 2
    assert "--threads must be >= 1, got 0" in capsys.readouterr().err
    assert main(["bench", "--clock", "cpu", "--threads", "2"]) == 2
    assert "--clock cpu needs --threads 1" in capsys.readouterr().err


def test_overhead_split_rebuilds_the_step_layer_by_layer():
    """Every variant is the same training step: from the same weights, one step of each gives the
    weights deepnotes' own step and the hand-written one give (small sizes); the split reports each."""
    import deepnotes as dn
    from deepnotes.bench import profile

    trained = {}
    for name in list(profile.LAYERS) + ["all", "numpy"]:
        steps, params, copies = profile.split_steps(scale=0.25)  # the same initial weights each time
        steps[name]()
        trained[name] = copies if name == "numpy" else [p.detach().numpy() for p in params]
    for name, weights in trained.items():
        for mine, reference in zip(weights, trained["all"]):
            np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6, err_msg=name)
    assert any(not np.allclose(a, b) for a, b in zip(trained["all"], profile.split_steps(scale=0.25)[1]))

    split = profile.overhead_split(rounds=2, steps=1, scale=0.25)
    assert set(split) == set(profile.LAYERS) | {"all"}
    assert all(np.isfinite(v) and v > -0.9 for v in split.values())
    assert "+ backward walk" in profile.format_split(split, 2)
    with dn.fast.disabled():
        assert profile.overhead_split(rounds=1, steps=1, scale=0.25) is None
