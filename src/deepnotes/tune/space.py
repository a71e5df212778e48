"""Search spaces: the distributions a hyperparameter is drawn from, and their map to [0, 1].

A space is a (possibly nested) dict whose leaves are dimensions::

    space = {"lr": loguniform(1e-4, 1e-1), "model": {"width": randint(16, 257), "act": choice(["relu", "tanh"])},
             "epochs": 10}                       # a plain value is a constant, copied into every config

Every dimension maps a point u of the unit interval to a value (`from_unit`) and back (`to_unit`):

* ``uniform(a, b)``      x = a + u (b - a)
* ``loguniform(a, b)``   x = exp(log a + u (log b - log a))      (0 < a < b; uniform in log x)
* ``randint(a, b)``      an integer in [a, b) (NumPy's / PyTorch's convention: high is excluded),
                         u cut into b - a equal bins; ``log=True`` for a log-spaced integer
* ``choice(options)``    option floor(u k) of k options (categorical; the order means nothing)

    >>> from deepnotes.tune import Space, loguniform, randint
    >>> round(loguniform(1e-4, 1e-2).from_unit(0.5), 12)       # the geometric midpoint
    0.001
    >>> Space({"lr": loguniform(1e-4, 1e-2), "net": {"depth": randint(1, 4)}}).decode([0.0, 0.99])
    {'lr': 0.0001, 'net': {'depth': 3}}

Searchers work in the unit cube (a Gaussian process needs comparable input scales; Snoek et
al. 2012) and `Space.decode` turns a point of it into a config, rounding integers there: an
objective always receives the values it declared.
"""
from __future__ import annotations

import math
import re

import numpy as np


class Dimension:
    """One hyperparameter: `from_unit(u) -> value`, `to_unit(value) -> u`, `grid(resolution)`."""

    def from_unit(self, u):
        raise NotImplementedError

    def to_unit(self, value):
        raise NotImplementedError

    def grid(self, resolution):
        raise NotImplementedError


class uniform(Dimension):  # noqa: N801 - named like scipy.stats / Ray Tune's constructors
    """A float uniform on [low, high]."""

    log = False

    def __init__(self, low, high):
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"{type(self).__name__}: need finite low < high, got low={low}, high={high}")
        if self.log and low <= 0:
            raise ValueError(f"{type(self).__name__}: low must be > 0 on a log scale, got {low}")
        self.low, self.high = low, high

    def _ends(self):
        return (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)

    def from_unit(self, u):
        u = float(np.clip(u, 0.0, 1.0))
        if u in (0.0, 1.0):  # the bounds exactly (exp(log(low)) is not always low)
            return self.high if u else self.low
        a, b = self._ends()
        x = a + u * (b - a)
        return float(min(max(math.exp(x) if self.log else x, self.low), self.high))

    def to_unit(self, value):
        a, b = self._ends()
        x = math.log(value) if self.log else float(value)
        return float(np.clip((x - a) / (b - a), 0.0, 1.0))

    def grid(self, resolution):
        """`resolution` evenly spaced values (in log space for loguniform), both ends included."""
        if resolution < 1:
            raise ValueError(f"{type(self).__name__}.grid: resolution must be >= 1, got {resolution}")
        units = [0.5] if resolution == 1 else np.linspace(0.0, 1.0, resolution)
        return [self.from_unit(u) for u in units]

    def __repr__(self):
        return f"{type(self).__name__}({self.low:g}, {self.high:g})"


class loguniform(uniform):  # noqa: N801
    """A float whose logarithm is uniform on [log low, log high] (learning rates, weight decays)."""

    log = True


class randint(Dimension):  # noqa: N801
    """An integer in [low, high) (high excluded, as numpy.random.randint); ``log=True`` spaces it in log."""

    def __init__(self, low, high, log=False):
        if int(low) != low or int(high) != high or int(high) <= int(low):
            raise ValueError(f"randint: need integers low < high, got low={low}, high={high}")
        if log and low < 1:
            raise ValueError(f"randint: low must be >= 1 with log=True, got {low}")
        self.low, self.high, self.log = int(low), int(high), bool(log)
        self._cont = (loguniform if log else uniform)(self.low, self.high)

    def from_unit(self, u):
        return int(min(math.floor(self._cont.from_unit(u)), self.high - 1))

    def to_unit(self, value):
        if self.log:
            return self._cont.to_unit(int(value) + 0.5)
        return float((int(value) - self.low + 0.5) / (self.high - self.low))

    def grid(self, resolution):
        values = sorted({self.from_unit(u) for u in np.linspace(0.0, 1.0 - 1e-12, resolution)})
        return values

    def __repr__(self):
        return f"randint({self.low}, {self.high}{', log=True' if self.log else ''})"


