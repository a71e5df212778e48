"""Constrained minimization by the augmented Lagrangian method, and a KKT checker (inventory T2).

Problem:  min f(x)  subject to  h_i(x) = 0 (i = 1..p),  g_j(x) <= 0 (j = 1..q),
with f, h_i, g_j written with deepnotes tensors (gradients come from autograd).

Lagrange multipliers and the KKT conditions.  At a solution x* where the
constraint gradients are well behaved (a constraint qualification, e.g.
LICQ: the gradients of the equalities and of the active inequalities are
linearly independent) there are multipliers lambda (free sign) and mu with

    grad f + sum_i lambda_i grad h_i + sum_j mu_j grad g_j = 0     (stationarity)
    h(x*) = 0,  g(x*) <= 0                                        (primal feasibility)
    mu >= 0                                                       (dual feasibility)
    mu_j g_j(x*) = 0 for every j                                  (complementary slackness)

mu_j > 0 only for an active constraint (g_j = 0): the constraint pushes
back on the objective, and mu_j is the rate at which the optimal value would
fall if the constraint were relaxed.  An inactive constraint has mu_j = 0.

The augmented Lagrangian (Powell-Hestenes-Rockafellar form; Nocedal & Wright
ch. 17, Birgin & Martinez 2014) with penalty rho:

    L_A(x) = f + sum_i [lambda_i h_i + rho/2 h_i^2]
               + 1/(2 rho) sum_j [max(0, mu_j + rho g_j)^2 - mu_j^2]

Minimize L_A over x (with L-BFGS), then update the multipliers with what
grad L_A = 0 says they should be,

    lambda_i <- lambda_i + rho h_i(x),     mu_j <- max(0, mu_j + rho g_j(x)),

and multiply rho by 10 when the constraint violation did not shrink by 4x.
Unlike a pure penalty method, rho need not go to infinity: once the
multipliers are right, a moderate rho makes x* a minimizer of L_A.

When LICQ fails, two things can happen, and `kkt_check` tells them apart:

* redundant constraints (e.g. x <= 1 and 2x <= 2, parallel gradients): the
  KKT conditions still hold, but the multipliers are not unique (any mu >= 0
  with mu_1 + 2 mu_2 fixed).  The method finds x* and *one* valid mu, which
  depends on the path (rho, starting point) and will generally differ from
  SciPy's; `kkt_check` reports KKT satisfied, LICQ failing and
  `multiplier_freedom` 1.
* degenerate constraints (e.g. min x s.t. x^2 <= 0: at x* = 0 the
  constraint's gradient vanishes): no multipliers exist.  The iterates
  approach x* only as mu grows without bound (x ~ -1/(2 mu)), the run ends at
  `max_outer` with `success=False`, and `kkt_check` reports the conditions
  failing (complementary slackness mu g stays far above the tolerance).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autograd.engine import grad as autograd_grad
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor
from ..ops.api import maximum
from .lbfgs import LBFGS


def _scalar(value, what):
    if not isinstance(value, Tensor):
        raise TypeError(f"{what} must return a deepnotes Tensor (so autograd can differentiate it), "
                        f"got {type(value).__name__}")
    if value.numel() != 1:
        raise ValueError(f"{what} must return one number, got shape {value.shape}")
    return value.reshape(())


def _values_and_gradients(fns, x, what):
    """(values (k,), gradients (k, n)) of scalar functions at the point x (a 1-d array)."""
    values, grads = [], []
    for i, fn in enumerate(fns):
        leaf = Tensor(np.array(x, dtype=np.float64), requires_grad=True)
        with enable_grad():
            out = _scalar(fn(leaf), f"{what}[{i}]")
        if out.requires_grad:
            (g,) = autograd_grad(out, [leaf], allow_unused=True)
            g = np.zeros_like(leaf._data) if g is None else g._data
        else:
            g = np.zeros_like(leaf._data)
        values.append(float(out.item()))
        grads.append(g.reshape(-1))
    return np.array(values), np.array(grads).reshape(len(fns), np.size(x))


@dataclass
class KKTReport:
    """How well (x, lambda, mu) satisfies the KKT conditions.

    Attributes:
        stationarity: ||grad f + J_h^T lambda + J_g^T mu||_2.
        primal_feasibility: max(max_i |h_i|, max_j max(0, g_j)).
        dual_feasibility: max_j max(0, -mu_j) (0 when every mu_j >= 0).
        complementary_slackness: max_j |mu_j g_j|.
        active: indices j of the inequalities with |g_j| <= tol.
        licq: whether the gradients of the equalities and the active
            inequalities are linearly independent.
        multiplier_freedom: the dimension of the set of multipliers that
            satisfy stationarity (0 under LICQ: they are unique; > 0 when
            LICQ fails: a whole line, plane... of them does).
        min_stationarity: the smallest stationarity any multipliers (with the
            inactive mu_j = 0) could give, by least squares: > 0 means no
            multipliers exist (the KKT conditions fail at x, which can happen
            at a minimizer where no constraint qualification holds).
        tol: the tolerance used.
    """

    stationarity: float
    primal_feasibility: float
    dual_feasibility: float
    complementary_slackness: float
    active: list
    licq: bool
    multiplier_freedom: int
    min_stationarity: float
    tol: float

    @property
    def satisfied(self):
        """All four conditions hold to `tol`."""
        return max(self.stationarity, self.primal_feasibility, self.dual_feasibility,
                   self.complementary_slackness) <= self.tol

    def __str__(self):
        verdict = "KKT conditions hold" if self.satisfied else "KKT conditions do NOT hold"
        lines = [
            f"{verdict} (tol {self.tol:g})",
            f"  stationarity             {self.stationarity:.3e}",
            f"  primal feasibility       {self.primal_feasibility:.3e}",
            f"  dual feasibility         {self.dual_feasibility:.3e}",
            f"  complementary slackness  {self.complementary_slackness:.3e}",
            f"  active inequalities      {self.active}",
        ]
        if self.licq:
            lines.append("  LICQ holds: the multipliers are unique")
        else:
            lines.append(f"  LICQ fails: the constraint gradients are dependent; the multipliers satisfying "
                         f"stationarity form a set of dimension {self.multiplier_freedom}"
                         + ("" if self.min_stationarity <= self.tol else
                            f", and none make it hold (best residual {self.min_stationarity:.3e})"))
        return "\n".join(lines)


def kkt_check(f, x, eq=(), ineq=(), lam=None, mu=None, tol=1e-6):
    """Check the KKT conditions of min f s.t. h(x) = 0, g(x) <= 0 at x with multipliers lambda, mu.

    Args:
        f: x: (n,) Tensor -> scalar Tensor.
        x: (n,) the point (array or Tensor).
        eq: the equality constraints h_i (each x -> scalar Tensor, h_i(x) = 0).
        ineq: the inequality constraints g_j (each x -> scalar Tensor, g_j(x) <= 0).
        lam: (p,) multipliers of the equalities (default zeros).
        mu: (q,) multipliers of the inequalities (default zeros).
        tol: the tolerance for "holds", for "active" and for the rank test.

    Returns:
        A `KKTReport`.
    """
    x = np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.float64).reshape(-1)
    eq, ineq = list(eq), list(ineq)
    lam = np.zeros(len(eq)) if lam is None else np.asarray(lam, dtype=np.float64).reshape(-1)
    mu = np.zeros(len(ineq)) if mu is None else np.asarray(mu, dtype=np.float64).reshape(-1)
    if lam.shape != (len(eq),) or mu.shape != (len(ineq),):
        raise ValueError(f"kkt_check: expected {len(eq)} lambdas and {len(ineq)} mus, got {lam.shape}, {mu.shape}")
    _, grad_f = _values_and_gradients([f], x, "f")
    h, J_h = _values_and_gradients(eq, x, "eq")
    g, J_g = _values_and_gradients(ineq, x, "ineq")
    grad_f = grad_f[0]
    residual = grad_f + J_h.T @ lam + J_g.T @ mu
    active = [int(j) for j in np.flatnonzero(np.abs(g) <= tol)]
    J_active = np.vstack([J_h, J_g[active]]) if (len(eq) or active) else np.zeros((0, x.size))
    rank = int(np.linalg.matrix_rank(J_active, tol=tol)) if J_active.size else 0
    # The best any multipliers on the equalities and active inequalities could do.
    if J_active.size:
        nu = np.linalg.lstsq(J_active.T, -grad_f, rcond=None)[0]
        min_stationarity = float(np.linalg.norm(grad_f + J_active.T @ nu))
    else:
        min_stationarity = float(np.linalg.norm(grad_f))
    return KKTReport(
        stationarity=float(np.linalg.norm(residual)),
        primal_feasibility=float(max(np.abs(h).max(initial=0.0), np.maximum(g, 0.0).max(initial=0.0))),
        dual_feasibility=float(np.maximum(-mu, 0.0).max(initial=0.0)),
        complementary_slackness=float(np.abs(mu * g).max(initial=0.0)),
        active=active,
        licq=rank == J_active.shape[0],
        multiplier_freedom=J_active.shape[0] - rank,
        min_stationarity=min_stationarity,
        tol=tol,
    )


@dataclass
class ConstrainedResult:
    """What `minimize_augmented_lagrangian` found.

    Attributes:
        x: (n,) the solution.
        lam: (p,) equality multipliers; mu: (q,) inequality multipliers (>= 0).
        fun: f(x).
        success: the stopping tolerances were met within `max_outer` iterations.
        outer_iterations: multiplier updates made; evaluations: L_A evaluations by the inner solver.
        rho: the final penalty.
        kkt: the `KKTReport` at (x, lam, mu).
        history: per outer iteration: rho, the violation, the inner gradient norm, f.
    """

    x: np.ndarray
    lam: np.ndarray
    mu: np.ndarray
    fun: float
    success: bool
    outer_iterations: int
    evaluations: int
    rho: float
    kkt: KKTReport
    history: list = field(default_factory=list)


def minimize_augmented_lagrangian(f, x0, eq=(), ineq=(), rho=10.0, rho_max=1e10, tol=1e-8, gtol=1e-6,
                                  max_outer=50, inner_max_iter=500, inner_optimizer=None):
    """Minimize f(x) subject to h_i(x) = 0 and g_j(x) <= 0 by the augmented Lagrangian method.

    Args:
        f: x: (n,) float64 Tensor -> scalar Tensor.
        x0: (n,) the start (need not be feasible).
        eq: equality constraints, each x -> scalar Tensor (h_i(x) = 0).
        ineq: inequality constraints, each x -> scalar Tensor (g_j(x) <= 0; note: SciPy's
            'ineq' means c(x) >= 0, i.e. g = -c).
        rho: the initial penalty; rho_max: its cap.
        tol: the constraint violation and the complementarity |mu_j g_j| must fall below `tol`...
        gtol: ... and the gradient of the Lagrangian (max norm) below `gtol`; the
            inner solver aims 100x lower.  (Much below 1e-7 |f| rounding error
            in f stops the line search first.)
        max_outer: the most multiplier updates.
        inner_max_iter: L-BFGS iterations per subproblem.
        inner_optimizer: params -> optimizer with the closure API, for the
            subproblem (default: `LBFGS` with a strong-Wolfe line search).

    Returns:
        A `ConstrainedResult`.

    Example:
        >>> import numpy as np
        >>> f = lambda x: ((x - 2.0) ** 2).sum()                # nearest point to (2, 2) ...
        >>> g = lambda x: x.sum() - 2.0                         # ... with x + y <= 2
        >>> r = minimize_augmented_lagrangian(f, np.zeros(2), ineq=[g])
        >>> np.round(r.x, 6).tolist(), np.round(r.mu, 6).tolist(), r.kkt.satisfied
        ([1.0, 1.0], [2.0], True)
    """
    eq, ineq = list(eq), list(ineq)
    x = Tensor(np.array(x0, dtype=np.float64).reshape(-1), requires_grad=True)
    lam, mu = np.zeros(len(eq)), np.zeros(len(ineq))
    history, evaluations = [], 0
    violation_before = np.inf
    success = False
    outer = 0
    for outer in range(1, max_outer + 1):
        lam_t, mu_t, r = lam.copy(), mu.copy(), float(rho)

        def augmented(x, lam_t=lam_t, mu_t=mu_t, r=r):
            value = _scalar(f(x), "f")
            for i, h in enumerate(eq):
                hi = _scalar(h(x), f"eq[{i}]")
                value = value + float(lam_t[i]) * hi + (r / 2) * hi * hi
            for j, g in enumerate(ineq):
                shifted = maximum(_scalar(g(x), f"ineq[{j}]") * r + float(mu_t[j]), 0.0)
                value = value + (shifted * shifted - float(mu_t[j]) ** 2) / (2 * r)
            return value

        optimizer = (inner_optimizer or _default_inner(inner_max_iter, gtol / 100))([x])
        counter = [0]

        def closure():
            counter[0] += 1
            optimizer.zero_grad()
            loss = augmented(x)
            loss.backward()
            return loss

        inner_gradient = np.inf
        for _ in range(1 if inner_optimizer is None else inner_max_iter):
            optimizer.step(closure)
            closure()
            inner_gradient = float(np.abs(x.grad._data).max())
            if inner_gradient <= gtol / 100:
                break
        evaluations += counter[0]

        h_val, _ = _values_and_gradients(eq, x._data, "eq")
        g_val, _ = _values_and_gradients(ineq, x._data, "ineq")
        # Violation: |h|, and for inequalities min(-g, mu / rho): positive g, or a positive mu on an inactive g.
        violation = max(np.abs(h_val).max(initial=0.0), np.abs(np.minimum(-g_val, mu / rho)).max(initial=0.0))
        lam = lam + rho * h_val
        mu = np.maximum(mu + rho * g_val, 0.0)
        complementarity = float(np.abs(mu * g_val).max(initial=0.0))
        history.append(dict(rho=rho, violation=float(violation), complementarity=complementarity,
                            inner_gradient=inner_gradient, f=float(_scalar(f(Tensor(x._data)), "f").item())))
        if violation <= tol and complementarity <= tol and inner_gradient <= gtol:
            success = True
            break
        if violation > max(0.25 * violation_before, tol):  # feasibility is not improving fast enough
            rho = min(rho * 10.0, rho_max)
        violation_before = violation
    x_final = x._data.copy()
    report = kkt_check(f, x_final, eq, ineq, lam, mu, tol=max(10 * gtol, 1e3 * tol))
    return ConstrainedResult(x_final, lam, mu, history[-1]["f"], success, outer, evaluations, rho, report, history)


def _default_inner(max_iter, tolerance_grad):
    def make(params):
        return LBFGS(params, max_iter=max_iter, max_eval=2 * max_iter, tolerance_grad=tolerance_grad,
                     tolerance_change=1e-16, history_size=20, line_search_fn="strong_wolfe")
    return make
