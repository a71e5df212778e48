"""The PyTorch tutorial-style scripts of examples/pytorch/ run under both frameworks with only their
imports changed, and reach the same final metrics within the tolerances stated here.

Both runs use the same data (scikit-learn's sets or generated with NumPy) but each framework's own
random initialisation and shuffling, so learned metrics are compared with a tolerance; what does
not depend on randomness (split sizes, parameter counts, the schedule's last lr, a reloaded
checkpoint's loss) is compared exactly.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "pytorch"
sys.path.insert(0, str(EXAMPLES))
from run_example import rewrite  # noqa: E402

SCRIPTS = ["cnn_digits", "tutorial_classifier", "custom_dataset", "lstm_packed", "regression_mlp", "hooks_init"]


def run(script: str, backend: str) -> dict:
    """The RESULT dict the script prints, run in a fresh interpreter under `backend`."""
    env = dict(os.environ, DEEPNOTES_BACKEND=backend, PYTHONPATH=str(ROOT / "src"),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(EXAMPLES / "run_example.py"), f"{script}.py"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{script} under {backend} failed:\n{proc.stderr[-3000:]}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"{script} under {backend} printed no RESULT line:\n{proc.stdout[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def close(a, b, atol=0.0, rtol=0.0):
    return abs(a - b) <= atol + rtol * abs(b)


# script -> (metric, absolute tolerance, relative tolerance) for learned metrics, and the keys
# that must be equal (exactly, or to float rounding for floats).
TOLERANCES = {
    "cnn_digits": ([("test_acc", 0.08, 0.0), ("test_loss", 0.25, 0.5)], ["resumed_equal", "lr"]),
    "tutorial_classifier": ([("test_acc", 0.15, 0.0)], []),
    "custom_dataset": ([("test_acc", 0.08, 0.0)], ["sizes"]),
    "lstm_packed": ([("test_acc", 0.12, 0.0)], ["lengths_ok"]),
    "regression_mlp": ([("best_val_mse", 0.02, 1.0)], ["final_lr", "n_params"]),
    "hooks_init": ([("train_acc", 0.06, 0.0), ("final_loss", 0.1, 0.5)],
                   ["hooks_removed", "hooked_steps", "fc1_std"]),
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_only_import_lines_change(script):
    source = (EXAMPLES / f"{script}.py").read_text(encoding="utf-8")
    _, changed = rewrite(source)
    assert changed, f"{script}: no torch import to switch"
    for old, new in changed:
        assert old.lstrip().startswith(("import torch", "from torch")), f"{script}: rewrote a non-import line {old!r}"
        assert new.lstrip().startswith(("import deepnotes", "from deepnotes")), new


def compare(script, ours, theirs):
    learned, exact = TOLERANCES[script]
    for key in exact:
        a, b = ours[key], theirs[key]
        if isinstance(b, float):
            assert close(a, b, rtol=1e-6), f"{script}: {key} {a} vs torch's {b}"
        else:
            assert a == b, f"{script}: {key} {a} vs torch's {b}"
    for key, atol, rtol in learned:
        assert close(ours[key], theirs[key], atol, rtol), (
            f"{script}: {key} {ours[key]:.4f} vs torch's {theirs[key]:.4f} (atol {atol}, rtol {rtol})")
    if script == "regression_mlp":  # the reloaded best checkpoint gives the best loss again
        assert close(ours["reloaded_val_mse"], ours["best_val_mse"], rtol=1e-6)


@pytest.mark.slow
@pytest.mark.covers("E3")
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_matches_torch(script):
    compare(script, run(script, "deepnotes"), run(script, "torch"))