class choice(Dimension):  # noqa: N801
    """One of a list of options (numbers, strings, tuples): each is one grid point."""

    def __init__(self, options):
        options = list(options)
        if not options:
            raise ValueError("choice: needs at least one option, got an empty list")
        self.options = options

    def from_unit(self, u):
        k = len(self.options)
        return self.options[min(int(float(u) * k), k - 1)]

    def to_unit(self, value):
        for i, option in enumerate(self.options):
            if option == value:
                return (i + 0.5) / len(self.options)
        raise ValueError(f"choice.to_unit: {value!r} is not one of {self.options}")

    def grid(self, resolution=None):
        return list(self.options)

    def __repr__(self):
        return f"choice({self.options!r})"


def _flatten(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _unflatten(flat):
    tree = {}
    for name, value in flat.items():
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


class Space:
    """A search space: named dimensions (dotted names for nested dicts) and constants.

    ``Space({"lr": loguniform(1e-4, 1e-1), "opt": {"beta": uniform(0.8, 0.99)}})`` has dimensions
    ``["lr", "opt.beta"]``; `decode(u)` with u of shape (d,) in [0, 1]^d returns the nested config.
    """

    def __init__(self, tree):
        if isinstance(tree, Space):
            tree = tree.tree
        if not isinstance(tree, dict) or not tree:
            raise ValueError(f"Space: expected a non-empty dict of dimensions, got {tree!r}")
        self.tree = tree
        flat = _flatten(tree)
        self.dims = {k: v for k, v in flat.items() if isinstance(v, Dimension)}
        self.constants = {k: v for k, v in flat.items() if not isinstance(v, Dimension)}
        self.names = list(self.dims)

    def __len__(self):
        return len(self.names)

    def decode(self, u):
        """The config (nested dict) at the unit-cube point u, shape (d,)."""
        u = np.asarray(u, dtype=np.float64).reshape(-1)
        if u.size != len(self.names):
            raise ValueError(f"Space.decode: expected a point of {len(self.names)} coordinates, got {u.size}")
        flat = dict(self.constants)
        flat.update({name: self.dims[name].from_unit(x) for name, x in zip(self.names, u)})
        return _unflatten(flat)

    def encode(self, config):
        """The unit-cube point, shape (d,), of a config (nested or dotted-flat dict)."""
        flat = _flatten(config)
        return np.array([self.dims[n].to_unit(flat[n]) for n in self.names], dtype=np.float64)

    def flat(self, config):
        """The searched values of a config as a flat dict {dotted name: value}."""
        flat = _flatten(config)
        return {n: flat[n] for n in self.names}

    def __repr__(self):
        return f"Space({self.dims!r})"


_SPEC = re.compile(r"^\s*([\w.]+)\s*=\s*(uniform|loguniform|randint|choice)\s*\((.*)\)\s*$")


def parse_dimension(text):
    """``"lr=loguniform(1e-4,1e-1)"`` -> ("lr", loguniform(1e-4, 1e-1)); the command line's ``--space``."""
    match = _SPEC.match(text)
    if not match:
        raise ValueError(f"parse_dimension: expected 'name=uniform|loguniform|randint|choice(args)', got {text!r}")
    name, kind, args = match.groups()
    parts = [a.strip() for a in args.split(",") if a.strip()]

    def number(s):
        value = float(s)
        return int(value) if kind == "randint" or (kind == "choice" and re.fullmatch(r"[+-]?\d+", s)) else value

    if kind == "choice":
        values = []
        for p in parts:
            try:
                values.append(number(p))
            except ValueError:
                values.append(p.strip("'\""))
        return name, choice(values)
    if len(parts) != 2:
        raise ValueError(f"parse_dimension: {kind} takes two numbers (low, high), got {text!r}")
    try:
        low, high = number(parts[0]), number(parts[1])
    except ValueError:
        raise ValueError(f"parse_dimension: {kind} bounds must be numbers, got {text!r}") from None
    return name, {"uniform": uniform, "loguniform": loguniform, "randint": randint}[kind](low, high)
