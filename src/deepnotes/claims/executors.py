"""Executors: where the (claim, seed) tasks run. One interface, three places.

* ``LocalExecutor``   -- in this process, one task after the other (the default);
* ``ProcessExecutor`` -- a pool of ``jobs`` worker processes on this machine
  (`concurrent.futures` with the forkserver context where it exists, spawn elsewhere:
  never fork, which would copy a parent's BLAS thread pool and locks);
* ``RayExecutor``     -- a Ray cluster (``address="auto"`` or ``"ray://host:10001"``), or a
  local Ray instance started for the run. Ray is an optional extra:
  ``pip install 'deepnotes[ray]'``.

Every task calls `deepnotes.claims.runner.run_seed` and returns its result, so the same
seeds give bit-identical metrics under all three (the test suite checks it). Each task pins
the BLAS thread pool to ``max(1, cpus // jobs)`` threads with threadpoolctl, so ``jobs``
parallel tasks do not oversubscribe the cores.

``executor.imap(tasks)`` yields ``(task, outcome)`` as tasks finish (in any order); an outcome
is ``{"ok": True, "result": {...}, "source_hash": ...}`` (the hash of the claim's code as the
worker loaded it) or ``{"ok": False, "error": "<traceback>"}``: one failing seed does not stop
the others.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Iterable, Iterator

from ..parallel import EXECUTORS, blas_threads, cpu_count, import_ray, mp_context, start_ray  # noqa: F401



@dataclass(frozen=True)
class Task:
    """One seed of one claim.

    ``module`` (and its file, ``module_file``) defines the claim: a worker that does not find
    the claim in ``deepnotes.claims.experiments`` imports it (a user's own claim module).
    """

    claim_id: str
    seed: int
    budget: str
    module: str = ""
    module_file: str = ""


def _import_claim_module(task: Task) -> None:
    try:
        importlib.import_module(task.module)
    except ModuleNotFoundError:
        if not task.module_file or not os.path.isfile(task.module_file):
            raise
        spec = importlib.util.spec_from_file_location(task.module, task.module_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[task.module] = module
        spec.loader.exec_module(module)




def run_task(task: Task, jobs: int = 1) -> dict:
    """Run one task with BLAS pinned to ``blas_threads(jobs)``; never raises (see module doc)."""
    try:
        from threadpoolctl import threadpool_limits

        from . import registry, runner

        if task.claim_id not in registry.load_all() and task.module:
            _import_claim_module(task)  # a claim defined outside deepnotes.claims.experiments
        with threadpool_limits(limits=blas_threads(jobs), user_api="blas"):
            result = runner.run_seed(task.claim_id, task.seed, task.budget)
        return {"ok": True, "result": result, "source_hash": registry.get(task.claim_id).source_hash()}
    except BaseException as exc:  # noqa: BLE001 - report any failure of the claim as this task's outcome
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {"ok": False, "error": "".join(traceback.format_exception(exc)).rstrip()}


class Executor:
    """Runs tasks; use as a context manager so worker processes are always shut down."""

    name = "base"
    jobs = 1

    def imap(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalExecutor(Executor):
    """Every task in this process, in order."""

    name = "local"

    def imap(self, tasks):
        for task in tasks:
            yield task, run_task(task, 1)



class ProcessExecutor(Executor):
    """A pool of ``jobs`` processes on this machine."""

    name = "process"

    def __init__(self, jobs: int = 2):
        if int(jobs) < 1:
            raise ValueError(f"ProcessExecutor: jobs must be >= 1, got {jobs}")
        self.jobs = int(jobs)
        self._pool = None

    def imap(self, tasks):
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=mp_context())
        pending = {self._pool.submit(run_task, task, self.jobs): task for task in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # a worker died (killed, out of memory): not the claim's doing
                    outcome = {"ok": False, "error": f"worker process failed: {type(exc).__name__}: {exc}"}
                yield task, outcome

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None



class RayExecutor(Executor):
    """Tasks as Ray remote functions (one CPU each).

    address: an existing cluster (``"auto"``, ``"ray://head:10001"``); None starts a local
             instance with ``jobs`` CPUs (a capped object store, no dashboard) and stops it
             on `close`. An already initialized Ray (``ray.is_initialized()``) is used as is.
    """

    name = "ray"

    def __init__(self, jobs: int | None = None, address: str | None = None,
                 object_store_memory: int = 100 * 1024**2):
        self.ray = import_ray()
        self._started = start_ray(self.ray, jobs, address, object_store_memory)
        cluster_cpus = int(self.ray.cluster_resources().get("CPU", 1))
        self.jobs = int(jobs or cluster_cpus)
        self._remote = self.ray.remote(num_cpus=1, max_retries=0)(run_task)

    def imap(self, tasks):
        refs = {self._remote.remote(task, self.jobs): task for task in tasks}
        while refs:
            done, _ = self.ray.wait(list(refs), num_returns=1)
            for ref in done:
                task = refs.pop(ref)
                try:
                    outcome = self.ray.get(ref)
                except Exception as exc:  # the worker died; the claim raised nothing (run_task never raises)
                    outcome = {"ok": False, "error": f"ray task failed: {type(exc).__name__}: {exc}"}
                yield task, outcome

    def close(self):
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()
            self._started = False


def make_executor(kind: str = "local", jobs: int = 1, address: str | None = None) -> Executor:
    """``"local"`` (jobs must be 1 or is ignored), ``"process"`` or ``"ray"``."""
    if kind not in EXECUTORS:
        raise ValueError(f"make_executor: executor must be one of {EXECUTORS}, got {kind!r}")
    if int(jobs) < 1:
        raise ValueError(f"make_executor: jobs must be >= 1, got {jobs}")
    if kind == "process":
        return ProcessExecutor(jobs)
    if kind == "ray":
        return RayExecutor(jobs, address)
    return LocalExecutor()
