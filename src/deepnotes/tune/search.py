"""Searchers: grid, random (optionally scrambled Sobol) and Gaussian-process Bayesian optimization.

Every searcher speaks ask / tell::

    searcher = RandomSearch(space, seed=0)
    config = searcher.ask()            # a nested dict; None when a grid is exhausted
    searcher.tell(config, value)       # the objective's value (minimized with mode="min")

so `deepnotes.tune.run` can keep several trials in flight and hand each finished one back as it
arrives (an asynchronous searcher never waits for a whole batch).

Bergstra & Bengio (2012) is why random search beats a grid when few hyperparameters matter: a
grid of n^d points tries only n distinct values of each dimension, random search tries as many
as it has trials. Bayesian optimization (Snoek, Larochelle & Adams 2012) fits a Gaussian
process to the trials so far and tries the point of largest expected improvement (or upper
confidence bound): it spends trials where the model says the optimum may be.
"""
from __future__ import annotations

import itertools

import numpy as np

from . import acquisition
from .gp import GaussianProcess
from .space import Space

MODES = ("min", "max")


class Searcher:
    """Base class: ``ask() -> config | None``, ``tell(config, value)``; values kept in ``history``."""

    def __init__(self, space, mode="min", seed=0):
        if mode not in MODES:
            raise ValueError(f"{type(self).__name__}: mode must be 'min' or 'max', got {mode!r}")
        self.space = space if isinstance(space, Space) else Space(space)
        self.mode, self.seed = mode, seed
        self.rng = np.random.default_rng(seed)
        self.history = []  # (config, value)

    def ask(self):
        raise NotImplementedError

    def tell(self, config, value):
        self.history.append((config, float(value)))

    def forget(self, config):
        """A trial of ``config`` failed: nothing to learn (a searcher with pending trials drops it)."""

    def loss(self, value):
        """The value as a quantity to minimize."""
        return float(value) if self.mode == "min" else -float(value)


class GridSearch(Searcher):
    """Every combination of each dimension's grid (``resolution`` points for continuous ones).

    Dimensions vary in the order of the space, the last fastest (as itertools.product).
    ``len(searcher)`` is the number of configs.
    """

    def __init__(self, space, resolution=5, mode="min", seed=0, shuffle=False):
        super().__init__(space, mode, seed)
        axes = [self.space.dims[n].grid(resolution) for n in self.space.names]
        self._points = list(itertools.product(*axes))
        if shuffle:
            self.rng.shuffle(self._points)
        self._next = 0

    def __len__(self):
        return len(self._points)

    def ask(self):
        if self._next >= len(self._points):
            return None
        values = self._points[self._next]
        self._next += 1
        return self.space.decode([self.space.dims[n].to_unit(v) for n, v in zip(self.space.names, values)])


class RandomSearch(Searcher):
    """Independent uniform draws in the unit cube (so log-uniform in log-scaled dimensions).

    ``sobol=True`` draws a scrambled Sobol sequence instead (scipy.stats.qmc; Owen scrambling):
    a low-discrepancy sequence covers the cube more evenly than independent draws.
    """

    def __init__(self, space, mode="min", seed=0, sobol=False):
        super().__init__(space, mode, seed)
        self._sobol = None
        if sobol:
            from scipy.stats import qmc

            self._sobol = qmc.Sobol(d=len(self.space), scramble=True, seed=seed)

    def point(self):
        if self._sobol is not None:
            return self._sobol.random(1)[0]
        return self.rng.random(len(self.space))

    def ask(self):
        return self.space.decode(self.point())


class BayesianOptimization(Searcher):
    """GP-based Bayesian optimization (module docstring of `deepnotes.tune.gp` for the model).

    Args:
        acquisition: "ei" (log expected improvement) or "ucb".
        n_initial: trials drawn at random before the GP takes over.
        xi, kappa: EI's margin and UCB's exploration weight (on the standardized objective).
        n_candidates: random candidates before L-BFGS-B polishing of the acquisition.

    Trials asked for but not yet told (in flight on other workers) enter the GP as
    "constant liars" at the best value so far (Ginsbourger et al. 2010): the next point
    goes elsewhere instead of duplicating a running one.
    """

    def __init__(self, space, mode="min", seed=0, acquisition="ei", n_initial=5, xi=0.01, kappa=2.0,
                 n_candidates=1024, n_restarts=1):
        super().__init__(space, mode, seed)
        if acquisition not in ("ei", "ucb"):
            raise ValueError(f"BayesianOptimization: acquisition must be 'ei' or 'ucb', got {acquisition!r}")
        if n_initial < 1:
            raise ValueError(f"BayesianOptimization: n_initial must be >= 1, got {n_initial}")
        self.acquisition, self.n_initial, self.xi, self.kappa = acquisition, int(n_initial), xi, kappa
        self.n_candidates, self.n_restarts = n_candidates, n_restarts
        self._init = RandomSearch(self.space, seed=seed)
        self._pending = []  # unit points asked, not told
        self._X, self._y = [], []
        self.gp = None

    def ask(self):
        if len(self._X) + len(self._pending) < self.n_initial or not self._X:
            u = self._init.point()
        else:
            u = self._propose()
        config = self.space.decode(u)
        self._pending.append(self.space.encode(config))  # integers and choices snapped to their bins
        return config

    def _propose(self):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # n x n matrices with n ~ trials: BLAS threads only cost (~100x on a busy machine)
            return self._propose_point()

    def _propose_point(self):
        X = np.array(self._X + self._pending)
        y = np.array(self._y + [min(self._y)] * len(self._pending))
        warm = None if self.gp is None else self.gp.theta_
        self.gp = GaussianProcess(n_restarts=self.n_restarts, seed=int(self.rng.integers(2**31)),
                                  warm_start=warm).fit(X, y)
        best = float(min(self._y))
        scale = self.gp._y_std

        def fn(U):
            return acquisition.acquisition_values(self.gp, U, self.acquisition, best=best, xi=self.xi * scale,
                                                  kappa=self.kappa)

        u, _ = acquisition.maximize(fn, len(self.space), self.rng, self.n_candidates)
        return u

    def forget(self, config):
        u = self.space.encode(config)
        for i, p in enumerate(self._pending):
            if np.allclose(p, u):
                self._pending.pop(i)
                break

    def tell(self, config, value):
        super().tell(config, value)
        self.forget(config)  # no longer pending
        self._X.append(self.space.encode(config))
        self._y.append(self.loss(value))


SEARCHERS = {"grid": GridSearch, "random": RandomSearch, "bo": BayesianOptimization}


def make_searcher(name, space, mode="min", seed=0, **kwargs):
    """A searcher by name: "grid", "random", "sobol" or "bo" (kwargs go to its constructor)."""
    if name == "sobol":
        return RandomSearch(space, mode=mode, seed=seed, sobol=True)
    if name not in SEARCHERS:
        raise ValueError(f"make_searcher: searcher must be one of {sorted(SEARCHERS) + ['sobol']}, got {name!r}")
    return SEARCHERS[name](space, mode=mode, seed=seed, **kwargs)
