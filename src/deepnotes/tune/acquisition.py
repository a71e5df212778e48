"""Acquisition functions for minimization, and their maximization over the unit cube.

With the GP's posterior mean mu(x) and std sigma(x), and f* the best (lowest) value seen:

* expected improvement (Mockus 1978; Jones, Schonlau & Welch 1998)::

      EI(x) = E[max(f* - xi - f(x), 0)] = sigma * h(z),   z = (f* - xi - mu) / sigma,
      h(z)  = z Phi(z) + phi(z)

  Far from the incumbent z is very negative and z Phi(z) + phi(z) is a difference of two
  nearly equal tiny numbers: computed directly it underflows to 0 (or turns negative) and the
  acquisition surface goes flat, which is why BO implementations "stop exploring". `log_ei`
  computes log h(z) stably (Ament et al. 2023, "Unexpected improvements to expected
  improvement"): for z < -1, h(z) = phi(z) (1 + z m(z)) with the Mills ratio
  m(z) = Phi(z) / phi(z) = sqrt(pi/2) erfcx(-z / sqrt 2), and for z < -1e5 the asymptote
  log h(z) ~ log phi(z) - 2 log|z|. As sigma -> 0, EI -> max(f* - xi - mu, 0).
* upper confidence bound (Srinivas et al. 2010), for minimization the lower bound of f::

      UCB(x) = -(mu - kappa * sigma)          (maximized)

`maximize` draws random candidates, then polishes the best few with L-BFGS-B in [0, 1]^d.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize
from scipy.special import erfcx, log_ndtr, ndtr

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_h(z):
    """log(z Phi(z) + phi(z)), elementwise, finite for every finite z."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    log_phi = -0.5 * z * z - _LOG_SQRT_2PI
    big = z >= -1.0
    zb = z[big]
    out[big] = np.log(zb * ndtr(zb) + np.exp(-0.5 * zb * zb - _LOG_SQRT_2PI))
    mid = (z < -1.0) & (z >= -1e5)
    zm = z[mid]
    out[mid] = log_phi[mid] + np.log1p(zm * math.sqrt(math.pi / 2) * erfcx(-zm / math.sqrt(2)))
    far = z < -1e5
    out[far] = log_phi[far] - 2.0 * np.log(-z[far])
    return out


def expected_improvement(mu, sigma, best, xi=0.0):
    """EI for minimization (module docstring); sigma = 0 gives max(best - xi - mu, 0)."""
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    if np.any(sigma < 0):
        raise ValueError("expected_improvement: sigma must be >= 0")
    gain = best - xi - mu
    safe = np.where(sigma > 0, sigma, 1.0)
    z = gain / safe
    ei = safe * (z * ndtr(z) + np.exp(-0.5 * z * z - _LOG_SQRT_2PI))
    return np.where(sigma > 0, np.maximum(ei, 0.0), np.maximum(gain, 0.0))


def log_expected_improvement(mu, sigma, best, xi=0.0, min_sigma=1e-12):
    """log EI for minimization, finite where EI underflows; sigma is floored at ``min_sigma``."""
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), min_sigma)
    return np.log(sigma) + log_h((best - xi - mu) / sigma)


def upper_confidence_bound(mu, sigma, kappa=2.0):
    """-(mu - kappa sigma): large where f may be low (minimization)."""
    if kappa < 0:
        raise ValueError(f"upper_confidence_bound: kappa must be >= 0, got {kappa}")
    return -(np.asarray(mu, dtype=np.float64) - kappa * np.asarray(sigma, dtype=np.float64))


def probability_of_improvement_log(mu, sigma, best, xi=0.0):
    """log P(f(x) < best - xi) (for reference; not the default acquisition)."""
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), 1e-12)
    return log_ndtr((best - xi - np.asarray(mu, dtype=np.float64)) / sigma)


def acquisition_values(gp, X, kind="ei", best=None, xi=0.0, kappa=2.0):
    """The acquisition ``kind`` ("ei": log EI, or "ucb") of a fitted GP at X (m, d)."""
    mu, sigma = gp.predict(X, return_std=True)
    if kind == "ei":
        return log_expected_improvement(mu, sigma, best, xi)
    if kind == "ucb":
        return upper_confidence_bound(mu, sigma, kappa)
    raise ValueError(f"acquisition_values: kind must be 'ei' or 'ucb', got {kind!r}")


def maximize(fn, dim, rng, n_candidates=2048, n_polish=2):
    """argmax of fn (maps (m, dim) -> (m,)) over [0, 1]^dim: random candidates, then L-BFGS-B."""
    cand = rng.random((n_candidates, dim))
    values = fn(cand)
    order = np.argsort(-values)[:n_polish]
    best_x, best_v = cand[order[0]], values[order[0]]
    for i in order:
        res = minimize(lambda x: -float(fn(x[None, :])[0]), cand[i], method="L-BFGS-B",
                       bounds=[(0.0, 1.0)] * dim, options={"maxiter": 30})
        if np.isfinite(res.fun) and -res.fun > best_v:
            best_x, best_v = np.clip(res.x, 0.0, 1.0), -res.fun
    return best_x, float(best_v)
