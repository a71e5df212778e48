"""`deepnotes claims list | run | report`: the JSON line, the verdict lines, argument errors."""
import json

import pytest

from deepnotes import cli
from deepnotes.claims import frozen, verdict


def run_cli(capsys, *argv):
    code = cli.main(["claims", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_json_last_line(fake_claim, tmp_path, capsys):
    code, out, err = run_cli(capsys, "run", "K99", "--budget", "tiny", "--seeds", "3", "--out", str(tmp_path),
                             "--json", "--no-progress")
    assert code == 0
    doc = json.loads(out.strip().splitlines()[-1])
    assert list(doc) == ["K99"]
    entry = doc["K99"]
    assert entry["verdict"] in verdict.VERDICTS and entry["seeds"] == [0, 1, 2]
    ratio = entry["criteria"]["ratio_gap"]
    assert ratio["mean"] == pytest.approx(1.0) and len(ratio["per_seed"]) == 3
    assert ratio["text_en"].startswith("norm(2W x)") and ratio["text_zh"]
    # The verdict in the JSON is the rule's, recomputed from the per-seed effects it reports.
    again = verdict.judge("ratio_gap", ratio["per_seed"], ratio["delta"])
    assert again.verdict == ratio["verdict"] and (again.lo, again.hi) == pytest.approx((ratio["lo"], ratio["hi"]))
    assert "K99  " in err and "ratio_gap: +1 [" in err  # the verdict line goes to stderr with --json
    assert (tmp_path / "K99" / "evidence.json").is_file() and (tmp_path / "K99" / "norms.png").is_file()

    code, out, _ = run_cli(capsys, "report", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "index.html").is_file() and (tmp_path / "K99" / "index.html").is_file()


def test_run_prints_one_verdict_line_per_claim(fake_claim, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "run", "k99", "--budget", "tiny", "--out", str(tmp_path), "--no-progress")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("K99")]
    assert len(lines) == 1
    assert lines[0].split()[1] in ("holds", "does", "mixed") and "ratio_gap:" in lines[0] and "noise:" in lines[0]


def test_failed_seed_exits_1(fake_claim, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEEPNOTES_TEST_FAIL_ONCE", str(tmp_path / "marker"))
    code, _, err = run_cli(capsys, "run", "K99", "--budget", "tiny", "--out", str(tmp_path), "--no-progress")
    assert code == 1 and "simulated interruption" in err
    code, _, _ = run_cli(capsys, "run", "K99", "--budget", "tiny", "--out", str(tmp_path), "--no-progress")
    assert code == 0


@pytest.mark.parametrize("argv,message", [
    (["run", "K00"], "unknown claim K00"),
    (["run", "K99", "--budget", "huge"], "--budget must be one of tiny, quick, full, got 'huge'"),
    (["run", "K99", "--jobs", "0"], "--jobs must be >= 1, got 0"),
    (["run", "K99", "--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["run", "K99", "--seed-offset", "-1"], "--seed-offset must be >= 0, got -1"),
    (["run", "K99", "--executor", "threads"], "--executor must be one of local, process, ray, got 'threads'"),
    (["run", "K99", "--address", "auto"], "needs --executor ray"),
    (["run"], "name the claims to run"),
    (["run", "--all", "K99"], "not both"),
    (["run", "K99", "--budget", "tiny", "--write-verdicts"], "--write-verdicts records the quick budget"),
])
def test_bad_arguments_exit_2_with_one_line(fake_claim, tmp_path, capsys, argv, message):
    code, out, err = run_cli(capsys, *argv, "--out", str(tmp_path / "never"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not (tmp_path / "never").exists()  # no work was done


def test_list_json_and_table(fake_claim, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(frozen, "VERDICTS_PATH", tmp_path / "verdicts.json")
    code, out, _ = run_cli(capsys, "list", "--json")
    assert code == 0
    rows = json.loads(out.strip().splitlines()[-1])
    assert rows["K99"]["title_en"] == "Test claim" and rows["K99"]["topics"] == ["N1"]
    assert rows["K99"]["seconds"]["quick"] == pytest.approx(0.03) and rows["K99"]["verdict"] is None
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and any(line.startswith("K99") and "Test claim" in line for line in out.splitlines())


def test_write_verdicts_merges_and_lists(fake_claim, tmp_path, capsys, monkeypatch):
    target = tmp_path / "verdicts.json"
    monkeypatch.setattr(frozen, "VERDICTS_PATH", target)
    target.write_text(json.dumps({"claims": {"K01": {"verdict": "holds"}, "K77": {"verdict": "mixed"}}}))
    monkeypatch.setattr("deepnotes.claims.registry.registered_ids", lambda: ["K01", "K99"])
    code, out, _ = run_cli(capsys, "run", "K99", "--budget", "quick", "--seeds", "2", "--out", str(tmp_path),
                           "--write-verdicts", "--no-progress")
    assert code == 0
    stored = frozen.verdicts(target)
    assert sorted(stored) == ["K01", "K99"]  # K77 is no longer registered; K01 was not run and is kept
    entry = stored["K99"]
    assert entry["budget"] == "quick" and entry["seeds"] == [0, 1]
    assert entry["command"] == "deepnotes claims run K99 --budget quick --seeds 2 --write-verdicts"
    assert entry["criteria"]["noise"]["effects"][0][0] == -entry["criteria"]["noise"]["effects"][0][1]
    _, out, _ = run_cli(capsys, "list", "--json")
    assert json.loads(out.strip().splitlines()[-1])["K99"]["verdict"] == entry["verdict"]


def test_report_without_a_run_is_an_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "report", "--out", str(tmp_path / "missing"))
    assert code == 2 and "no results folder" in err
