"""Where trials run: in this process, a process pool, or Ray (the claims lab's three places; what
they share -- start method, BLAS pinning, Ray setup -- is `deepnotes.parallel`).

A trial is a function call ``objective(config)``.

``submit(fn, *args)`` returns a key; ``next_done()`` returns ``(key, outcome)`` for whichever
call finishes first, so a searcher can be told about one trial and hand out the next while the
others still run. An outcome is ``{"ok": True, "value": ..., "seconds": s}`` or
``{"ok": False, "error": "<traceback>"}``: a failing trial does not stop the search.
"""
from __future__ import annotations

import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..parallel import EXECUTORS, blas_threads, cpu_count, import_ray, mp_context, start_ray  # noqa: F401


def call(fn, args, jobs=None):
    """``fn(*args)`` with BLAS pinned to ``blas_threads(jobs)`` (``jobs=None``: the caller's setting is
    kept, as in-process trials do); returns an outcome, never raises."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    try:
        limit = nullcontext() if jobs is None else threadpool_limits(limits=blas_threads(jobs), user_api="blas")
        with limit:
            value = fn(*args)
        return {"ok": True, "value": value, "seconds": time.perf_counter() - start}
    except Exception as exc:  # noqa: BLE001 - a failed trial is an outcome, not a crash of the search
        return {"ok": False, "error": "".join(traceback.format_exception(exc)).rstrip(),
                "seconds": time.perf_counter() - start}


class TrialExecutor:
    """Base class; a context manager so pools and Ray instances are always shut down."""

    name = "base"
    jobs = 1

    def __init__(self):
        self._count = 0

    def _key(self):
        self._count += 1
        return self._count - 1

    def submit(self, fn, *args):
        raise NotImplementedError

    def next_done(self):
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalTrials(TrialExecutor):
    """One call at a time in this process (a submitted call runs when its result is asked for), with
    this process's BLAS threads as they are (a claim run by the lab is already pinned)."""

    name = "local"

    def __init__(self):
        super().__init__()
        self._queue = []

    def submit(self, fn, *args):
        key = self._key()
        self._queue.append((key, fn, args))
        return key

    def next_done(self):
        key, fn, args = self._queue.pop(0)
        return key, call(fn, args)


class ProcessTrials(TrialExecutor):
    """A pool of ``jobs`` worker processes (``fn`` must be picklable: a module-level function or object)."""

    name = "process"

    def __init__(self, jobs=2):
        super().__init__()
        if int(jobs) < 1:
            raise ValueError(f"ProcessTrials: jobs must be >= 1, got {jobs}")
        self.jobs = int(jobs)
        self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=mp_context())
        self._pending = {}

    def submit(self, fn, *args):
        key = self._key()
        self._pending[self._pool.submit(call, fn, args, self.jobs)] = key
        return key

    def next_done(self):
        done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        future = min(done, key=self._pending.get)
        key = self._pending.pop(future)
        try:
            return key, future.result()
        except Exception as exc:  # the worker died (killed, out of memory)
            return key, {"ok": False, "error": f"worker process failed: {type(exc).__name__}: {exc}"}

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayTrials(TrialExecutor):
    """Trials as Ray tasks (one CPU each) on a cluster (``address``) or a local instance.

    An already initialized Ray is used as is; otherwise ``address=None`` starts a local instance
    with ``jobs`` CPUs, no dashboard and a capped object store, stopped by `close`.
    """

    name = "ray"

    def __init__(self, jobs=None, address=None, object_store_memory=100 * 1024**2):
        super().__init__()
        self.ray = import_ray()
        self._started = start_ray(self.ray, jobs or 1, address, object_store_memory)
        self.jobs = int(jobs or self.ray.cluster_resources().get("CPU", 1))
        self._remote = self.ray.remote(num_cpus=1, max_retries=0)(call)
        self._pending = {}

    def submit(self, fn, *args):
        key = self._key()
        self._pending[self._remote.remote(fn, args, self.jobs)] = key
        return key

    def next_done(self):
        done, _ = self.ray.wait(list(self._pending), num_returns=1)
        key = self._pending.pop(done[0])
        try:
            return key, self.ray.get(done[0])
        except Exception as exc:  # the worker died
            return key, {"ok": False, "error": f"ray task failed: {type(exc).__name__}: {exc}"}

    def close(self):
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()
            self._started = False


def make_trial_executor(kind="local", jobs=1, address=None):
    """``"local"``, ``"process"`` (``jobs`` workers) or ``"ray"``."""
    if kind not in EXECUTORS:
        raise ValueError(f"make_trial_executor: executor must be one of {EXECUTORS}, got {kind!r}")
    if int(jobs) < 1:
        raise ValueError(f"make_trial_executor: jobs must be >= 1, got {jobs}")
    if kind == "process":
        return ProcessTrials(jobs)
    if kind == "ray":
        return RayTrials(jobs, address)
    return LocalTrials()
