"""What the input checks cost: training steps with `dn.set_checks(True)` vs `set_checks(False)`, paired.

    python -m deepnotes.bench.checks_overhead [--pairs 30] [--steps 20]

Two workloads: W1 (MLP 784-512-512-10, batch 128, SGD with momentum, the benchmark's) and the
claims lab's MLP (64-128-128-10, batch 64, AdamW).  Each pair times `steps` training steps with
the checks on and the same number off, in alternating order (on-off, off-on, ...) so drift in the
machine's speed cancels, in CPU time with one BLAS thread; the overhead is the median over pairs of (time on / time off) - 1.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _workloads():
    import deepnotes as dn
    import deepnotes.nn as nn
    import deepnotes.nn.functional as F

    from .parity import BUILDERS
    from .workloads import build

    dn.manual_seed(0)
    model, x, y, _ = build("deepnotes", "W1")
    w1 = (model, dn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), dn.from_numpy(x), dn.from_numpy(y))
    rng = np.random.default_rng(0)
    claims = BUILDERS["mlp-digits"](nn)
    xs = dn.from_numpy(rng.standard_normal((64, 64)).astype(np.float32))
    ys = dn.from_numpy(rng.integers(0, 10, 64))
    claims_run = (claims, dn.optim.AdamW(claims.parameters(), lr=3e-3, weight_decay=1e-2), xs, ys)
    return {"W1": w1, "claims MLP": claims_run}, F, dn


def _time(run, steps, F):
    model, opt, x, y = run
    start = time.process_time()  # CPU time of this process: less disturbed by other jobs than wall time
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return time.process_time() - start


def measure(pairs=30, steps=20):
    """{workload: (median ratio on/off, [ratio per pair])}."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one BLAS thread: the least noisy timing on a shared machine
    runs, F, dn = _workloads()
    results = {}
    for name, run in runs.items():
        _time(run, steps, F)  # warm up
        ratios = []
        for i in range(pairs):
            order = (True, False) if i % 2 == 0 else (False, True)
            times = {}
            for flag in order:
                dn.set_checks(flag)
                times[flag] = _time(run, steps, F)
            ratios.append(times[True] / times[False])
        dn.set_checks(True)
        results[name] = (statistics.median(ratios), ratios)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    for name, (median, ratios) in measure(args.pairs, args.steps).items():
        q1, q3 = np.percentile(ratios, [25, 75])
        print(f"{name:12s} checks on / off: median {median:.4f} (overhead {100 * (median - 1):+.2f}%), "
              f"IQR [{q1:.4f}, {q3:.4f}], {len(ratios)} pairs of {args.steps} steps")


if __name__ == "__main__":
    main()
