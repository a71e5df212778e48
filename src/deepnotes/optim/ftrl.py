"""FTRL-Proximal: online learning with per-coordinate rates and L1 that gives exact zeros (inventory O6).

Click-through-rate models have billions of sparse features, most of which
should end up with weight exactly 0 (so they cost nothing to serve).  Online
gradient descent with an L1 penalty rarely produces exact zeros (a weight
jumps across 0 rather than landing on it); FTRL-Proximal (McMahan et al.,
"Ad Click Prediction: a View from the Trenches", KDD 2013) does, because it
solves for each weight in closed form from accumulated statistics and the
L1 term clamps it to 0 whenever the accumulated evidence |z| is below l1.
"""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameter


def ftrl_weights(z, n, alpha, beta, l1, l2):
    """The FTRL-Proximal weights for accumulators z, n (McMahan et al. 2013, Algorithm 1).

        w_i = 0                                                     if |z_i| <= l1
        w_i = -(z_i - sign(z_i) l1) / ((beta + sqrt(n_i)) / alpha + l2)   otherwise

    Args:
        z, n: arrays of the same shape (the paper's z and n, per coordinate).

    Returns:
        An array like `z`.
    """
    # clip(z) - z = -(z - sign(z) l1) outside [-l1, l1] and exactly 0 inside: the soft threshold.
    return (np.clip(z, -l1, l1) - z) / ((beta + np.sqrt(n)) / alpha + l2)


class FTRL(Optimizer):
    r"""FTRL-Proximal with per-coordinate learning rates (McMahan et al. 2013, Algorithm 1).

    For each coordinate i, with gradient g_i at the current weight w_i:

        sigma_i = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha
        z_i    <- z_i + g_i - sigma_i w_i
        n_i    <- n_i + g_i^2
        w_i    <- ftrl_weights(z_i, n_i)        (0 when |z_i| <= l1)

    The per-coordinate learning rate is alpha / (beta + sqrt(n_i)), AdaGrad's:
    a feature seen rarely keeps a large rate.  z and n start at 0, so the
    paper's first weight is 0.  A parameter that starts elsewhere is taken as
    the first proximal centre (the sigma_i w_i term uses the current value), so
    the rule is the same from any starting point.

    Sparse inputs (`sparse=True`): a coordinate whose gradient is exactly 0 in
    this step (a feature absent from the example, for a linear or logistic
    model) is skipped entirely: its z, n and weight are neither read nor
    written, and the work is proportional to the number of nonzero gradients.
    With `sparse=False` every weight is recomputed from (z, n) each step.  The
    two agree whenever the weights are the FTRL weights of their (z, n), which
    holds from the paper's start w = 0: a zero gradient leaves z and n (and so
    w) unchanged either way.  They differ only for a coordinate whose weight
    did not come from FTRL (nonzero initial value, or edited by hand) and has
    seen no gradient yet: the dense mode sets it to its FTRL value, the sparse
    mode leaves it alone until its feature first appears (the paper's lazy
    evaluation).

    Args:
        params: parameters or param groups (e.g. l1 = 0 for the bias).
        alpha: the learning-rate scale alpha.
        beta: smooths the per-coordinate rate at the start (beta = 1 is the paper's advice).
        l1: the L1 strength lambda_1 (> 0 gives exact zeros).
        l2: the L2 strength lambda_2.
        sparse: update only the coordinates with a nonzero gradient (see above).

    State per parameter: `z`, `n` (arrays like the parameter) and `step`.

    Example:
        >>> import numpy as np, deepnotes as dn
        >>> w = dn.tensor(np.zeros(3), requires_grad=True)
        >>> opt = FTRL([w], alpha=1.0, l1=1.0)
        >>> w.grad = np.array([0.5, -3.0, 0.0])        # |z| = 0.5 < l1: stays 0; |z| = 3 > l1: moves
        >>> opt.step()
        >>> w.numpy().round(4).tolist()
        [0.0, 0.5, 0.0]
    """

    def __init__(self, params, alpha=0.1, beta=1.0, l1=0.0, l2=0.0, sparse=False):
        check_hyperparameter("FTRL", "alpha", alpha, alpha > 0, "> 0")
        check_hyperparameter("FTRL", "beta", beta, beta >= 0, ">= 0")
        check_hyperparameter("FTRL", "l1", l1, l1 >= 0, ">= 0")
        check_hyperparameter("FTRL", "l2", l2, l2 >= 0, ">= 0")
        super().__init__(params, dict(alpha=alpha, beta=beta, l1=l1, l2=l2, sparse=sparse))

    def _update(self, p, grad, state, group):
        if not state:
            state["step"] = 0
            state["z"] = np.zeros_like(p._data)
            state["n"] = np.zeros_like(p._data)
        state["step"] += 1
        alpha, beta, l1, l2 = (float(group[k]) for k in ("alpha", "beta", "l1", "l2"))
        z, n = state["z"], state["n"]
        if group["sparse"]:
            active = np.nonzero(grad)  # index arrays of the coordinates this step touches
            z_new, n_new = self._accumulate(z[active], n[active], p._data[active], grad[active], alpha)
            z[active], n[active] = z_new, n_new
            p._data[active] = ftrl_weights(z_new, n_new, alpha, beta, l1, l2)
        else:
            z[...], n[...] = self._accumulate(z, n, p._data, grad, alpha)
            p._data[...] = ftrl_weights(z, n, alpha, beta, l1, l2)

    @staticmethod
    def _accumulate(z, n, w, g, alpha):
        """(z + g - sigma w, n + g^2), sigma the increase of the proximal strength 1 / eta."""
        n_new = n + g * g
        sigma = (np.sqrt(n_new) - np.sqrt(n)) / alpha
        return z + g - sigma * w, n_new
