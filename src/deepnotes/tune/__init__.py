"""deepnotes.tune: hyperparameter search -- grid, random, Bayesian optimization, successive halving,
Hyperband and ASHA.

    from deepnotes import tune
    space = {"lr": tune.loguniform(1e-4, 1e-1), "weight_decay": tune.loguniform(1e-6, 1e-2)}
    results = tune.run(objective, space, searcher="bo", n_trials=30, mode="max", executor="process", jobs=2)

Modules: `space` (dimensions and the unit cube), `search` (grid, random/Sobol, GP-BO), `gp`
(the Gaussian process), `acquisition` (log-EI, UCB), `halving` (successive halving, Hyperband, ASHA),
`run` (the loop and its results), `executors` (local, process pool, Ray), `objectives` (test
functions and model training), `hypergrad` (gradients with respect to hyperparameters).
"""
from .halving import asha, hyperband, successive_halving
from .run import Results, run
from .search import BayesianOptimization, GridSearch, RandomSearch, Searcher, make_searcher
from .space import Space, choice, loguniform, parse_dimension, randint, uniform

__all__ = ["run", "Results", "Space", "uniform", "loguniform", "randint", "choice", "parse_dimension",
           "Searcher", "GridSearch", "RandomSearch", "BayesianOptimization", "make_searcher",
           "successive_halving", "hyperband", "asha"]
