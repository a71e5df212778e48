"""Damped Newton's method, with the exact Hessian or by conjugate gradients on Hessian-vector products (O5).

Newton's step minimizes the local quadratic model f(x + d) ~ f + g^T d +
d^T H d / 2: d = -H^{-1} g.  On a quadratic one full step lands on the
minimizer, whatever the conditioning, which is the whole appeal; near a
minimum of a smooth function convergence is quadratic.  The costs are
what rule it out for large networks: H has n^2 entries, building it takes n
Hessian-vector products and solving takes O(n^3) (see `optim.cost`).  And
where H is indefinite the "Newton step" points to the stationary point of the
model, which is a saddle as readily as a minimum (inventory O9).

Two modes:

* `'exact'`: H is built row by row, one double-backward pass per parameter
  element (as `autograd.functional.hessian`), then (H + damping I) d = -g is
  solved by Cholesky, or by a least-squares solve when H + damping I is not
  positive definite.  Small models only.
* `'cg'`: (H + damping I) d = -g is solved by conjugate gradients, which only
  needs products H v (Pearlmutter 1994, `autograd.functional.hvp`): O(n)
  memory, one double backward per CG iteration ("Hessian-free" or truncated
  Newton, Martens 2010; Nocedal & Wright, Algorithm 7.1).  CG stops at
  `cg_max_iter` iterations, at relative residual `cg_tol`, or on meeting a
  direction of non-positive curvature (then it returns the last iterate, or
  the steepest-descent direction -g if that happens at the first iteration).

Levenberg-style damping (the `damping * I` term) keeps the step finite when H
is singular and shortens it where curvature is small.
"""
from __future__ import annotations

import numpy as np

from ..autograd.engine import grad as autograd_grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, check_hyperparameter


