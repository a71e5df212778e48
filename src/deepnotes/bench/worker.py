"""One framework, one workload, in its own process: answers timing requests on stdin.

Protocol (one line each way): first the worker says {"ready": true} (with "blas", the GEMM library,
for deepnotes; ``DEEPNOTES_BLAS`` in its environment chooses it); "train K" / "infer K" -> JSON {"wall": s, "cpu": s};
"rss" -> JSON {"peak_mb": ..., "base_mb": ...}; "quit".  Running each framework
alone in a process makes its peak resident memory its own.
"""
from __future__ import annotations

import json
import resource
import sys
import time


def _peak_mb():
    """This process's peak resident memory in MB: VmHWM, which starts afresh at exec (ru_maxrss
    keeps the forking parent's peak across exec, so a parent bigger than the worker shows through)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def _framework(name, threads):
    """(the framework's top module, its nn.functional, its optim) with `threads` BLAS threads, seeded."""
    if name == "deepnotes":
        from threadpoolctl import threadpool_limits

        import deepnotes as lib
        import deepnotes.nn.functional as F

        threadpool_limits(threads)
    else:
        import torch as lib
        import torch.nn.functional as F

        lib.set_num_threads(threads)
    lib.manual_seed(0)
    return lib, F, lib.optim


def _make_steps(framework, name, scale, threads, batch, width):
    """`train(k)` and `infer(k)` closures running k steps of the workload in `framework`."""
    from .workloads import build

    lib, F, optim = _framework(framework, threads)
    model, x, y, _ = build(framework, name, scale, batch, width)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)

    def train(k):
        model.train()
        for _ in range(k):
            opt.zero_grad()
            loss = F.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()

    def infer(k):
        model.eval()
        with lib.no_grad():
            for _ in range(k):
                model(xt)

    return train, infer


def main(argv=None):
    argv = argv or sys.argv[1:]
    framework, name, scale, threads = argv[0], argv[1], float(argv[2]), int(argv[3])
    batch = int(argv[4]) or None if len(argv) > 4 else None
    width = int(argv[5]) or None if len(argv) > 5 else None
    train, infer = _make_steps(framework, name, scale, threads, batch, width)
    base = _peak_mb()
    ready = {"ready": True}
    if framework == "deepnotes":
        from .. import backends

        ready["blas"] = backends.get_blas()  # chosen now, not inside the first timed step
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "rss":
            print(json.dumps({"peak_mb": _peak_mb(), "base_mb": base}), flush=True)
            continue
        fn, k = (train if cmd[0] == "train" else infer), int(cmd[1])
        wall0, cpu0 = time.perf_counter(), time.process_time()
        fn(k)
        print(json.dumps({"wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0}), flush=True)


if __name__ == "__main__":
    main()
