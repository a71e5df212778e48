"""The `deepnotes` command: help, train (with --json), graph, doctor."""
import json
import subprocess
import sys

import pytest

from deepnotes.cli import COMMANDS, main


def test_help_lists_every_command_with_a_description(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name, text in COMMANDS.items():
        assert name in out
        assert text.split()[0] in out


def test_console_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "deepnotes.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "train" in out.stdout


@pytest.mark.covers("E5")
def test_train_json_last_line_and_outputs(tmp_path, capsys):
    rc = main(["train", "--dataset", "digits", "--epochs", "3", "--optimizer", "adam", "--lr", "0.005",
               "--batch-size", "64", "--seed", "1", "--out", str(tmp_path), "--json", "--no-progress"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"test_accuracy", "test_loss", "epochs", "seconds"} <= set(result)
    assert result["epochs"] == 3
    assert result["test_accuracy"] > 0.8  # 3 epochs of Adam on digits; chance is 0.1
    assert (tmp_path / "checkpoint.npz").is_file()
    assert (tmp_path / "curves.png").stat().st_size > 1000
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["train_loss"]) == 3


def test_train_checkpoint_loads_back_into_the_model(tmp_path, capsys):
    import deepnotes as dn
    from deepnotes import data, train
    from deepnotes.models import build_model

    main(["train", "--dataset", "breast_cancer", "--epochs", "2", "--out", str(tmp_path), "--json", "--no-progress"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    state = train.load(tmp_path / "checkpoint.npz")
    split = data.get_dataset("breast_cancer")
    model = build_model("mlp", split.x_train.shape[1:], split.num_classes)
    model.load_state_dict(state["model"])
    loader = data.DataLoader(data.TensorDataset(split.x_test, split.y_test), batch_size=512)
    import deepnotes.nn as nn

    metrics = train.evaluate(model, nn.CrossEntropyLoss(), loader)
    assert metrics["accuracy"] == pytest.approx(result["test_accuracy"])
    assert isinstance(dn.tensor(state["model"]["net.0.weight"]), dn.Tensor)


@pytest.mark.covers("E2")
def test_graph_command_writes_svg_or_dot(tmp_path, capsys):
    out = tmp_path / "g.svg"
    assert main(["graph", "mlp", "--dataset", "digits", "--out", str(out)]) == 0
    written = capsys.readouterr().out.strip().split()[-1]
    text = open(written).read()
    assert "Linear" in text  # the fused Linear op appears as a node
    assert written.endswith(".svg") or "digraph" in text


@pytest.mark.covers("V1")
def test_doctor_reports_blas_and_packages(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out and "blas" in out and "torch" in out and "cupy" in out


@pytest.mark.covers("V1")
def test_doctor_json_is_one_object_with_the_blas_in_use(capsys):
    import numpy as np

    from deepnotes import backends

    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["numpy"] == np.__version__
    assert report["gemm"]["in_use"] == backends.get_blas()
    assert report["gemm"]["gflops"]["numpy"] > 0
    assert set(report["packages"]) >= {"torch", "scipy", "sklearn", "cupy"}
    for name, version in report["packages"].items():  # a missing package says why
        assert (version is None) == (name in report["unavailable"])
