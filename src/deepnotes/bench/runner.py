"""Run the workloads in deepnotes and PyTorch, interleaved, on a quiet machine.

Method:
* each (framework, workload) runs in its own worker process (peak RSS is its own);
* after a warm-up, each repeat times K steps, K chosen so a repeat lasts ~0.3 s;
* repeats alternate frameworks (dn, torch, torch, dn, ...) so slow drifts hit both;
* before each repeat we wait (a bounded time) for the machine to be idle, and a
  repeat during which other processes used more than 15% of the CPUs (from
  /proc/stat minus the worker's own CPU time) is thrown away and run again (at
  most 3 times; `reruns` counts them, and a busy machine shows there);
* we report the median samples/s and the spread (min-max) over the repeats, and as the
  ratio the median over repeats of the *paired* ratio (deepnotes' speed / PyTorch's speed
  in the same repeat, the two runs back to back): the machine's slow drifts cancel in each
  pair, so the ratio varies less from run to run than the ratio of the two medians.

Both workers import deepnotes (the worker module lives in it), so both run with
the memory allocator settings `import deepnotes` applies (`deepnotes.allocator`):
the comparison is on the same process configuration.  `--quick` is a smoke run:
it waits at most a second for an idle machine and does not rerun.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from .workloads import WORKLOADS, dims, flops

OTHER_LOAD_LIMIT = 0.15


def _cpu_busy_seconds():
    """Busy CPU time of the whole machine so far, in seconds (from /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_idle(max_wait=30.0, threshold=0.2, window=0.25):
    """Wait until the machine's busy fraction over a short window falls below `threshold`."""
    ncpu = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait
    while True:
        b0 = _cpu_busy_seconds()
        time.sleep(window)
        b1 = _cpu_busy_seconds()
        if b0 is None or (b1 - b0) / (window * ncpu) < threshold or time.monotonic() > deadline:
            return


class Worker:
    def __init__(self, framework, workload, scale, threads, batch=None, width=None, blas=None):
        env = dict(os.environ)
        if blas is not None:  # the deepnotes worker's GEMM library (deepnotes.backends)
            env["DEEPNOTES_BLAS"] = blas
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deepnotes.bench.worker", framework, workload, str(scale), str(threads),
             str(batch or 0), str(width or 0)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )
        self.ready = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench worker exited with code {self.proc.wait()}")
        return json.loads(line)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=30)


def _timed(worker, mode, k, retries=3, max_wait=10.0, clock="wall"):
    """Time K steps; rerun when other processes loaded the machine meanwhile. `clock="cpu"`: the
    worker's CPU time instead (one thread only), which other processes do not lengthen; no waits
    or reruns then."""
    if clock == "cpu":
        return worker.ask(f"{mode} {k}")["cpu"], 0
    ncpu = os.cpu_count() or 1
    for attempt in range(retries + 1):
        wait_for_idle(max_wait)
        b0 = _cpu_busy_seconds()
        r = worker.ask(f"{mode} {k}")
        b1 = _cpu_busy_seconds()
        other = 0.0 if b0 is None else max(0.0, (b1 - b0) - r["cpu"]) / (r["wall"] * ncpu)
        if other <= OTHER_LOAD_LIMIT or attempt == retries:
            return r["wall"], attempt
    return r["wall"], retries


def _steps_for(worker, mode, target=0.3):
    """Warm up (two steps), then choose K so that K steps take about `target` seconds."""
    worker.ask(f"{mode} 2")
    return max(1, int(target / max(worker.ask(f"{mode} 1")["wall"], 1e-6)))


