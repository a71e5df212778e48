"""A Gaussian process regressor for Bayesian optimization: Matérn-5/2 with one length scale per input.

The kernel (Rasmussen & Williams 2006, eq. 4.17; automatic relevance determination, ARD)::

    r(x, x')  = sqrt( sum_j (x_j - x'_j)^2 / l_j^2 )
    k(x, x')  = s2 * (1 + sqrt(5) r + 5/3 r^2) * exp(-sqrt(5) r)   +   noise * [x == x']

It is scikit-learn's ``ConstantKernel(s2) * Matern(length_scale=l, nu=2.5) + WhiteKernel(noise)``
(the test suite compares the posterior and the likelihood with it). Hyperparameters
theta = (log s2, log l_1..l_d, log noise) maximize the log marginal likelihood (R&W eq. 2.30)::

    log p(y | X, theta) = -1/2 y^T K^-1 y - sum_i log L_ii - n/2 log(2 pi),    K = L L^T

with its analytic gradient 1/2 tr((a a^T - K^-1) dK/dtheta), a = K^-1 y, by L-BFGS-B from
several starts (the likelihood has local optima). Inputs are expected in [0, 1]^d (the
`Space` does it, on a log scale where declared); y is standardized (``normalize_y``); a
``jitter`` is added to the diagonal before the Cholesky factorization, on top of the learned
noise, so a near-singular K still factors.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize

SQRT5 = math.sqrt(5.0)


def _sq_dist(a, b, length_scale):
    """Per-dimension squared scaled differences, shape (n, m, d)."""
    diff = (a[:, None, :] - b[None, :, :]) / length_scale
    return diff * diff


def matern52(a, b, length_scale, amplitude=1.0):
    """The Matérn-5/2 kernel matrix k(a_i, b_j), shape (n, m); a (n, d), b (m, d), length_scale (d,)."""
    r = np.sqrt(np.maximum(_sq_dist(a, b, length_scale).sum(-1), 0.0))
    return amplitude * (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * np.exp(-SQRT5 * r)


class GaussianProcess:
    """GP regression with the kernel of the module docstring.

    Args:
        length_scale, amplitude, noise: starting (or, with ``optimize=False``, fixed) hyperparameters.
        optimize: fit the hyperparameters by maximizing the log marginal likelihood.
        n_restarts: extra L-BFGS-B starts drawn log-uniformly within the bounds.
        normalize_y: standardize y (mean 0, std 1) before the fit; predictions are mapped back.
        jitter: added to K's diagonal before the Cholesky factorization.
        seed: for the restarts.
        warm_start: a theta (e.g. the previous fit's ``theta_``) tried as one more start.

    After `fit(X, y)` (X (n, d), y (n,)): ``theta_`` (log hyperparameters), ``length_scale_``,
    ``amplitude_``, ``noise_``, ``log_marginal_likelihood_value_``.
    """

    bounds = {"amplitude": (1e-3, 1e3), "length_scale": (1e-3, 1e3), "noise": (1e-8, 1.0)}

    def __init__(self, length_scale=0.5, amplitude=1.0, noise=1e-3, optimize=True, n_restarts=4,
                 normalize_y=True, jitter=1e-10, seed=0, warm_start=None):
        for name, value in (("length_scale", length_scale), ("amplitude", amplitude), ("noise", noise)):
            if np.any(np.asarray(value, dtype=np.float64) <= 0):
                raise ValueError(f"GaussianProcess: {name} must be > 0, got {value}")
        if n_restarts < 0:
            raise ValueError(f"GaussianProcess: n_restarts must be >= 0, got {n_restarts}")
        self.length_scale, self.amplitude, self.noise = length_scale, float(amplitude), float(noise)
        self.optimize, self.n_restarts, self.normalize_y = optimize, int(n_restarts), normalize_y
        self.jitter, self.seed, self.warm_start = float(jitter), seed, warm_start

    # ------------------------------------------------------------------ likelihood
    def _unpack(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        return math.exp(theta[0]), np.exp(theta[1:-1]), math.exp(theta[-1])

    def log_marginal_likelihood(self, theta, eval_gradient=False):
        """log p(y | X, theta) on the fitted data (standardized y); theta = (log s2, log l.., log noise).

        With ``eval_gradient``, also its gradient with respect to theta (shape (d + 2,)).
        """
        s2, ls, noise = self._unpack(theta)
        x, y = self.X_train_, self._y
        n = len(x)
        sq = _sq_dist(x, x, ls)
        r = np.sqrt(sq.sum(-1))
        e = np.exp(-SQRT5 * r)
        kf = s2 * (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * e
        k = kf + (noise + self.jitter) * np.eye(n)
        try:
            chol = cholesky(k, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return (-np.inf, np.zeros(len(theta))) if eval_gradient else -np.inf
        alpha = cho_solve((chol, True), y, check_finite=False)
        lml = -0.5 * y @ alpha - np.log(np.diag(chol)).sum() - 0.5 * n * math.log(2 * math.pi)
        if not eval_gradient:
            return float(lml)
        inner = np.outer(alpha, alpha) - cho_solve((chol, True), np.eye(n), check_finite=False)
        grads = [kf]  # dK / dlog s2
        common = s2 * 5.0 / 3.0 * (1.0 + SQRT5 * r) * e  # dK/dlog l_j = common * (x_j - x'_j)^2 / l_j^2
        grads += [common * sq[:, :, j] for j in range(len(ls))]
        grads.append(noise * np.eye(n))
        grad = np.array([0.5 * np.sum(inner * g) for g in grads])
        return float(lml), grad

    def _theta0(self, d):
        ls = np.broadcast_to(np.asarray(self.length_scale, dtype=np.float64), (d,))
        return np.concatenate([[math.log(self.amplitude)], np.log(ls), [math.log(self.noise)]])

    def _theta_bounds(self, d):
        b = self.bounds
        return np.log([b["amplitude"]] + [b["length_scale"]] * d + [b["noise"]])

    # ------------------------------------------------------------------ fit / predict
    def fit(self, X, y):
        """Condition on X (n, d) and y (n,); with ``optimize``, maximize the likelihood first."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
            raise ValueError(f"GaussianProcess.fit: expected X (n, d) and y (n,), got {X.shape} and {y.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("GaussianProcess.fit: X and y must be finite")
        self.X_train_ = X
        self._y_mean = float(y.mean()) if self.normalize_y else 0.0
        std = float(y.std()) if self.normalize_y else 1.0
        self._y_std = std if std > 0 else 1.0
        self._y = (y - self._y_mean) / self._y_std
        theta = self._theta0(X.shape[1])
        if self.optimize:
            theta = self._maximize(theta)
        self._condition(theta)
        return self

    def _maximize(self, theta0):
        bounds = self._theta_bounds(len(theta0) - 2)
        rng = np.random.default_rng(self.seed)
        starts = [np.clip(theta0, bounds[:, 0], bounds[:, 1])]
        if self.warm_start is not None:  # the previous fit's optimum: usually the best start
            starts.append(np.clip(np.asarray(self.warm_start, dtype=np.float64), bounds[:, 0], bounds[:, 1]))
        starts += [rng.uniform(bounds[:, 0], bounds[:, 1]) for _ in range(self.n_restarts)]
        best_theta, best = starts[0], -np.inf

        def objective(theta):
            value, grad = self.log_marginal_likelihood(theta, eval_gradient=True)
            if not np.isfinite(value):
                return 1e25, np.zeros_like(theta)
            return -value, -grad

        for start in starts:
            res = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds)
            if -res.fun > best:
                best_theta, best = res.x, -res.fun
        return best_theta

    def _condition(self, theta):
        self.theta_ = np.asarray(theta, dtype=np.float64)
        self.amplitude_, self.length_scale_, self.noise_ = self._unpack(self.theta_)
        k = self._k(self.X_train_, self.X_train_) + (self.noise_ + self.jitter) * np.eye(len(self.X_train_))
        self._chol = cholesky(k, lower=True)
        self._alpha = cho_solve((self._chol, True), self._y)
        self.log_marginal_likelihood_value_ = self.log_marginal_likelihood(self.theta_)

    def _k(self, a, b):
        return matern52(a, b, self.length_scale_, self.amplitude_)

    def predict(self, X, return_std=False, include_noise=False):
        """Posterior mean (m,) (and std (m,)) at X (m, d), in y's units.

            mean = k_*^T K^-1 y,    var = k(x, x) - k_*^T K^-1 k_*   (+ noise with ``include_noise``)

        ``include_noise=True`` is the predictive std of a new noisy observation (scikit-learn's
        ``predict`` with a WhiteKernel reports that one).
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.X_train_.shape[1]:
            raise ValueError(f"GaussianProcess.predict: expected X of shape (m, {self.X_train_.shape[1]}), got {X.shape}")
        k_star = self._k(X, self.X_train_)
        mean = k_star @ self._alpha * self._y_std + self._y_mean
        if not return_std:
            return mean
        v = solve_triangular(self._chol, k_star.T, lower=True, check_finite=False)
        var = self.amplitude_ - np.sum(v * v, axis=0) + (self.noise_ if include_noise else 0.0)
        return mean, np.sqrt(np.maximum(var, 0.0)) * self._y_std
