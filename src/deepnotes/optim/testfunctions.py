"""Optimization test functions, optimizer paths over them, and contour plots (inventory O1, O2, O5, O9).

Each function maps a Tensor `x: (..., d)` to `(...)` using only tensor
arithmetic, so it is differentiable (twice, for Newton) and also evaluates a
whole grid at once for plotting.  Each comes with what is known about it:
its global minimizers, other local minima, saddle points.

* `quadratic(cond, dim)`: f = x^T A x / 2 with eigenvalues from 1 to `cond`,
  rotated so that the narrow valley is not aligned with the axes.  Gradient
  descent needs O(cond) steps (its step size is capped at 2 / lambda_max,
  while progress along the flat direction goes as lambda_min), momentum
  O(sqrt(cond)), Newton one.
* `rosenbrock(dim)`: a curved, narrow valley (Rosenbrock 1960); non-convex
  but with a single minimizer at (1, ..., 1).
* `beale()`: flat plateaus and steep walls; minimizer (3, 0.5), a saddle at (0, 1).
* `saddle()`: x^2 - y^2, a stationary point at 0 that is not a minimum; the
  function is unbounded below.  Gradient descent started exactly on the
  stable axis converges to the saddle, any perturbation escapes it; Newton's
  method jumps to it.
* `monkey_saddle()`: x^3 - 3 x y^2, a degenerate saddle (zero Hessian).
* `double_well(tilt)`: (x^2 - 1)^2 + tilt x + y^2: a global and a local
  minimum with a saddle between them; where gradient descent ends up depends
  on where it starts (local vs global minima in non-convex problems).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor


@dataclass(frozen=True)
class Objective:
    """A test function with its known stationary points.

    Attributes:
        name: a short label.
        fn: x: (..., dim) Tensor -> (...) Tensor.
        dim: the dimension d.
        minimizers: the global minimizers, each an array (dim,) (empty when f is unbounded below).
        minimum: f at the global minimizers (None when unbounded below).
        local_minimizers: minimizers that are not global.
        saddles: saddle points.
        x0: a customary starting point.
        bounds: ((x_lo, x_hi), (y_lo, y_hi)) for contour plots of 2-d functions.
        log_scale: draw contour levels on a log scale (for functions spanning many decades).
        hessian: the constant Hessian of a quadratic (None otherwise).
    """

    name: str
    fn: object
    dim: int
    minimizers: tuple = ()
    minimum: float | None = None
    local_minimizers: tuple = ()
    saddles: tuple = ()
    x0: np.ndarray | None = None
    bounds: tuple = ((-2.0, 2.0), (-2.0, 2.0))
    log_scale: bool = False
    hessian: np.ndarray | None = None

    def __call__(self, x):
        return self.fn(x)


def _rotation(dim):
    """A fixed orthogonal matrix: 45 degrees in 2-d, a seeded random rotation in higher dimensions."""
    if dim == 2:
        c = math.sqrt(0.5)
        return np.array([[c, -c], [c, c]])
    q, r = np.linalg.qr(np.random.default_rng(1234).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def quadratic(cond=100.0, dim=2, rotate=True):
    """f(x) = x^T A x / 2 with A = R diag(lambda) R^T, lambda log-spaced from 1 to `cond` (condition number).

    The Hessian is A everywhere; the minimizer is 0 and f(0) = 0.
    """
    if cond < 1:
        raise ValueError(f"quadratic: the condition number must be >= 1, got {cond}")
    eigenvalues = np.logspace(0.0, math.log10(cond), dim)
    R = _rotation(dim) if rotate else np.eye(dim)
    A = (R * eigenvalues) @ R.T
    A = (A + A.T) / 2
    A_t = Tensor(A)

    def fn(x):
        return 0.5 * ((x @ A_t) * x).sum(-1)

    x0 = R @ np.where(np.arange(dim) % 2 == 0, 1.0, -1.0)
    return Objective(f"quadratic(cond={cond:g}, dim={dim})", fn, dim, minimizers=(np.zeros(dim),), minimum=0.0,
                     x0=x0, bounds=((-1.5, 1.5), (-1.5, 1.5)), hessian=A)


def rosenbrock(dim=2, a=1.0, b=100.0):
    """f(x) = sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2; minimizer (a, a^2, ...) for a = 1: all ones, f = 0."""
    if dim < 2:
        raise ValueError(f"rosenbrock: needs dim >= 2, got {dim}")

    def fn(x):
        head, tail = x[..., :-1], x[..., 1:]
        return (b * (tail - head * head) ** 2 + (a - head) ** 2).sum(-1)

    x0 = np.tile([-1.2, 1.0], dim)[:dim]
    minimizer = np.full(dim, 1.0) if a == 1.0 else None
    return Objective(f"rosenbrock(dim={dim})", fn, dim, minimizers=() if minimizer is None else (minimizer,),
                     minimum=0.0, x0=x0, bounds=((-2.0, 2.0), (-1.0, 3.0)), log_scale=True)


def beale():
    """f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; minimizer (3, 0.5), f = 0.

    Started at (1, 1.5), exact Newton converges to the saddle (0, 1) (f = 14.2).
    """

    def fn(v):
        x, y = v[..., 0], v[..., 1]
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2

    # (0, 1) is a saddle: every term is constant in y at x = 0, and the cross derivative is not 0 there.
    return Objective("beale", fn, 2, minimizers=(np.array([3.0, 0.5]),), minimum=0.0,
                     saddles=(np.array([0.0, 1.0]),), x0=np.array([1.0, 1.5]), bounds=((-4.5, 4.5), (-4.5, 4.5)),
                     log_scale=True)


def saddle():
    """f(x, y) = x^2 - y^2: one stationary point, (0, 0), a saddle; unbounded below along y."""

    def fn(v):
        return v[..., 0] ** 2 - v[..., 1] ** 2

    return Objective("saddle", fn, 2, saddles=(np.zeros(2),), x0=np.array([1.0, 1e-3]),
                     bounds=((-1.5, 1.5), (-1.5, 1.5)))


def monkey_saddle():
    """f(x, y) = x^3 - 3 x y^2: a degenerate saddle at (0, 0) (gradient and Hessian both zero)."""

    def fn(v):
        x, y = v[..., 0], v[..., 1]
        return x ** 3 - 3.0 * x * y * y

    return Objective("monkey_saddle", fn, 2, saddles=(np.zeros(2),), x0=np.array([0.5, 0.2]),
                     bounds=((-1.5, 1.5), (-1.5, 1.5)))


def double_well(tilt=0.3):
    """f(x, y) = (x^2 - 1)^2 + tilt x + y^2: two minima on the x axis, a saddle between them.

    The stationary points are the roots of 4 x^3 - 4 x + tilt = 0 (with y = 0);
    for 0 < tilt < 8 / (3 sqrt 3) there are three: the outer two are minima,
    the left one (x < 0) global, and the middle one is a saddle.
    """
    roots = np.sort(np.roots([4.0, 0.0, -4.0, tilt]).real)
    if not 0 < tilt < 8 / (3 * math.sqrt(3)):
        raise ValueError(f"double_well: tilt must be in (0, {8 / (3 * math.sqrt(3)):.4f}) for two minima, got {tilt}")

    def fn(v):
        x, y = v[..., 0], v[..., 1]
        return (x * x - 1.0) ** 2 + tilt * x + y * y

    left, middle, right = (np.array([r, 0.0]) for r in roots)
    minimum = (roots[0] ** 2 - 1) ** 2 + tilt * roots[0]
    return Objective(f"double_well(tilt={tilt:g})", fn, 2, minimizers=(left,), minimum=float(minimum),
                     local_minimizers=(right,), saddles=(middle,), x0=np.array([1.8, 1.0]),
                     bounds=((-2.0, 2.0), (-1.5, 1.5)))


# ------------------------------------------------------------------ running an optimizer over a function
@dataclass
class Trajectory:
    """The path of one optimizer run.

    Attributes:
        points: (k + 1, dim) the iterates, starting with x0.
        losses: (k + 1,) f at each iterate.
        evaluations: the number of function (and gradient) evaluations.
        seconds: wall time of the run.
        reached: the step at which `losses` first fell to `target` (None if it never did, or no target).
    """

    points: np.ndarray
    losses: np.ndarray
    evaluations: int = 0
    seconds: float = 0.0
    reached: int | None = None
    extra: dict = field(default_factory=dict)


def trajectory(optimizer_factory, fn, x0=None, steps=100, target=None, dtype=np.float64):
    """Run an optimizer from `x0` on `fn` for `steps` steps, recording every iterate.

    Args:
        optimizer_factory: params -> optimizer, e.g. `lambda p: SGD(p, lr=0.01, momentum=0.9)`.
        fn: an `Objective` or any x: (dim,) Tensor -> scalar Tensor.
        x0: the start (default: the objective's `x0`).
        steps: the number of `optimizer.step(closure)` calls.  One step of
            L-BFGS runs up to `max_iter` iterations (use max_iter=1 to see each).
        target: stop as soon as f - minimum <= target (the minimum of an
            `Objective`, else 0); records the step in `reached`.
        dtype: the parameter dtype.

    Returns:
        A `Trajectory`.  A run that produces a non-finite loss stops there.

    Optimizers whose `differentiates_closure` is true (Newton) get a closure
    that only returns the loss; the others get the usual one that also runs
    backward.
    """
    if x0 is None:
        x0 = getattr(fn, "x0", None)
        if x0 is None:
            raise ValueError("trajectory: give x0 (this function has no default start)")
    x = Tensor(np.array(x0, dtype=dtype), requires_grad=True)
    optimizer = optimizer_factory([x])
    own_backward = not getattr(optimizer, "differentiates_closure", False)
    floor = getattr(fn, "minimum", None) or 0.0
    counter = [0]

    def closure():
        counter[0] += 1
        optimizer.zero_grad()
        loss = fn(x)
        if own_backward:
            loss.backward()
        return loss

    with no_grad():
        first = float(fn(x).item())
    points, losses, reached = [x._data.copy()], [first], None
    if target is not None and first - floor <= target:
        reached = 0
    start = time.perf_counter()
    for k in range(steps):
        if reached is not None:
            break
        optimizer.step(closure)
        with no_grad():
            value = float(fn(x).item())
        points.append(x._data.copy())
        losses.append(value)
        if not math.isfinite(value):
            break
        if target is not None and value - floor <= target:
            reached = k + 1
    return Trajectory(np.array(points), np.array(losses), counter[0], time.perf_counter() - start, reached)


def plot_trajectories(fn, paths, path, bounds=None, levels=30, resolution=200, title=None):
    """Draw optimizer paths on a contour plot of a 2-d function and save it (PNG, SVG, ... by extension).

    Args:
        fn: an `Objective` (its bounds, log scale and known points are used) or a function of (..., 2) Tensors.
        paths: {label: Trajectory or (k, 2) array of points}.
        path: the output file.
        bounds: ((x_lo, x_hi), (y_lo, y_hi)); default the objective's, widened to contain every path.
        levels: the number of contour levels.
        resolution: grid points per axis.
        title: the figure title (default: the objective's name).

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    arrays = {label: np.asarray(p.points if isinstance(p, Trajectory) else p, dtype=float)
              for label, p in paths.items()}
    for label, pts in arrays.items():
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"plot_trajectories: path {label!r} must have shape (k, 2), got {pts.shape}")
    (x_lo, x_hi), (y_lo, y_hi) = bounds or getattr(fn, "bounds", ((-2.0, 2.0), (-2.0, 2.0)))
    if bounds is None and arrays:
        finite = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in arrays.values()])
        if len(finite):
            x_lo, x_hi = min(x_lo, finite[:, 0].min()), max(x_hi, finite[:, 0].max())
            y_lo, y_hi = min(y_lo, finite[:, 1].min()), max(y_hi, finite[:, 1].max())
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution))
    with no_grad():
        values = fn(Tensor(np.stack([gx, gy], axis=-1)))._data
    fig = Figure(figsize=(6.0, 5.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if getattr(fn, "log_scale", False):
        shifted = values - values.min() + 1e-3
        ax.contour(gx, gy, shifted, levels=np.geomspace(shifted.min(), shifted.max(), levels), cmap="viridis",
                   linewidths=0.7)
    else:
        ax.contour(gx, gy, values, levels=levels, cmap="viridis", linewidths=0.7)
    for marker, points in (("*", getattr(fn, "minimizers", ())), ("o", getattr(fn, "local_minimizers", ())),
                           ("x", getattr(fn, "saddles", ()))):
        for p in points:
            ax.plot(p[0], p[1], marker, color="black", markersize=10)
    for label, pts in arrays.items():
        ax.plot(pts[:, 0], pts[:, 1], ".-", markersize=3, linewidth=1, label=f"{label} ({len(pts) - 1} steps)")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_title(title or getattr(fn, "name", "objective"))
    if arrays:
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    return path
