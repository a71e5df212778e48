"""What the claims lab and the tuner share about running work in parallel.

Both run independent tasks in one of three places -- this process, a pool of worker processes,
or Ray -- and both need the same care: worker processes start with forkserver (never fork, which
would copy a parent's BLAS thread pool and locks), each task pins BLAS to ``max(1, cpus // jobs)``
threads so ``jobs`` parallel tasks do not oversubscribe the cores, and Ray is an optional extra
with a clear message when it is missing.
"""
from __future__ import annotations

import multiprocessing
import os

EXECUTORS = ("local", "process", "ray")


def cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def blas_threads(jobs: int) -> int:
    """BLAS threads per task when ``jobs`` tasks run at once on this machine."""
    return max(1, cpu_count() // max(1, int(jobs)))


def mp_context():
    """The multiprocessing context for worker pools: forkserver where it exists, else spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def import_ray():
    """Import Ray or raise ImportError with the install command."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("the ray executor needs Ray: pip install 'deepnotes[ray]'") from exc
    return ray


def start_ray(ray, jobs, address, object_store_memory):
    """Connect to ``address``, or start a local instance with ``jobs`` CPUs, no dashboard and a
    capped object store (a small /dev/shm gets workers killed). Returns whether it started one."""
    if ray.is_initialized():
        return False
    kwargs = {"address": address} if address else {
        "num_cpus": int(jobs or cpu_count()), "include_dashboard": False, "object_store_memory": object_store_memory}
    ray.init(log_to_driver=False, configure_logging=False, **kwargs)
    return True


_thread_limit = None  # the threadpoolctl limiter set_num_threads keeps alive


def set_num_threads(num: int) -> None:
    """`torch.set_num_threads`: the number of threads NumPy's BLAS uses from now on (via threadpoolctl)."""
    global _thread_limit
    from threadpoolctl import threadpool_limits

    if not isinstance(num, int) or num < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {num!r}")
    if _thread_limit is not None:
        _thread_limit.restore_original_limits()
    _thread_limit = threadpool_limits(limits=num, user_api="blas")


def get_num_threads() -> int:
    """`torch.get_num_threads`: the number of threads of NumPy's BLAS (the largest if several are loaded)."""
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"), default=1)