class Newton(Optimizer):
    r"""Damped Newton steps x <- x + lr d with (H + damping I) d = -g.

    `step(closure)`: the closure recomputes the loss and *returns it with its
    graph*, without calling `backward` (Newton differentiates it itself,
    twice).  It may instead call `loss.backward(create_graph=True)` (the
    PyTorch idiom for second-order methods): the differentiable `.grad` it
    leaves is then used.  A plain `loss.backward()` frees the graph that the
    second derivative needs, and raises.  After the step every parameter's
    `.grad` holds the gradient at the old point, cut off from the graph.

    Args:
        params: the parameters (all groups are solved as one flat vector x;
            `lr` and `damping` come from the first group).
        lr: the fraction of the Newton step to take (1 = full step).
        damping: lambda >= 0 added to the Hessian's diagonal.
        mode: 'exact' (form H) or 'cg' (Hessian-vector products only).
        cg_max_iter, cg_tol: CG stopping rules (iterations; residual relative to |g|).

    State (for the first parameter): `step`, and after each step
    `last_direction` (the flat d) and `cg_iterations` (CG mode).

    Example:
        >>> import numpy as np, deepnotes as dn
        >>> A = dn.tensor(np.array([[100.0, 0.0], [0.0, 1.0]]))
        >>> x = dn.tensor(np.array([1.0, 1.0]), requires_grad=True)
        >>> opt = Newton([x], damping=0.0)
        >>> _ = opt.step(lambda: 0.5 * (x @ A @ x) - x.sum())     # one step solves A x = 1
        >>> x.numpy().round(12).tolist()
        [0.01, 1.0]
    """

    #: The closure returns the loss and Newton runs the (double) backward itself (see `optim.testfunctions`).
    differentiates_closure = True

    def __init__(self, params, lr=1.0, damping=1e-4, mode="exact", cg_max_iter=50, cg_tol=1e-10):
        check_hyperparameter("Newton", "lr", lr, lr > 0, "> 0")
        check_hyperparameter("Newton", "damping", damping, damping >= 0, ">= 0")
        check_hyperparameter("Newton", "mode", mode, mode in ("exact", "cg"), "'exact' or 'cg'")
        check_hyperparameter("Newton", "cg_max_iter", cg_max_iter, cg_max_iter >= 1, ">= 1")
        super().__init__(params, dict(lr=lr, damping=damping, mode=mode, cg_max_iter=cg_max_iter, cg_tol=cg_tol))
        self._params = [p for group in self.param_groups for p in group["params"]]

    # ----------------------------------------------------------- gradients
    def _gradients(self, loss):
        """Differentiable gradients (Tensors with a graph) of `loss` w.r.t. every parameter."""
        params = self._params
        if all(p.grad is not None and p.grad.requires_grad for p in params):
            return [p.grad for p in params]  # the closure ran backward(create_graph=True)
        if any(p.grad is not None for p in params):
            raise RuntimeError(
                "Newton.step: the closure left plain gradients in .grad; it must return the loss without calling "
                "backward (or call loss.backward(create_graph=True)), because Newton differentiates the gradient again"
            )
        if not isinstance(loss, Tensor) or not loss.requires_grad:
            raise RuntimeError(
                "Newton.step: the closure must return the loss as a Tensor that depends on the parameters"
            )
        grads = autograd_grad(loss, params, create_graph=True, allow_unused=True)
        return [g if g is not None else Tensor(np.zeros_like(p._data)) for g, p in zip(grads, params)]

    def _hvp(self, grads, v):
        """H v for a flat vector v: the gradient of <g(x), v> (one double-backward pass)."""
        with enable_grad():
            dot = None
            offset = 0
            for g, p in zip(grads, self._params):
                piece = v[offset:offset + p._data.size].reshape(p._data.shape).astype(p._data.dtype, copy=False)
                term = (g * Tensor(piece)).sum()
                dot = term if dot is None else dot + term
                offset += p._data.size
        if not dot.requires_grad:  # the loss is linear in the parameters: H = 0
            return np.zeros_like(v)
        rows = autograd_grad(dot, self._params, retain_graph=True, allow_unused=True)
        return self._flatten([r._data if r is not None else None for r in rows])

    def _full_hessian(self, grads):
        """The full n x n Hessian, one row per double-backward pass (small n only)."""
        n = sum(p._data.size for p in self._params)
        rows = []
        with enable_grad():
            flat = [g.reshape(-1) for g in grads]
        for g, p in zip(flat, self._params):
            for k in range(p._data.size):  # one backward per parameter element: O(n) passes
                if not g.requires_grad:
                    rows.append(np.zeros(n, dtype=p._data.dtype))
                    continue
                with enable_grad():
                    element = g[k]
                parts = autograd_grad(element, self._params, retain_graph=True, allow_unused=True)
                rows.append(self._flatten([r._data if r is not None else None for r in parts]))
        H = np.stack(rows)
        return (H + H.T) / 2  # symmetric in exact arithmetic; remove the rounding asymmetry

    def _flatten(self, arrays):
        return np.concatenate([
            (np.zeros(p._data.size, dtype=p._data.dtype) if a is None else np.asarray(a).reshape(-1))
            for a, p in zip(arrays, self._params)
        ])

    # --------------------------------------------------------------- solves
    @staticmethod
    def _solve_exact(H, g, damping):
        A = H + damping * np.eye(len(g), dtype=H.dtype)
        try:
            L = np.linalg.cholesky(A)  # succeeds iff A is positive definite
            return -np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:  # indefinite or singular: the minimum-norm stationary point of the model
            return -np.linalg.lstsq(A, g, rcond=None)[0]

    def _solve_cg(self, grads, g, damping, max_iter, tol):
        """Approximately solve (H + damping I) d = -g by conjugate gradients; returns (d, iterations)."""
        d = np.zeros_like(g)
        r = -g.copy()  # residual b - A d with b = -g, d = 0
        p = r.copy()
        rr = float(r @ r)
        g_norm = np.sqrt(rr)
        if g_norm == 0:
            return d, 0
        for k in range(max_iter):
            Ap = self._hvp(grads, p) + damping * p
            curvature = float(p @ Ap)
            if curvature <= 0:  # negative curvature: the quadratic model has no minimum along p
                return (-g if k == 0 else d), k
            step = rr / curvature
            d = d + step * p
            r = r - step * Ap
            rr_new = float(r @ r)
            if np.sqrt(rr_new) <= tol * g_norm:
                return d, k + 1
            p = r + (rr_new / rr) * p
            rr = rr_new
        return d, max_iter

    # ----------------------------------------------------------------- step
    def step(self, closure):
        """One damped Newton step; returns the loss the closure computed (at the old point)."""
        if closure is None:
            raise RuntimeError("Newton.step: a closure that returns the loss is required")
        group = self.param_groups[0]
        for p in self._params:
            p.grad = None
        with enable_grad():
            loss = closure()
        grads = self._gradients(loss)
        g = self._flatten([gr._data for gr in grads])
        state = self.state[self._params[0]]
        state["step"] = state.get("step", 0) + 1
        damping = float(group["damping"])
        if group["mode"] == "exact":
            d = self._solve_exact(self._full_hessian(grads), g, damping)
        else:
            d, iterations = self._solve_cg(grads, g, damping, int(group["cg_max_iter"]), float(group["cg_tol"]))
            state["cg_iterations"] = iterations
        state["last_direction"] = d
        lr = float(group["lr"])
        offset = 0
        with no_grad():
            for p, gr in zip(self._params, grads):
                size = p._data.size
                p._data += (lr * d[offset:offset + size]).reshape(p._data.shape).astype(p._data.dtype, copy=False)
                p.grad = Tensor._from_op(np.array(gr._data, copy=True), None)  # plain gradient; drops the graph
                offset += size
        return loss

    def _check_loaded_state(self, where, index, p, entry):
        """`last_direction` is a flat vector over all parameters."""