def bench_workload(name, scale=1.0, repeats=5, threads=None, modes=("train", "infer"), batch=None, width=None,
                   patience=(3, 10.0), blas=(None,), clock="wall"):
    """Rows for one workload: one per (mode, framework, BLAS).

    `patience` = (reruns, seconds): how often a repeat disturbed by other processes is run
    again, and how long to wait for an idle machine before each. `blas`: the GEMM libraries
    deepnotes runs with, one worker each ("numpy", "mkl"; None: the machine's choice); each
    one's ratio is paired with the PyTorch run of the same repeat. `clock`: "wall" or "cpu"
    (the workers' CPU time, for one thread on a machine other processes keep busy).
    """
    threads = threads or blas_threads()
    d = dims(name, scale, batch)
    if width is not None and name == "W1":
        d["width"] = width
    fwd_flops = flops(name, d)
    workers = {("deepnotes", b): Worker("deepnotes", name, scale, threads, batch, width, blas=b) for b in blas}
    workers[("torch", None)] = Worker("torch", name, scale, threads, batch, width)
    rows = []
    try:
        for mode in modes:
            steps = {key: _steps_for(w, mode) for key, w in workers.items()}
            times = {key: [] for key in workers}
            reruns = {key: 0 for key in workers}
            keys = list(workers)
            for r in range(repeats):
                for key in keys[r % len(keys):] + keys[: r % len(keys)]:  # each worker leads in turn
                    wall, again = _timed(workers[key], mode, steps[key], *patience, clock=clock)
                    times[key].append(wall / steps[key])
                    reruns[key] += again
            step_flops = fwd_flops * (3 if mode == "train" else 1)
            for key in workers:
                fw = key[0]
                paired = paired_ratios(times[key], times[("torch", None)])
                med = statistics.median(times[key])
                rows.append({
                    "workload": name, "mode": mode, "framework": fw, "batch": d["batch"],
                    "blas": workers[key].ready.get("blas", "torch's own"),
                    "samples_per_s": d["batch"] / med,
                    "spread": [d["batch"] / max(times[key]), d["batch"] / min(times[key])],
                    "step_ms": med * 1e3, "gflops": step_flops / med / 1e9,
                    "repeats": repeats, "reruns": reruns[key], "threads": threads,
                    "ratio": statistics.median(paired) if fw == "deepnotes" else 1.0,
                    "ratio_spread": [min(paired), max(paired)] if fw == "deepnotes" else [1.0, 1.0],
                })
        for key, w in workers.items():
            rss = w.ask("rss")
            for row in rows:
                if (row["framework"], row["blas"]) == (key[0], w.ready.get("blas", "torch's own")):
                    row["peak_rss_mb"] = rss["peak_mb"]
                    row["workload_rss_mb"] = rss["peak_mb"] - rss["base_mb"]
    finally:
        for w in workers.values():
            w.close()
    by_key = {(r["mode"], r["framework"]): r for r in rows}
    for r in rows:
        r["memory_ratio"] = r["peak_rss_mb"] / by_key[(r["mode"], "torch")]["peak_rss_mb"]
    return rows


def paired_ratios(deepnotes_times, torch_times):
    """deepnotes' speed relative to PyTorch's in each repeat: torch time / deepnotes time, pair by pair."""
    return [t_torch / t_dn for t_dn, t_torch in zip(deepnotes_times, torch_times, strict=True)]


def blas_threads():
    from ..backends.choose import numpy_pool

    pool = numpy_pool()
    return pool["num_threads"] if pool else 1


def blas_description():
    """NumPy's own BLAS (not SciPy's, which threadpoolctl may list first)."""
    from ..backends.choose import numpy_pool

    p = numpy_pool()
    if p is None:
        return "no BLAS found by threadpoolctl"
    return f"{p.get('internal_api')} {p.get('version')}, kernel {p.get('architecture')}, {p.get('num_threads')} threads"


def allocator_description():
    from ..allocator import _USER_SETTINGS, keep_freed_memory

    user = [name for name in _USER_SETTINGS if name in os.environ]
    if user:
        return f"glibc malloc as set by the environment ({', '.join(user)})"
    if keep_freed_memory():  # idempotent: tells whether the settings apply in this environment
        return "glibc malloc keeping freed memory (deepnotes.allocator)"
    return "default (deepnotes.allocator off: DEEPNOTES_KEEP_FREED_MEMORY=0 or not glibc)"


