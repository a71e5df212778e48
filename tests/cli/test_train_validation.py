"""`deepnotes train`: a real validation split, the test split touched once at the end; imbalance options;
`deepnotes evaluate`."""
import json

import numpy as np
import pytest

from deepnotes import cli, train
from deepnotes.cli import main


def _run(tmp_path, capsys, *extra):
    rc = main(["train", "--dataset", "breast_cancer", "--epochs", "2", "--seed", "3", "--out", str(tmp_path),
               "--json", "--no-progress", *extra])
    assert rc == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.covers("M1")
def test_validation_is_a_stratified_part_of_the_training_split_and_the_test_split_is_used_once(
        tmp_path, capsys, monkeypatch):
    events = []
    real_fit, real_test = train.fit, cli._evaluate_test

    def spy_fit(model, loss_fn, optimizer, train_loader, val_loader=None, **kwargs):
        events.append(("fit", val_loader))
        return real_fit(model, loss_fn, optimizer, train_loader, val_loader=val_loader, **kwargs)

    def spy_test(*args, **kwargs):
        events.append(("test", None))
        return real_test(*args, **kwargs)

    monkeypatch.setattr(train, "fit", spy_fit)
    monkeypatch.setattr(cli, "_evaluate_test", spy_test)
    result = _run(tmp_path, capsys, "--val-split", "0.2", "--patience", "5")
    assert [e[0] for e in events] == ["fit", "test"]  # the test split is read once, after training

    split, train_idx, val_idx = cli.load_train_data("breast_cancer", 3, 0.2)
    saved = json.loads((tmp_path / "split.json").read_text())
    assert saved["train"] == train_idx.tolist() and saved["validation"] == val_idx.tolist()
    assert not set(train_idx) & set(val_idx) and len(train_idx) + len(val_idx) == len(split.y_train)
    assert result["n_validation"] == len(val_idx) and result["n_test"] == len(split.y_test)
    # stratified: the class shares of the validation set match the training split's to one sample
    share = np.bincount(split.y_train) / len(split.y_train)
    assert np.all(np.abs(np.bincount(split.y_train[val_idx]) - share * len(val_idx)) <= 1)
    # the loader given to fit (early stopping, model selection) holds validation rows, no test row
    val_x = events[0][1].dataset.tensors[0].numpy()
    np.testing.assert_array_equal(val_x, split.x_train[val_idx])
    test_rows = {row.tobytes() for row in split.x_test}
    assert not any(row.tobytes() in test_rows for row in val_x)
    # the same seed gives the same split; another seed another one
    assert np.array_equal(cli.load_train_data("breast_cancer", 3, 0.2)[2], val_idx)
    assert not np.array_equal(cli.load_train_data("breast_cancer", 4, 0.2)[2], val_idx)


@pytest.mark.covers("M1", "M2", "L4")
@pytest.mark.parametrize("option", [["--class-weight", "balanced", "--sampler", "weighted"],
                                    ["--sampler", "smote"], ["--sampler", "undersample"]])
def test_imbalance_options_train_and_write_the_figures(tmp_path, capsys, option):
    result = _run(tmp_path, capsys, "--minority-fraction", "0.15", "--metrics", "accuracy,f1_macro,auc", *option)
    assert set(result["test_metrics"]) == {"accuracy", "f1_macro", "auc"}
    assert 0 <= result["test_metrics"]["f1_macro"] <= 1
    for path in [result["curves"], *result["figures"].values()]:
        assert (tmp_path / path.split("/")[-1]).stat().st_size > 1000
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["val_f1_macro"]) == len(history["val_auc"]) == 2


@pytest.mark.covers("M1")
def test_evaluate_prints_the_report_and_writes_figures(tmp_path, capsys):
    result = _run(tmp_path, capsys, "--minority-fraction", "0.1")
    rc = main(["evaluate", str(tmp_path / "checkpoint.npz"), "--out", str(tmp_path / "eval"), "--json"])
    assert rc == 0
    captured = capsys.readouterr()
    evaluated = json.loads(captured.out.strip().splitlines()[-1])
    assert evaluated["accuracy"] == pytest.approx(result["test_accuracy"])
    assert "precision" in captured.err and "macro avg" in captured.err
    assert all((tmp_path / "eval" / f"test_{name}.png").is_file() for name in ("confusion_matrix", "roc", "pr"))
