"""`deepnotes bench` runs end to end (a smoke run: no timing is asserted)."""
import json
import subprocess
import sys


def test_bench_quick_runs_and_prints_json_rows():
    result = subprocess.run(
        [sys.executable, "-m", "deepnotes.cli", "bench", "--quick", "--workloads", "W1", "--repeats", "1", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    rows = report["rows"]
    assert {(r["mode"], r["framework"]) for r in rows} == {
        (mode, fw) for mode in ("train", "infer") for fw in ("deepnotes", "torch")}
    for row in rows:
        assert {"workload", "mode", "framework", "samples_per_s", "peak_rss_mb", "ratio"} <= set(row)
        assert row["workload"] == "W1" and row["samples_per_s"] > 0 and row["peak_rss_mb"] > 0
    assert "allocator" in report["machine"]
