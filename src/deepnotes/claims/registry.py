"""The claims registry: `@claim(...)` turns a function that runs one seed into a registered claim.

A claim module (one per topic family, in ``deepnotes/claims/experiments/``) looks like::

    from deepnotes.claims import Criterion, claim

    @claim(
        "K06", topics=["A5"],
        title_en="Naive softmax overflows", title_zh="朴素 softmax 会溢出",
        statement_en="...", statement_zh="...",
        criteria=[Criterion("overflow_gap", delta=1.0, text_en="...", text_zh="...")],
        method_en="...", method_zh="...", caveats_en="...", caveats_zh="...",
        code=["deepnotes.nn.functional.softmax"],
        seconds={"tiny": 1, "quick": 5, "full": 30},
    )
    def k06(seed: int, budget: str) -> dict:
        ...
        return {"metrics": {...}, "effects": {"overflow_gap": 3.2}, "series": {...}}

The function runs *one* seed at one budget ("tiny", "quick" or "full") and returns a JSON-able
dict: ``metrics`` (name -> finite float, the numbers a reader sees per seed), ``effects``
(criterion name -> the effect d_i for a paired criterion, or ``[a_i, b_i]`` for an unpaired one),
and optionally ``series`` (name -> list of numbers, or list of lists: curves for the figures).
The same seed must give every arm the same initialization and data order (paired seeds), and
the function must be deterministic given (seed, budget): call ``dn.manual_seed`` and seed NumPy
generators from ``seed``.

``first_seed`` (default 0) is where the claim's seeds start: a claim whose criterion was re-designed
after some seeds were seen is judged from then on on seeds nobody had run (its method text says so).

``figures(results, out_dir)`` (optional, attached with ``@k06.figures``) gets the list of
per-seed results and writes PNG files into ``out_dir``, returning their paths.

Criteria and their deltas are fixed in code before any data is seen; the verdict comes from
`deepnotes.claims.verdict`, never from the claim.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

from . import verdict as _verdict

BUDGETS = ("tiny", "quick", "full")
DEFAULT_SEEDS = {"tiny": 2, "quick": 3, "full": 5}
_ID = re.compile(r"^K\d\d$")


@dataclass(frozen=True)
class Criterion:
    """One sub-statement of a claim and its threshold.

    name:   key of the per-seed ``effects`` dict.
    delta:  the smallest effect (>= 0, in the effect's units) that makes it true in practice.
    text_en / text_zh: the criterion in words, e.g. "GN - BN test accuracy at batch 2 >= 0.05".
    paired: False when the arms cannot share a seed (effects are then [a, b] pairs; Welch).
    """

    name: str
    delta: float
    text_en: str
    text_zh: str
    paired: bool = True

    def __post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"Criterion: name must be a non-empty string, got {self.name!r}")
        if not (self.delta >= 0):
            raise ValueError(f"Criterion {self.name!r}: delta must be >= 0, got {self.delta}")
        if not self.text_en.strip() or not self.text_zh.strip():
            raise ValueError(f"Criterion {self.name!r}: text_en and text_zh must both be written")


@dataclass
class Claim:
    """A registered claim: its statement, its experiment (one seed) and its criteria."""

    id: str
    topics: tuple
    title_en: str
    title_zh: str
    statement_en: str
    statement_zh: str
    run: Callable[[int, str], dict]
    criteria: tuple
    combine: Callable[[dict], str] = _verdict.all_of
    method_en: str = ""
    method_zh: str = ""
    caveats_en: str = ""
    caveats_zh: str = ""
    code: tuple = ()
    seconds: dict = field(default_factory=dict)  # estimated seconds per seed per budget
    seeds: dict = field(default_factory=lambda: dict(DEFAULT_SEEDS))
    references: tuple = ()
    plot: Callable | None = None
    first_seed: int = 0  # the seeds run are first_seed, first_seed + 1, ... (plus any --seed-offset)

    def __call__(self, seed: int, budget: str = "tiny") -> dict:
        return self.run(seed, budget)

    def figures(self, fn: Callable) -> Callable:
        """Decorator: attach the figure function ``fn(results, out_dir) -> list[Path]``."""
        self.plot = fn
        return fn

    @property
    def module(self) -> str:
        return self.run.__module__

    def snapshot(self) -> None:
        """Record the source of the defining module (its hash) and of the experiment, as loaded.

        Called when the claim is registered, i.e. while its module is being imported: the
        hash then names the code that actually runs, even if the file is edited afterwards.
        """
        module = sys.modules.get(self.run.__module__)
        try:
            module_source = inspect.getsource(module)
        except (OSError, TypeError):  # no file (an interactive session): hash the bytecode
            module_source = repr((self.run.__code__.co_code, self.run.__code__.co_consts))
        try:
            source = inspect.getsource(self.run)
        except (OSError, TypeError):
            source = f"# source of {self.run.__qualname__} not available"
        self._snapshot = (hashlib.sha256(module_source.encode("utf-8")).hexdigest()[:16], source)

    def source_hash(self) -> str:
        """Hash of the source of the module that defines the claim (a changed claim re-runs)."""
        if getattr(self, "_snapshot", None) is None:
            self.snapshot()
        return self._snapshot[0]

    def criterion_source(self) -> str:
        """The source code of the experiment function (shown in the report beside the criteria)."""
        if getattr(self, "_snapshot", None) is None:
            self.snapshot()
        return self._snapshot[1]

    def judge(self, results: list) -> dict:
        """Judge every criterion from per-seed results; returns {"verdict", "criteria": {...}}."""
        judgements = {}
        for crit in self.criteria:
            effects = []
            for i, result in enumerate(results):
                if crit.name not in result.get("effects", {}):
                    raise KeyError(f"claim {self.id}: seed result {i} has no effect {crit.name!r}")
                effects.append(result["effects"][crit.name])
            judgements[crit.name] = _verdict.judge(crit.name, effects, crit.delta, paired=crit.paired)
        overall = self.combine({k: j.verdict for k, j in judgements.items()})
        if overall not in _verdict.VERDICTS:
            raise ValueError(f"claim {self.id}: combine returned {overall!r}, not one of {_verdict.VERDICTS}")
        return {"verdict": overall, "criteria": judgements}


_REGISTRY: dict[str, Claim] = {}


def claim(claim_id: str, *, topics, title_en, title_zh, statement_en, statement_zh, criteria,
          combine=_verdict.all_of, method_en="", method_zh="", caveats_en="", caveats_zh="",
          code=(), seconds=None, seeds=None, references=(), first_seed=0):
    """Register the decorated one-seed experiment as claim ``claim_id`` (see the module docstring)."""
    if not _ID.match(claim_id):
        raise ValueError(f"claim: ID must look like 'K07', got {claim_id!r}")
    criteria = tuple(criteria)
    if not criteria or not all(isinstance(c, Criterion) for c in criteria):
        raise ValueError(f"claim {claim_id}: criteria must be a non-empty list of Criterion")
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        raise ValueError(f"claim {claim_id}: criterion names repeat: {names}")
    for label, text in (("title_en", title_en), ("title_zh", title_zh),
                        ("statement_en", statement_en), ("statement_zh", statement_zh)):
        if not str(text).strip():
            raise ValueError(f"claim {claim_id}: {label} is empty")
    if not isinstance(first_seed, int) or isinstance(first_seed, bool) or first_seed < 0:
        raise ValueError(f"claim {claim_id}: first_seed must be an int >= 0, got {first_seed!r}")

    def register(fn):
        existing = _REGISTRY.get(claim_id)
        if existing is not None and (existing.run.__module__, existing.run.__qualname__) != (
                fn.__module__, fn.__qualname__):
            raise ValueError(f"claim {claim_id} is registered twice: {existing.module} and {fn.__module__}")
        obj = Claim(claim_id, tuple(topics), title_en, title_zh, statement_en, statement_zh, fn, criteria,
                    combine, method_en, method_zh, caveats_en, caveats_zh, tuple(code),
                    dict(seconds or {}), {**DEFAULT_SEEDS, **(seeds or {})}, tuple(references),
                    first_seed=first_seed)
        obj.snapshot()
        _REGISTRY[claim_id] = obj
        return obj

    return register


_loaded = False


def load_all() -> dict[str, Claim]:
    """Import every module of ``deepnotes.claims.experiments`` and return the registry by ID."""
    global _loaded
    if not _loaded:
        from . import experiments

        for info in pkgutil.iter_modules(experiments.__path__):
            importlib.import_module(f"{experiments.__name__}.{info.name}")
        _loaded = True
    return dict(sorted(_REGISTRY.items()))


def get(claim_id: str) -> Claim:
    claims = load_all()
    if claim_id not in claims:
        raise KeyError(f"no claim {claim_id!r}; registered: {', '.join(claims) or 'none'}")
    return claims[claim_id]


def registered_ids() -> list[str]:
    return list(load_all())


def unregister(claim_id: str) -> None:
    """Remove a claim (one a script or a test registered for a while); unknown IDs are ignored."""
    _REGISTRY.pop(claim_id, None)
