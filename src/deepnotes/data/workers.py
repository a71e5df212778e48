"""Loading batches in worker processes (`DataLoader(num_workers=k)`), as PyTorch does on the CPU.

Each worker is a process of the standard library's `multiprocessing` (the "fork" start method
where the platform has it, so the dataset need not be picklable); the main process hands the
epoch's index batches out and yields the collated batches back *in order*, so a loader with
workers gives exactly the batches of the same loader without them.  In a worker,
`get_worker_info()` says which worker it is (`id`, `num_workers`, `seed`, `dataset`), and
`worker_init_fn(worker_id)` runs once when it starts.  Each worker's global generator is
reseeded with `seed = base_seed + id`, as PyTorch seeds its workers, so random augmentations
differ between workers but repeat from run to run.
"""
from __future__ import annotations

from types import SimpleNamespace

from .. import random as _random

_worker_info = None
_loader = None  # the loader whose batches this worker fetches (set before the fork)


def get_worker_info():
    """In a DataLoader worker: `(id, num_workers, seed, dataset)`; in the main process: None."""
    return _worker_info


def _start_worker(counter, num_workers, base_seed, worker_init_fn):
    global _worker_info
    with counter.get_lock():
        worker_id = counter.value
        counter.value += 1
    seed = base_seed + worker_id
    _random.manual_seed(seed)
    _worker_info = SimpleNamespace(id=worker_id, num_workers=num_workers, seed=seed, dataset=_loader.dataset)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def _fetch(batch):
    return _loader._fetch(batch)


def _context(loader):
    import multiprocessing  # deferred: only DataLoader(num_workers=k > 0) starts processes

    ctx = loader.multiprocessing_context
    if ctx is None:
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else methods[0])
    return multiprocessing.get_context(ctx) if isinstance(ctx, str) else ctx


def iterate_in_workers(loader, batches):
    """Yield `loader`'s collated `batches` fetched by `loader.num_workers` processes, in order."""
    global _loader
    ctx = _context(loader)
    base_seed = int(_random.default_generator().integers(2**31))
    _loader = loader
    counter = ctx.Value("i", 0)
    with ctx.Pool(loader.num_workers, initializer=_start_worker,
                  initargs=(counter, loader.num_workers, base_seed, loader.worker_init_fn)) as pool:
        yield from pool.imap(_fetch, batches, chunksize=1)