def sgemm_gflops(n=1024, repeats=5, library="numpy", clock="wall"):
    """This machine's float32 GEMM speed (n x n x n) through `library` ("numpy" or "mkl"), in
    GFLOP/s (median of repeats, timed by `clock` as the workloads are): the peak the workloads'
    GFLOP/s are read against."""
    import numpy as np

    from ..backends import blas, mkl

    gemm = blas.numpy_gemm
    if library == "mkl":
        mkl.set_num_threads(blas_threads())
        gemm = mkl.gemm
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    gemm(a, a)
    now = time.process_time if clock == "cpu" else time.perf_counter
    times = []
    for _ in range(repeats):
        t = now()
        gemm(a, a)
        times.append(now() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def gemm_peaks(n=1024, clock="wall"):
    """{"numpy": GFLOP/s, "mkl": GFLOP/s or absent}: the measured GEMM peak of each library here."""
    from ..backends import mkl

    peaks = {"numpy": sgemm_gflops(n, clock=clock)}
    if mkl.load() is not None:
        peaks["mkl"] = sgemm_gflops(n, library="mkl", clock=clock)
    return peaks


def format_rows(rows, peaks=None):
    """The table; `% peak` is a row's GFLOP/s over its BLAS's measured GEMM peak (PyTorch's row:
    over the higher of the peaks measured here)."""
    peaks = peaks or {}
    head = (f"{'workload':<8} {'mode':<6} {'framework':<10} {'blas':<6} {'samples/s':>10} {'spread':>13} "
            f"{'ratio':>6} {'ratio spread':>12} {'GFLOP/s':>8} {'% peak':>6} {'peak MB':>8} {'mem ratio':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        spread = f"{r['spread'][0]:.0f}-{r['spread'][1]:.0f}"
        ratio_spread = f"{r['ratio_spread'][0]:.2f}-{r['ratio_spread'][1]:.2f}" if r["framework"] != "torch" else ""
        blas = r.get("blas") if r["framework"] != "torch" else "own"
        peak = peaks.get(blas) if r["framework"] != "torch" else max(peaks.values(), default=None)
        share = f"{r['gflops'] / peak:>6.0%}" if peak else f"{'':>6}"
        lines.append(
            f"{r['workload']:<8} {r['mode']:<6} {r['framework']:<10} {blas or '':<6} {r['samples_per_s']:>10.1f} "
            f"{spread:>13} {r['ratio']:>6.2f} {ratio_spread:>12} {r['gflops']:>8.2f} {share} "
            f"{r['peak_rss_mb']:>8.0f} {r['memory_ratio']:>9.2f}"
        )
    return "\n".join(lines)


BLAS_CHOICES = {"auto": (None,), "numpy": ("numpy",), "mkl": ("mkl",), "both": ("numpy", "mkl")}


def run(workloads=None, quick=False, repeats=None, as_json=False, out=sys.stdout, blas="auto", threads=None,
        clock="wall"):
    """Bench `workloads`; `blas`: the GEMM library of deepnotes' workers ("auto": this machine's
    choice, see `deepnotes.backends`; "both": one deepnotes column per library)."""
    from .. import backends

    scale = 0.25 if quick else 1.0
    repeats = repeats or (3 if quick else 5)
    names = workloads or list(WORKLOADS)
    if clock == "cpu" and threads != 1:
        raise RuntimeError(f"--clock cpu needs --threads 1 (CPU time adds up the threads), got --threads {threads}")
    if threads:
        backends.set_num_threads(threads)  # the peaks below are measured with the workers' thread count
    numpy_blas, numpy_threads = blas_description(), blas_threads()  # before MKL is loaded here
    if blas in ("mkl", "both") and backends.mkl.load() is None:
        raise RuntimeError(f"--blas {blas}: MKL is not available ({backends.mkl.load_error()})")
    side = 512 if quick else 1024
    peaks = gemm_peaks(side, clock)
    info = {"blas": numpy_blas, "threads": numpy_threads, "sgemm_gflops": peaks["numpy"], "gemm_peaks": peaks,
            "clock": clock,
            "deepnotes_blas": backends.get_blas() if blas == "auto" else blas, "allocator": allocator_description()}
    print(f"NumPy's BLAS: {info['blas']}; MKL: {backends.mkl.version() or 'not installed'}", file=out)
    print(f"deepnotes' GEMMs run on: {info['deepnotes_blas']}; measured sgemm peak ({side}^3, {clock} clock): "
          + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items()), file=out)
    print(f"allocator (both frameworks): {info['allocator']}", file=out)
    rows = []
    for name in names:
        print(f"{name}: {WORKLOADS[name]}", file=out, flush=True)
        rows += bench_workload(name, scale, repeats, info["threads"], patience=(0, 1.0) if quick else (3, 10.0),
                               blas=BLAS_CHOICES[blas], clock=clock)
    print(format_rows(rows, peaks), file=out)
    if as_json:
        print(json.dumps({"machine": info, "rows": rows}))
    return rows


SCALING_BATCHES = (16, 32, 64, 128, 256, 512, 1024)
SCALING_WIDTHS = (128, 256, 512, 1024, 2048)


def scaling(out_dir="runs/bench", repeats=3, quick=False, out=sys.stdout):
    """Training-step time vs batch size (W1, W2) and vs hidden width (W1); a table and a PNG."""
    from pathlib import Path

    batches = SCALING_BATCHES[:3] if quick else SCALING_BATCHES
    widths = SCALING_WIDTHS[:2] if quick else SCALING_WIDTHS
    series = []  # (workload, axis, value, framework, step_ms)
    for name in ("W1", "W2"):
        for b in batches:
            for r in bench_workload(name, 1.0, repeats, modes=("train",), batch=b):
                series.append((name, "batch", b, r["framework"], r["step_ms"]))
    for w in widths:
        for r in bench_workload("W1", 1.0, repeats, modes=("train",), width=w):
            series.append(("W1", "width", w, r["framework"], r["step_ms"]))
    lines = [f"{'workload':<8} {'axis':<6} {'value':>6} {'deepnotes ms':>13} {'torch ms':>9} {'ratio':>6}"]
    keys = sorted({(s[0], s[1], s[2]) for s in series}, key=lambda k: (k[1], k[0], k[2]))
    table = []
    for key in keys:
        ms = {s[3]: s[4] for s in series if s[:3] == key}
        table.append({"workload": key[0], "axis": key[1], "value": key[2], **{f"{k}_ms": v for k, v in ms.items()}})
        lines.append(f"{key[0]:<8} {key[1]:<6} {key[2]:>6} {ms['deepnotes']:>13.2f} {ms['torch']:>9.2f} "
                     f"{ms['torch'] / ms['deepnotes']:>6.2f}")
    print("\n".join(lines), file=out)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / "scaling.png"
    _plot_scaling(series, png)
    (out_dir / "scaling.json").write_text(json.dumps(table, indent=1))
    print(f"wrote {png} and {out_dir / 'scaling.json'}", file=out)
    return table


def _plot_scaling(series, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    panels = [("W1", "batch"), ("W2", "batch"), ("W1", "width")]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (name, axis) in zip(axes, panels):
        for fw, style in (("deepnotes", "o-"), ("torch", "s--")):
            pts = sorted((s[2], s[4]) for s in series if s[0] == name and s[1] == axis and s[3] == fw)
            if pts:
                ax.plot(*zip(*pts), style, label=fw)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
        ax.set(xlabel=axis, ylabel="ms per training step", title=f"{name} vs {axis}")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
