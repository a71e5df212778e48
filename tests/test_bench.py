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
    assert "allocator" in report["machine"] and report["machine"]["gemm_peaks"]["numpy"] > 0
    assert all(r["blas"] in ("numpy", "mkl") for r in rows if r["framework"] == "deepnotes")


def test_paired_ratio_cancels_a_drift_that_the_ratio_of_medians_keeps():
    """The machine halves its speed after three repeats and one deepnotes repeat is disturbed:
    each undisturbed pair still says deepnotes runs at 0.8x PyTorch; the two medians say 0.4x."""
    import statistics

    import pytest

    from deepnotes.bench.runner import paired_ratios

    machine = [1.0, 1.0, 1.0, 2.0, 2.0]
    torch_times = [0.010 * m for m in machine]
    deepnotes_times = [0.0125 * m for m in machine]
    deepnotes_times[2] *= 2
    ratios = paired_ratios(deepnotes_times, torch_times)
    assert statistics.median(ratios) == pytest.approx(0.8)
    assert min(ratios) == pytest.approx(0.4)
    assert statistics.median(torch_times) / statistics.median(deepnotes_times) == pytest.approx(0.4)
