"""Activation functions as ops (inventory A1-A6).

Conventions: ReLU'(0) = 0 (PyTorch's choice); Leaky ReLU's negative side is
`negative_slope * z` (a slope, not a constant); softmax and log-softmax
subtract the row maximum before exponentiating, so large logits never
overflow, and take a `temperature` T: softmax(z / T).
"""
from __future__ import annotations

import functools

import numpy as np

from ..autograd.function import Function


def stable_sigmoid(z):
    """1 / (1 + e^-z) without overflow: for z < 0 use e^z / (1 + e^z)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """s = 1 / (1 + e^-z);  ds/dz = s (1 - s) <= 1/4 (the vanishing-gradient bound, A1)."""

    @staticmethod
    def forward(ctx, z):
        s = stable_sigmoid(z)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_arrays
        return grad * s * (1 - s)


class Tanh(Function):
    """t = tanh z;  dt/dz = 1 - t^2 <= 1 (A2)."""

    @staticmethod
    def forward(ctx, z):
        t = np.tanh(z)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_arrays
        return grad * (1 - t * t)


def rectify(z, overwrite=False):
    """max(z, 0) as a new array, or written into z itself with `overwrite`."""
    # NumPy's maximum against a broadcast scalar runs a slow loop; against a row of
    # zeros along a long last axis it runs its vector loop (3x faster at 128 x 512).
    zero = np.zeros(z.shape[-1], dtype=z.dtype) if z.ndim and z.shape[-1] >= 64 else 0
    # zero first: NumPy's maximum(a, b) returns b on a tie, so relu(-0.0) = -0.0, as PyTorch
    return np.maximum(zero, z, out=z if overwrite else None)


class ReLU(Function):
    """max(z, 0);  derivative 1 for z > 0 and 0 for z <= 0 (A3)."""

    @staticmethod
    def forward(ctx, z, overwrite=False):
        """overwrite: rectify z itself (only for an array nothing else holds or reads again;
        see `nn.Sequential`)."""
        out = rectify(z, overwrite)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_arrays
        return grad * (ctx.xp.data(out) > 0)  # a mask product: far faster than np.where here


class LeakyReLU(Function):
    """z for z > 0, negative_slope * z otherwise (A4)."""

    @staticmethod
    def forward(ctx, z, negative_slope=0.01):
        ctx.save_for_backward(z)
        ctx.slope = negative_slope
        return np.where(z > 0, z, z * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_arrays
        return ctx.xp.where(ctx.xp.data(z) > 0, grad, grad * ctx.slope)


class PReLU(Function):
    """z for z > 0, a * z otherwise, with a learned slope `a` (He et al. 2015).

    `a` has one value or one per channel (axis 1), broadcast against z.
    """

    @staticmethod
    def forward(ctx, z, a):
        ctx.broadcast_shape = (1, -1) + (1,) * (z.ndim - 2) if a.size > 1 else ()
        ctx.save_for_backward(z, a)
        ctx.a_shape = a.shape
        return np.where(z > 0, z, a.reshape(ctx.broadcast_shape) * z)

    @staticmethod
    def backward(ctx, grad):
        z, a = ctx.saved_arrays
        positive = ctx.xp.data(z) > 0
        dz = ctx.xp.where(positive, grad, grad * a.reshape(ctx.broadcast_shape))
        da = None
        if ctx.needs_input_grad[1]:
            da_full = ctx.xp.where(positive, 0, grad * z)
            axes = tuple(i for i in range(z.ndim) if i != 1) if ctx.broadcast_shape else None
            da = da_full.sum(axis=axes).reshape(ctx.a_shape)
        return dz, da


class ELU(Function):
    """z for z > 0, alpha (e^z - 1) otherwise (Clevert et al. 2016)."""

    @staticmethod
    def forward(ctx, z, alpha=1.0):
        out = np.where(z > 0, z, alpha * np.expm1(np.minimum(0, z)))  # minimum(0, -0.0) = -0.0, as PyTorch
        ctx.save_for_backward(z, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        """d/dz = 1 for z > 0, alpha e^z = out + alpha otherwise."""
        z, out = ctx.saved_arrays
        return ctx.xp.where(ctx.xp.data(z) > 0, grad, grad * (out + ctx.alpha))


def softmax_array(z, axis):
    """exp(z - max z) / sum exp(z - max z): the max subtraction keeps exp() finite (A5)."""
    # initial=-inf: a size-0 axis has max -inf (an empty result, as PyTorch) instead of NumPy's error
    e = np.exp(z - np.max(z, axis=axis, keepdims=True, initial=-np.inf))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_array(z, axis):
    """z - max z - log sum exp(z - max z), stable for any z."""
    shifted = z - np.max(z, axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """p = softmax(z / T) along `axis`;  dz = p (g - sum(g p)) / T."""

    @staticmethod
    def forward(ctx, z, axis=-1, temperature=1.0):
        p = softmax_array(z / temperature if temperature != 1.0 else z, axis)
        ctx.save_for_backward(p)
        ctx.axis, ctx.temperature = axis, temperature
        return p

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved_arrays
        dz = p * (grad - (grad * p).sum(axis=ctx.axis, keepdims=True))
        return dz / ctx.temperature if ctx.temperature != 1.0 else dz


class LogSoftmax(Function):
    """y = log softmax(z / T) along `axis`;  dz = (g - softmax * sum g) / T."""

    @staticmethod
    def forward(ctx, z, axis=-1, temperature=1.0):
        y = log_softmax_array(z / temperature if temperature != 1.0 else z, axis)
        ctx.save_for_backward(y)
        ctx.axis, ctx.temperature = axis, temperature
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_arrays
        dz = grad - ctx.xp.exp(y) * grad.sum(axis=ctx.axis, keepdims=True)
        return dz / ctx.temperature if ctx.temperature != 1.0 else dz


# ---------------------------------------------------------------------- GELU
@functools.cache  # deferred to the first erf: numpy.polynomial (9 modules, 0.7 MB) loads only for GELU
def _erf_pieces(width=0.5, pieces=12, degree=12):
    """Chebyshev coefficients of erf on [k w, (k+1) w], k < pieces, fitted once, on first use.

    NumPy has no erf and SciPy is not a runtime dependency; `math.erf` is exact
    but scalar.  Interpolating it at Chebyshev points of 12 short intervals
    gives a vectorized erf with absolute error < 4e-15 on [0, 6]; beyond 6,
    1 - erf(x) < 2.2e-17 is below float64 resolution.
    """
    from math import erf
    from numpy.polynomial import chebyshev

    coeffs = []
    for k in range(pieces):
        left = k * width
        nodes = chebyshev.chebpts1(degree + 1)
        values = [erf(left + (u + 1) * width / 2) for u in nodes]
        coeffs.append(chebyshev.chebfit(nodes, values, degree))
    return width, np.array(coeffs).T.copy()  # (degree + 1, pieces)


def erf_array(x):
    """erf(x) elementwise, odd-extended from [0, 6]; absolute error < 4e-15 (float64 math)."""
    width, coeffs = _erf_pieces()
    ax = np.minimum(np.abs(x), 6.0).astype(np.float64)
    piece = np.minimum((ax * (1 / width)).astype(np.intp), coeffs.shape[1] - 1)
    u = (ax - (piece + 0.5) * width) * (2 / width)  # position in the piece, in [-1, 1]
    two_u = 2 * u
    b1 = np.zeros_like(u)
    b2 = np.zeros_like(u)
    for row in coeffs[:0:-1]:  # Clenshaw's recurrence, highest degree first
        b1, b2 = two_u * b1 - b2 + row.take(piece), b1
    return np.copysign(u * b1 - b2 + coeffs[0].take(piece), x).astype(x.dtype, copy=False)


_SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2 / pi)
_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


_LN2_HI, _LN2_LO = 0.693147180369123816490, 1.90821492927058770002e-10  # ln 2 = HI + LO, n * HI exact


def normal_tail_parts(x):
    """(m, n) with Phi(x) = m 2^-n for x <= 0 (float64), m a normal number: a product m * y then meets
    one rounding only, in `np.ldexp(m * y, -n)`, even where the result is subnormal (GELU near x = -38).

    exp(-x^2 / 2) = 2^-n exp(r), with n = round(x^2 / (2 ln 2)) and r = -x^2 / 2 + n ln 2 in [-0.35, 0.35]
    (Cody and Waite's reduction); the rest as `normal_cdf_tail`.
    """
    from scipy.special import erfcx

    # below -40, Phi(x) < 4e-350 is 0 in float64; the clamp keeps the split and x^2 finite (no inf - inf)
    x64 = np.maximum(x.astype(np.float64), -40.0)
    scaled = 134217729.0 * x64  # 2^27 + 1: splits x into two halves whose products are exact
    high = scaled - (scaled - x64)
    low = x64 - high
    square = x64 * x64
    square_low = ((high * high - square) + 2 * high * low) + low * low
    n = np.rint(0.5 * square / (_LN2_HI + _LN2_LO))
    r = (n * _LN2_HI - 0.5 * square) + n * _LN2_LO
    mantissa = 0.5 * erfcx(-x64 * _INV_SQRT_2) * (np.exp(r) * (1 - 0.5 * square_low))
    return mantissa, n.astype(np.int64)


def normal_cdf_tail(x):
    """Phi(x) for x <= 0 to a few ulps: exp(-x^2 / 2) erfcx(-x / sqrt 2) / 2.

    Writing it as erfc(-x / sqrt 2) / 2 (SciPy's ndtr) loses ~x^2 ulps: rounding x / sqrt 2 moves
    erfc's steep tail.  Here erfcx (scaled erfc, flat in its argument; SciPy, a dependency of
    scikit-learn, imported on first use) takes the rounded argument, and x^2 is carried exactly as
    hi + lo (Dekker's split) into the exponential: exp(-(hi + lo) / 2) = exp(-hi / 2) (1 - lo / 2).
    """
    mantissa, n = normal_tail_parts(x)
    return np.ldexp(mantissa, -n).astype(x.dtype, copy=False)


class GELU(Function):
    """x * Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel, 2016).

    approximate='none':  Phi(x) = (1 + erf(x / sqrt 2)) / 2,  d/dx = Phi(x) + x phi(x), with Phi computed
    from the lower tail (`normal_cdf_tail`), never as 1 + erf: GELU keeps its sign and magnitude for
    large negative x (x Phi(x) ~ -1.5e-196 at x = -30, where 1 + erf gives 0 or a positive rounding error).
    approximate='tanh':  Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2, the
    approximation of the BERT / GPT-2 code, differentiated exactly (PyTorch's convention).
    Its backward uses the saved CDF, so it is not differentiated again.
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, approximate="none"):
        if approximate == "none":
            # Phi(-|x|) to a few ulps, then 1 - it for x >= 0: 1 + erf(x / sqrt 2) would cancel for x < 0
            mantissa, n = normal_tail_parts(-np.abs(x))
            lower = np.ldexp(mantissa, -n).astype(x.dtype, copy=False)
            cdf = np.where(x < 0, lower, 1 - lower)
            ctx.save_for_backward(x, cdf)
            ctx.approximate = approximate
            # x Phi(x) for x < 0 from the mantissa: one rounding, exact to an ulp even when subnormal
            # (x clamped as in normal_tail_parts: below -40 the product is -0.0 in float64 either way)
            negative = np.ldexp(mantissa * np.maximum(x, -40.0), -n).astype(x.dtype, copy=False)
            return np.where(x < 0, negative, x * cdf)
        elif approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            cdf = 0.5 * (1 + t)
            ctx.t = t
        else:
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.save_for_backward(x, cdf)
        ctx.approximate = approximate
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, cdf = ctx.saved_arrays
        if ctx.approximate == "none":
            slope = cdf + x * (_INV_SQRT_2PI * np.exp(-0.5 * x * x))
        else:
            t = ctx.t
            slope = cdf + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return grad * slope
