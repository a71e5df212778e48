"""What an optimizer step costs in memory and arithmetic, first- vs second-order (inventory O5).

"Why not Newton's method for a big network?" in numbers.  For n parameters
(float32, 4 bytes each; one gradient evaluation G costs about as much as
two forward passes, i.e. it is set by the model, not the optimizer):

    method        optimizer state      extra arithmetic per step      gradient-like evaluations
    SGD           0                    2n                             1
    momentum      n                    3n                             1
    Adam          2n                   ~12n                           1
    L-BFGS (m)    2mn (+ 2n)           ~4mn + O(n)                    ~1-2 (line search)
    Newton-CG (k) ~4n                  k (HVP ~ 2G) + ~6kn            1 + 2k
    Newton        n^2                  n HVPs to build H, 2n^3/3 solve 1 + 2n

The table for n = 1e3, 1e6, 1e8 (float32; `cost_table()` prints it):

    n      | SGD      | momentum | Adam    | L-BFGS m=10 | Newton-CG k=10 | Newton: H       | Newton: solve
    1e3    | 0        | 4 KB     | 8 KB    | 88 KB       | 16 KB          | 4 MB            | 6.7e8 flop
    1e6    | 0        | 4 MB     | 8 MB    | 88 MB       | 16 MB          | 4 TB            | 6.7e17 flop
    1e8    | 0        | 400 MB   | 800 MB  | 8.8 GB      | 1.6 GB         | 40 PB           | 6.7e23 flop

A 100M-parameter model's Hessian would take 40 petabytes, and one Cholesky
solve 6.7e23 flop (about 40 years at 0.5 PFLOP/s), per step; building it
needs 1e8 Hessian-vector products.  L-BFGS stays linear in n but needs
accurate (full-batch) gradients for its curvature pairs, which is why
mini-batch first-order methods win for deep networks and L-BFGS survives for
small, deterministic problems (style transfer, physics-informed fits).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepCost:
    """The cost of one step of one method.

    Attributes:
        method: its name.
        state_bytes: memory the optimizer keeps between steps (beyond the parameters and the gradient).
        flops: arithmetic of the update itself (multiply-adds count 2), excluding gradient evaluations.
        gradient_evaluations: gradient-equivalent passes through the model per step (an HVP counts 2).
    """

    method: str
    state_bytes: float
    flops: float
    gradient_evaluations: float


def second_order_cost(num_params, history_size=10, cg_iterations=10, bytes_per_number=4):
    """Per-step memory and arithmetic of SGD, momentum, Adam, L-BFGS, Newton-CG and full Newton for n parameters.

    Args:
        num_params: n.
        history_size: m, the (s, y) pairs L-BFGS keeps.
        cg_iterations: k, the CG iterations of Newton-CG (each one Hessian-vector product).
        bytes_per_number: 4 for float32, 8 for float64.

    Returns:
        {method: StepCost} for "sgd", "momentum", "adam", "lbfgs", "newton_cg", "newton".

    Example:
        >>> c = second_order_cost(1000)
        >>> c["newton"].state_bytes, c["lbfgs"].state_bytes, c["adam"].state_bytes
        (4000000.0, 88000.0, 8000.0)
    """
    n, m, k, b = float(num_params), float(history_size), float(cg_iterations), float(bytes_per_number)
    if n < 1 or m < 1 or k < 1:
        raise ValueError(f"second_order_cost: need num_params, history_size, cg_iterations >= 1, got {n}, {m}, {k}")
    return {
        "sgd": StepCost("SGD", 0.0, 2 * n, 1.0),
        "momentum": StepCost("SGD + momentum", n * b, 3 * n, 1.0),
        # m, v; update: 2 moment updates (3n each), bias corrections, sqrt, divide, step.
        "adam": StepCost("Adam", 2 * n * b, 12 * n, 1.0),
        # m pairs (s, y) plus the previous gradient and the direction; two loops of m dots and axpys each.
        "lbfgs": StepCost(f"L-BFGS (m={history_size})", (2 * m * n + 2 * n) * b, 8 * m * n + 6 * n, 1.0),
        # CG keeps d, r, p, Ap; per iteration one HVP plus 2 dots and 3 axpys.
        "newton_cg": StepCost(f"Newton-CG (k={cg_iterations})", 4 * n * b, 10 * k * n, 1.0 + 2 * k),
        # H (n^2), Cholesky n^3/3 multiply-adds, two triangular solves n^2 each; H from n HVPs.
        "newton": StepCost("Newton (full Hessian)", n * n * b, 2 * n ** 3 / 3 + 4 * n * n, 1.0 + 2 * n),
    }


def _human_bytes(x):
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.0f} B"


def cost_table(sizes=(1e3, 1e6, 1e8), history_size=10, cg_iterations=10, bytes_per_number=4):
    """A text table of `second_order_cost` for several model sizes: state memory and update flops per method."""
    methods = ("sgd", "momentum", "adam", "lbfgs", "newton_cg", "newton")
    lines = []
    for n in sizes:
        costs = second_order_cost(n, history_size, cg_iterations, bytes_per_number)
        lines.append(f"n = {n:.0e}")
        for key in methods:
            c = costs[key]
            lines.append(f"  {c.method:<24} state {_human_bytes(c.state_bytes):>10}   update {c.flops:9.2e} flop   "
                         f"{c.gradient_evaluations:9.3g} gradient evaluations")
    return "\n".join(lines)
