"""`deepnotes parity`: the deepnotes-vs-PyTorch training comparison runs and reports consistently."""
import json

import numpy as np
import pytest
from scipy import stats

from deepnotes import cli
from deepnotes.bench import parity


def test_quick_run_reports_both_frameworks_and_their_difference(capsys):
    results = parity.run(["mlp-digits"], seeds=2, quick=True)
    row = results["mlp-digits"]
    assert row["epochs"] == 2 and row["seeds"] == 2
    for framework in ("deepnotes", "pytorch"):
        acc = row[framework]["accuracy"]
        assert len(acc) == 2 and all(10 <= a <= 100 for a in acc)  # 2 epochs of Adam beat chance (10%)
        assert all(s > 0 for s in row[framework]["seconds_per_epoch"])
    assert row["difference"] == pytest.approx(np.mean(row["deepnotes"]["accuracy"]) - np.mean(row["pytorch"]["accuracy"]))
    out = capsys.readouterr().out
    assert "mlp-digits   deepnotes" in out and "deepnotes - PyTorch" in out


def test_models_are_the_same_in_both_frameworks():
    import torch

    from deepnotes import nn

    for name, build in parity.BUILDERS.items():
        ours = sum(p.numel() if hasattr(p, "numel") else p.data.size for p in build(nn).parameters())
        theirs = sum(p.numel() for p in build(torch.nn).parameters())
        assert ours == theirs, name


def test_welch_interval_is_scipys():
    a, b = [70.0, 72.5, 71.0], [69.0, 73.0, 70.5, 71.5]
    diff, lo, hi = parity.welch(a, b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(np.mean(a) - np.mean(b)) and (lo, hi) == pytest.approx((ci.low, ci.high))
    assert parity.welch([1.0], [2.0])[1:] == (-np.inf, np.inf)


def test_bad_arguments(capsys):
    with pytest.raises(ValueError, match="unknown task 'x'|unknown task x"):
        parity.run(["x"])
    assert cli.main(["parity", "--tasks", "mlp-digits,nope"]) == 2
    assert "unknown task nope" in capsys.readouterr().err
    assert cli.main(["parity", "--seeds", "0"]) == 2


def test_json_last_line(capsys):
    assert cli.main(["parity", "--tasks", "mlp-digits", "--seeds", "1", "--quick", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(doc) == ["mlp-digits"] and doc["mlp-digits"]["lo"] is None  # one run each: no interval
