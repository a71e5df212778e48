"""L-BFGS: a quasi-Newton method that keeps only the last m curvature pairs (inventory O5).

Newton's step solves H d = -g with the n x n Hessian H: n^2 numbers and an
O(n^3) solve, out of reach for a network with millions of weights.  BFGS
builds an approximation of the *inverse* Hessian from how the gradient
changed between steps: after a step s = x_{k+1} - x_k the gradient changed
by y = g_{k+1} - g_k, and the secant condition asks that H^{-1} y = s.
L-BFGS (Nocedal 1980; Liu & Nocedal 1989) never forms the matrix: it keeps
the last m pairs (s_i, y_i) and applies the implied inverse Hessian to a
vector with the two-loop recursion (Nocedal & Wright, Algorithm 7.4):
O(m n) memory and O(m n) work per step.

The update is only positive definite when the curvature y^T s is positive,
which a line search satisfying the (strong) Wolfe conditions guarantees
(Nocedal & Wright, Algorithms 3.5 / 3.6, "line search" and "zoom", with
cubic interpolation, eq. 3.59).

This follows `torch.optim.LBFGS` decision for decision, so that their
trajectories agree to rounding in float64 (see tests/optim/test_lbfgs.py).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, check_hyperparameter

CURVATURE_EPS = 1e-10  # pairs with y^T s below this are skipped (the update would not stay positive definite)


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1, f1'=g1) and (x2, f2, f2'=g2), clipped to `bounds`.

    Nocedal & Wright, eq. 3.59.  When the cubic has no minimum (a negative
    discriminant), the midpoint of the bounds.  `bounds` defaults to the
    interval between x1 and x2.
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
    return min(max(x, lo), hi)


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step length t along d satisfying the strong Wolfe conditions, as torch's `_strong_wolfe`.

        f(x + t d) <= f(x) + c1 t g^T d                (sufficient decrease)
        |g(x + t d)^T d| <= c2 |g^T d|                 (curvature)

    Phase 1 (Nocedal & Wright, Algorithm 3.5) grows t, extrapolating with a
    cubic within [t + 0.01 (t - t_prev), 10 t], until an interval is known to
    bracket acceptable steps; phase 2 ("zoom", Algorithm 3.6) shrinks the
    bracket by cubic interpolation, moving a trial point that lands within
    10% of the bracket's ends away from them when progress stalls.

    Args:
        evaluate: t -> (loss, flat gradient) at x + t d (x itself unchanged).
        t: the first trial step.
        d: (n,) the search direction; f, g, gtd: loss, gradient and g^T d at x.
        max_ls: the most function evaluations.

    Returns:
        (loss, flat gradient, t, number of evaluations) at the accepted step.
    """
    d_norm = float(np.abs(d).max())
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done, ls_iter = False, 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, b_f, b_g, b_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, b_f, b_g, done = [t], [f_new], [g_new], True
            break
        if gtd_new >= 0:  # past a minimum along d: it lies between t_prev and t
            bracket, b_f, b_g, b_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # Still descending: extrapolate to a longer step.
        t_next = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                   bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations while extrapolating: keep the better of x and the last trial
        bracket, b_f, b_g = [0.0, t], [f, f_new], [g, g_new]

    insufficient_progress = False
    low, high = (0, 1) if b_f[0] <= b_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the bracket is too small to matter
            break
        t = cubic_interpolate(bracket[0], b_f[0], b_gtd[0], bracket[1], b_f[1], b_gtd[1])
        # A trial point too close to an end of the bracket makes little progress: push it inwards.
        b_max, b_min = max(bracket), min(bracket)
        eps = 0.1 * (b_max - b_min)
        if min(b_max - t, t - b_min) < eps:
            if insufficient_progress or t >= b_max or t <= b_min:
                t = b_max - eps if abs(t - b_max) < abs(t - b_min) else b_min + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= b_f[low]:
            # Not enough decrease: t becomes the high end.
            bracket[high], b_f[high], b_g[high], b_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if b_f[0] <= b_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # The slope at t points away from the old high end: the old low end becomes the high end.
                bracket[high], b_f[high], b_g[high], b_gtd[high] = bracket[low], b_f[low], b_g[low], b_gtd[low]
            bracket[low], b_f[low], b_g[low], b_gtd[low] = t, f_new, g_new, gtd_new
    return b_f[low], b_g[low], bracket[low], evals


