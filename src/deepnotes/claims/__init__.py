"""deepnotes.claims: every classic claim an experiment with a verdict from data.

A claim is a one-seed experiment registered with `@claim` (see `registry`), criteria fixed
in code before any data, and a verdict from the one rule in `verdict`. The lab is a client
of the library exactly as a user's script is: the experiments use the public API only.

Around it: `lab.run_claims` (seeds as tasks on an executor -- `executors`: in-process,
a process pool, Ray -- with the results cache of `cache`), `evidence.Evidence` (the numbers,
the judgement, the environment), `report.build_report` (static HTML) and `verdicts()`, the
committed verdicts of the last quick run (``verdicts.json``, see `frozen`). The command line
is ``deepnotes claims list | run | report``.
"""
from .frozen import verdicts
from .registry import BUDGETS, DEFAULT_SEEDS, Claim, Criterion, claim, get, load_all, registered_ids
from .verdict import DOES_NOT_HOLD, HOLDS, MIXED, all_of, any_of, judge

__all__ = ["BUDGETS", "DEFAULT_SEEDS", "Claim", "Criterion", "claim", "get", "load_all", "registered_ids",
           "HOLDS", "DOES_NOT_HOLD", "MIXED", "all_of", "any_of", "judge", "verdicts"]
