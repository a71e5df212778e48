"""The verdict rule: one function turns per-seed effects into holds / does not hold / mixed.

Seeds are paired: seed i gives every arm the same initialization and data order, so the
effect of a claim is a per-seed difference d_i (arm A's metric minus arm B's, oriented so that a
positive value is the direction the claim asserts). Each criterion fixes in code, before any
run, the smallest effect ``delta >= 0`` that would make the claim true in practice. With the
95% t-interval [lo, hi] on the mean of d (n - 1 degrees of freedom; Welch's interval when the
arms cannot be paired):

* **holds**          when mean(d) >= delta and lo > 0;
* **does not hold**  when hi < delta (the effect is smaller than claimed, or reversed);
* **mixed**          otherwise (too noisy to tell, or significant but smaller than claimed).

An exact claim (an identity, a count) has no spread: its interval is the point itself, and the
same rule applies. One seed says nothing about the spread: its interval is unbounded, so
its verdict is "mixed".
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
MIXED = "mixed"
VERDICTS = (HOLDS, DOES_NOT_HOLD, MIXED)


def _t_quantile(q: float, dof: float) -> float:
    """Student's t quantile with ``dof`` (real, > 0) degrees of freedom.

    ``scipy.special.stdtrit`` inverts the t CDF (it is what ``scipy.stats.t.ppf`` calls) and
    imports in milliseconds where ``scipy.stats`` takes seconds. SciPy comes with
    scikit-learn, a dependency of deepnotes.
    """
    from scipy.special import stdtrit

    return float(stdtrit(dof, q))


def t_interval(d, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of the paired differences d and its two-sided t-interval: (mean, lo, hi)."""
    d = np.asarray(d, dtype=np.float64).ravel()
    n = d.size
    if n == 0:
        raise ValueError("t_interval: no seeds (empty effect array)")
    mean = float(d.mean())
    if n == 1:
        return mean, -math.inf, math.inf
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return mean, mean, mean
    half = _t_quantile(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def welch_interval(a, b, level: float = 0.95) -> tuple[float, float, float]:
    """Difference of means mean(a) - mean(b) with Welch's t-interval: (diff, lo, hi)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size == 0 or b.size == 0:
        raise ValueError(f"welch_interval: both arms need values, got {a.size} and {b.size}")
    diff = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return diff, -math.inf, math.inf
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se2 = va + vb
    if se2 == 0.0:
        return diff, diff, diff
    dof = se2**2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = _t_quantile(0.5 + level / 2, dof) * math.sqrt(se2)
    return diff, diff - half, diff + half


def decide(mean: float, lo: float, hi: float, delta: float) -> str:
    """The rule of the module docstring, on an effect's mean and interval."""
    if delta < 0:
        raise ValueError(f"decide: delta is the smallest meaningful effect and must be >= 0, got {delta}")
    if mean >= delta and lo > 0:
        return HOLDS
    if hi < delta:
        return DOES_NOT_HOLD
    return MIXED


@dataclass(frozen=True)
class Judgement:
    """A criterion's verdict and the numbers behind it."""

    name: str
    verdict: str
    mean: float
    lo: float
    hi: float
    delta: float
    n: int
    per_seed: tuple  # the effect per seed (paired), or the per-seed difference of the arms' means
    p_a_beats_b: float  # fraction of seeds whose effect is > 0
    paired: bool = True

    def to_dict(self) -> dict:
        out = asdict(self)
        out["per_seed"] = list(self.per_seed)
        for key in ("lo", "hi"):  # JSON has no infinity
            if not math.isfinite(out[key]):
                out[key] = None
        return out


def judge(name: str, effects, delta: float, paired: bool = True, level: float = 0.95) -> Judgement:
    """Judge one criterion from its per-seed effects.

    Paired: ``effects`` is a sequence of numbers d_i. Unpaired: a sequence of pairs (a_i, b_i),
    the two arms' values from independent runs; Welch's interval on mean(a) - mean(b).
    Non-finite effects are refused: a claim maps divergence to a finite value it documents.
    """
    values = np.asarray(effects, dtype=np.float64)
    if values.size == 0:
        raise ValueError(f"criterion {name!r}: no per-seed effects")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"criterion {name!r}: effects must be finite, got {values.tolist()}")
    if paired:
        d = values.ravel()
        mean, lo, hi = t_interval(d, level)
    else:
        if values.ndim != 2 or values.shape[1] != 2:
            raise ValueError(f"criterion {name!r}: unpaired effects are (a, b) pairs, got shape {values.shape}")
        d = values[:, 0] - values[:, 1]
        mean, lo, hi = welch_interval(values[:, 0], values[:, 1], level)
    return Judgement(name, decide(mean, lo, hi, delta), mean, lo, hi, float(delta), int(d.size),
                     tuple(float(x) for x in d), float(np.mean(d > 0)), paired)


def all_of(verdicts: dict) -> str:
    """Combine sub-verdicts for a claim that asserts all of its parts: any part that does not
    hold makes the claim not hold; all parts holding make it hold; otherwise mixed."""
    values = list(verdicts.values())
    if not values:
        raise ValueError("all_of: a claim needs at least one criterion")
    if DOES_NOT_HOLD in values:
        return DOES_NOT_HOLD
    if all(v == HOLDS for v in values):
        return HOLDS
    return MIXED


def any_of(verdicts: dict) -> str:
    """Combine sub-verdicts for a claim that asserts at least one of its parts."""
    values = list(verdicts.values())
    if not values:
        raise ValueError("any_of: a claim needs at least one criterion")
    if HOLDS in values:
        return HOLDS
    if all(v == DOES_NOT_HOLD for v in values):
        return DOES_NOT_HOLD
    return MIXED