class LBFGS(Optimizer):
    r"""Limited-memory BFGS with an optional strong-Wolfe line search, as `torch.optim.LBFGS`.

    Call `step(closure)` with a closure that clears the gradients, computes
    the loss, calls `backward()` and returns the loss; one `step` runs up to
    `max_iter` iterations (and up to `max_eval` closure calls) and returns the
    loss of the *first* evaluation.  All parameters are treated as one flat
    vector x of n numbers.  Each iteration:

        d = -H_k g                 two-loop recursion over the last `history_size`
                                   pairs (s, y), with H_0 = (y^T s / y^T y) I
        t = min(1, 1 / ||g||_1) lr at the very first iteration, else lr
        t = strong_wolfe(...)      if line_search_fn == 'strong_wolfe'
        x = x + t d

    A new pair (s = t d, y = g_new - g) enters the memory only when y^T s >
    1e-10.  An iteration loop ends when `max_iter` or `max_eval` is reached,
    when max |g| <= tolerance_grad, when the step max |t d| <= tolerance_change,
    when the loss changes by less than tolerance_change, or when d is not a
    descent direction (g^T d > -tolerance_change).

    Without a line search the loss is evaluated once per iteration at the new
    point (except after the last), so a fixed `lr` must be small enough for the
    problem: there is no safeguard.

    Args:
        params: the parameters (one group only: L-BFGS has no per-group options).
        lr: the step length (multiplies the first trial step of the line search).
        max_iter: iterations per `step` call.
        max_eval: closure evaluations per `step` call (default max_iter * 5 // 4).
        tolerance_grad: stop when max |gradient| is at most this.
        tolerance_change: stop when the step or the loss change is below this.
        history_size: m, the number of (s, y) pairs kept.
        line_search_fn: None or 'strong_wolfe'.

    State (kept for the first parameter, as torch): `func_evals`, `n_iter`,
    `d`, `t`, `old_dirs` (the y's), `old_stps` (the s's), `ro` (1 / y^T s),
    `H_diag`, `prev_flat_grad`, `prev_loss`.

    Example:
        >>> import numpy as np, deepnotes as dn
        >>> x = dn.tensor(np.array([-1.2, 1.0]), requires_grad=True)
        >>> opt = LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2      # Rosenbrock
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> np.round(x.numpy(), 3).tolist()       # stops when the loss changes by < tolerance_change
        [1.0, 1.0]
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        check_hyperparameter("LBFGS", "lr", lr, lr >= 0, ">= 0")
        check_hyperparameter("LBFGS", "max_iter", max_iter, max_iter >= 1, ">= 1")
        check_hyperparameter("LBFGS", "history_size", history_size, history_size >= 1, ">= 1")
        check_hyperparameter("LBFGS", "line_search_fn", line_search_fn, line_search_fn in (None, "strong_wolfe"),
                             "None or 'strong_wolfe'")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # -------------------------------------------------- the flat vector view
    def _flat_grad(self):
        parts = []
        for p in self._params:
            if p.grad is None:
                parts.append(np.zeros(p._data.size, dtype=p._data.dtype))
            else:
                g = p.grad._data
                parts.append(np.asarray(g).reshape(-1))
        return np.concatenate(parts)

    def _add_step(self, t, d):
        """x <- x + t d, in place, each parameter keeping its dtype."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += t * d[offset:offset + n].reshape(p._data.shape).astype(p._data.dtype, copy=False)
            offset += n

    def _snapshot(self):
        return [p._data.copy() for p in self._params]

    def _restore(self, saved):
        for p, data in zip(self._params, saved):
            p._data[...] = data

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss.item() if isinstance(loss, Tensor) else loss), self._flat_grad()

    # ------------------------------------------------------------------ step
    def step(self, closure):
        """Run up to `max_iter` L-BFGS iterations; return the closure's first loss.

        Args:
            closure: clears the gradients, recomputes the loss, calls backward
                and returns the loss (required: L-BFGS evaluates it repeatedly).
        """
        if closure is None:
            raise RuntimeError("LBFGS.step: a closure that recomputes the loss is required")
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search_fn = group["history_size"], group["line_search_fn"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            first_loss = closure()
        loss = float(first_loss.item() if isinstance(first_loss, Tensor) else first_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return first_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > CURVATURE_EPS:
                    if len(old_dirs) == history_size:  # forget the oldest pair
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)  # scale of H_0: the curvature along the newest step
                d = self._two_loop(flat_grad, old_dirs, old_stps, ro, H_diag)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # The first step ever is scaled down: no curvature is known yet.
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(flat_grad @ d)
            if gtd > -tolerance_change:  # not a descent direction (to tolerance)
                break

            ls_evals = 0
            if line_search_fn == "strong_wolfe":
                x0 = self._snapshot()

                def along(step, x0=x0, d=d):
                    self._add_step(step, d)
                    result = self._evaluate(closure)
                    self._restore(x0)
                    return result

                loss, flat_grad, t, ls_evals = strong_wolfe(along, t, d, loss, flat_grad, gtd)
                with no_grad():
                    self._add_step(t, d)
                optimal = np.abs(flat_grad).max() <= tolerance_grad
            else:
                with no_grad():
                    self._add_step(t, d)
                optimal = False
                if n_iter != max_iter:  # the next iteration needs the new gradient; after the last one, skip it
                    loss, flat_grad = self._evaluate(closure)
                    optimal = np.abs(flat_grad).max() <= tolerance_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or optimal:
                break
            if np.abs(d * t).max() <= tolerance_change:  # the step no longer moves x
                break
            if abs(loss - prev_loss) < tolerance_change:  # the loss no longer moves
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return first_loss

    @staticmethod
    def _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag):
        """d = -H g by the two-loop recursion (Nocedal & Wright, Algorithm 7.4), O(m n)."""
        q = -flat_grad
        alphas = [0.0] * len(old_dirs)
        for i in range(len(old_dirs) - 1, -1, -1):  # newest pair first
            alphas[i] = float(old_stps[i] @ q) * ro[i]
            q = q - alphas[i] * old_dirs[i]
        r = q * H_diag
        for i in range(len(old_dirs)):  # oldest pair first
            beta = float(old_dirs[i] @ r) * ro[i]
            r = r + (alphas[i] - beta) * old_stps[i]
        return r

    # ---------------------------------------------------------- state dicts
    def _check_loaded_state(self, where, index, p, entry):
        """L-BFGS state holds flat vectors over all parameters, not arrays of one parameter's shape."""
        n = sum(q._data.size for q in self._params)
        for key in ("d", "prev_flat_grad"):
            value = entry.get(key)
            if isinstance(value, np.ndarray) and value.shape != (n,):
                raise ValueError(f"{where}: state {key!r} has shape {value.shape}, expected ({n},)")
