"""``deepnotes tune`` end to end on a tiny budget (H1)."""
import json

import pytest

from deepnotes.cli import main


@pytest.mark.covers("H1")
def test_tune_command_prints_the_best_config_and_json(tmp_path, capsys):
    code = main(["tune", "--dataset", "digits", "--space", "lr=loguniform(1e-3,1e-1)", "--searcher", "grid",
                 "--trials", "3", "--epochs", "1", "--no-progress", "--json", "--out", str(tmp_path)])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    doc = json.loads(lines[-1])
    assert len(doc["trials"]) == 3 and doc["best"]["value"] == max(t["value"] for t in doc["trials"])
    assert sorted(t["lr"] for t in doc["trials"]) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert (tmp_path / "trials.csv").exists() and (tmp_path / "trials.png").exists()


@pytest.mark.covers("H1")
def test_tune_command_with_bo_draws_the_gp_slice(tmp_path, capsys):
    code = main(["tune", "--dataset", "digits", "--searcher", "bo", "--trials", "3", "--epochs", "1",
                 "--no-progress", "--json", "--out", str(tmp_path)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(doc["trials"][0]) >= {"lr", "weight_decay", "value"} and doc["paths"]["gp"].endswith("gp.png")
    assert (tmp_path / "gp.png").stat().st_size > 1000


@pytest.mark.covers("H1")
@pytest.mark.parametrize("argv, message", [
    (["--searcher", "annealing"], "--searcher must be"),
    (["--space", "lr=normal(0,1)"], "parse_dimension: expected"),
    (["--trials", "0"], "--trials must be >= 1"),
    (["--executor", "slurm"], "--executor must be one of"),
])
def test_tune_command_rejects_bad_arguments(argv, message, capsys):
    assert main(["tune", *argv]) == 2
    assert message in capsys.readouterr().err
