"""Stop bad trials early: successive halving and its asynchronous form, ASHA.

A trial is ``objective(config, resource) -> value``: the value after ``resource`` units of
work (epochs, steps) -- an intermediate report. With rungs r_k = min_resource * eta^k:

* successive halving (Jamieson & Talwalkar 2016; the inner loop of Hyperband, Li et al. 2017)
  runs n configs at r_0, keeps the best 1/eta, runs them at r_1, and so on up to
  ``max_resource``: most of the budget goes to the configs that look good early.
* Hyperband (Li et al. 2017) hedges over how early one may stop: brackets s = s_max..0 run
  successive halving with n_s = ceil((s_max + 1) / (s + 1) * eta^s) configs starting at
  r_s = min_resource * eta^(s_max - s) (the last bracket is plain random search at full
  resource), each bracket costing about the same.
* ASHA (Li et al., "A system for massively parallel hyperparameter tuning", arXiv 2018,
  MLSys 2020) never waits for a rung to fill: whenever a worker is free, it promotes a config
  that is in the top 1/eta of its rung *as the rung stands now* and not yet promoted (highest
  rung first); if there is none, it starts a new config at r_0. Workers stay busy, a
  straggler holds up nobody -- at the price of a few promotions that a full rung would not
  have made (the top 1/eta of 3 finished trials is not the top 1/eta of 27).

Both rely on early values ranking configs like final ones do, which is roughly true for the
learning rate and much less for regularization (whose benefit shows late).
"""
from __future__ import annotations

import math

from .executors import TrialExecutor, make_trial_executor
from .search import RandomSearch, Searcher
from .space import Space


def rungs(min_resource, max_resource, eta):
    """The resources r_k = min_resource * eta^k, k = 0.., capped at and ending with max_resource."""
    if not (0 < min_resource <= max_resource) or eta < 2:
        raise ValueError(f"rungs: need 0 < min_resource <= max_resource and eta >= 2, got "
                         f"{min_resource}, {max_resource}, {eta}")
    out, r = [], min_resource
    while r < max_resource:
        out.append(r)
        r *= eta
    return out + [max_resource]


def _sign(mode):
    if mode not in ("min", "max"):
        raise ValueError(f"halving: mode must be 'min' or 'max', got {mode!r}")
    return 1.0 if mode == "min" else -1.0


def _searcher(space, seed, mode):
    return RandomSearch(space if isinstance(space, Space) else Space(space), mode=mode, seed=seed)


def successive_halving(objective, space, n_configs=27, min_resource=1, max_resource=27, eta=3, mode="min",
                       seed=0, searcher=None):
    """Synchronous successive halving; returns ``{"rungs": [[{config, value, resource}, ...], ...], "best"}``.

    Rung k holds max(1, n_configs // eta^k) configs, each run at resource r_k.
    """
    sign = _sign(mode)
    searcher = searcher if isinstance(searcher, Searcher) else _searcher(space, seed, mode)
    configs = [searcher.ask() for _ in range(int(n_configs))]
    history = []
    for k, r in enumerate(rungs(min_resource, max_resource, eta)):
        rung = [{"config": c, "value": float(objective(c, r)), "resource": r} for c in configs]
        history.append(rung)
        keep = max(1, len(rung) // eta)
        configs = [t["config"] for t in sorted(rung, key=lambda t: sign * t["value"])[:keep]]
    best = min(history[-1], key=lambda t: sign * t["value"])
    return {"rungs": history, "best": best, "cost": sum(t["resource"] for rung in history for t in rung)}


def hyperband(objective, space, min_resource=1, max_resource=27, eta=3, mode="min", seed=0, searcher=None):
    """Hyperband: successive halving brackets from the most aggressive (s = s_max, many configs at
    ``min_resource``) to none (s = 0, few configs at ``max_resource``); one searcher draws all configs.

    s_max + 1 is the number of rungs of `rungs` (min_resource, max_resource, eta). When max_resource /
    min_resource is a power of eta this is Li et al.'s schedule exactly; otherwise every bracket ends
    with a shorter last step up to max_resource.

    Returns ``{"brackets": [successive_halving result, ...], "best", "cost"}`` (``best``: the best final
    trial over brackets, with its bracket's ``s``).
    """
    sign = _sign(mode)
    s_max = len(rungs(min_resource, max_resource, eta)) - 1
    searcher = searcher if isinstance(searcher, Searcher) else _searcher(space, seed, mode)
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        start = min(min_resource * eta ** (s_max - s), max_resource)
        result = successive_halving(objective, space, n, start, max_resource, eta, mode, seed, searcher)
        brackets.append({**result, "s": s, "n_configs": n, "min_resource": start})
    best = min(({**b["best"], "s": b["s"]} for b in brackets), key=lambda t: sign * t["value"])
    return {"brackets": brackets, "best": best, "cost": sum(b["cost"] for b in brackets)}


def asha(objective, space, n_trials=30, min_resource=1, max_resource=27, eta=3, mode="min", seed=0,
         executor="local", jobs=1, searcher=None):
    """Asynchronous successive halving over an executor; stops after ``n_trials`` configs were started
    and no promotion is left. Returns ``{"jobs": [...], "rungs": [...], "best"}``; ``best`` is the best
    value at the highest rung any config reached."""
    sign = _sign(mode)
    searcher = searcher if isinstance(searcher, Searcher) else _searcher(space, seed, mode)
    levels = rungs(min_resource, max_resource, eta)
    done = [[] for _ in levels]       # per rung: (trial id, value)
    promoted = [set() for _ in levels]
    configs, jobs_log, running, started = {}, [], {}, 0
    own = not isinstance(executor, TrialExecutor)
    pool = make_trial_executor(executor, jobs, None) if own else executor
    width = max(1, int(getattr(pool, "jobs", jobs)))

    def next_job():
        nonlocal started
        for k in range(len(levels) - 2, -1, -1):  # highest rung first
            ranked = sorted(done[k], key=lambda t: sign * t[1])
            for trial, _ in ranked[:len(ranked) // eta]:
                if trial not in promoted[k]:
                    promoted[k].add(trial)
                    return trial, k + 1
        if started < n_trials:
            configs[started] = searcher.ask()
            started += 1
            return started - 1, 0
        return None

    try:
        while True:
            while len(running) < width:
                job = next_job()
                if job is None:
                    break
                trial, k = job
                running[pool.submit(objective, configs[trial], levels[k])] = job
            if not running:
                break
            key, outcome = pool.next_done()
            trial, k = running.pop(key)
            value = float(outcome["value"]) if outcome["ok"] else math.inf * sign
            done[k].append((trial, value))
            jobs_log.append({"trial": trial, "rung": k, "resource": levels[k], "value": value,
                             "config": configs[trial]})
    finally:
        if own:
            pool.close()
    top = max(k for k in range(len(levels)) if done[k])
    trial, value = min(done[top], key=lambda t: sign * t[1])
    return {"jobs": jobs_log, "rungs": [list(r) for r in done],
            "best": {"trial": trial, "config": configs[trial], "value": value, "resource": levels[top]},
            "cost": sum(j["resource"] for j in jobs_log)}
