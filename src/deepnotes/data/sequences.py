"""Synthetic sequence tasks for recurrent networks: long-range memory on demand (inventory S1-S3, K27).

Each generator takes a `seed` and draws from its own `np.random.default_rng(seed)`
(the global deepnotes generator is untouched), so a task is a pure function
of its arguments.  All return NumPy arrays; wrap them with
`data.TensorDataset` or `dn.tensor`.

    adding_problem   regression, two marked numbers to add    (n, T, 2) -> (n,)
    copy_memory      recall a sequence after a delay          (n, T) tokens -> (n, T) tokens
    temporal_order   which of two symbols came first          (n, T, 6) one-hot -> (n,) in 0..3
    parity           XOR of a bit string                      (n, T, 1) -> (n,) in 0..1

Each docstring gives the score of the best model that *ignores* the long-range
dependency (the baseline a model has to beat to have learned anything).
MNIST-1D as a sequence task is `data.load_mnist1d()` with x reshaped to (N, 40, 1).
"""
from __future__ import annotations

import math

import numpy as np

ADDING_BASELINE_MSE = 1.0 / 6.0
"""MSE of always predicting E[y] = 1 on the adding problem: Var(U1 + U2) = 2 * (1/12) = 1/6."""


def _check_positive(name, **values):
    for key, value in values.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")


def adding_problem(n, seq_len, seed=0):
    """The adding problem (Hochreiter & Schmidhuber 1997, Exp. 4; this variant: Le et al. 2015).

    Each step carries two numbers: a value v_t ~ U(0, 1) and a marker m_t in {0, 1}.
    Exactly two steps are marked, one uniformly in the first half [0, T//2)
    and one in the second half [T//2, T).  The target is the sum of the two
    marked values, y = sum_t m_t v_t.  The first marked value has to be carried
    for about T/2 steps, past every distractor.

    Baseline: predicting the mean, 1, gives MSE = Var(y) = 1/6 ~ 0.167
    (`ADDING_BASELINE_MSE`); "solved" usually means MSE below a few percent of that.

    Args:
        n: number of sequences.  seq_len: T >= 2.  seed: for the generator.

    Returns:
        x: (n, T, 2) float32, [:, :, 0] the values and [:, :, 1] the markers.
        y: (n,) float32.

    Example:
        >>> x, y = adding_problem(4, 50, seed=0)
        >>> x.shape, y.shape, x[..., 1].sum(axis=1).tolist()
        ((4, 50, 2), (4,), [2.0, 2.0, 2.0, 2.0])
    """
    _check_positive("adding_problem", n=n, seq_len=seq_len)
    if seq_len < 2:
        raise ValueError(f"adding_problem: seq_len must be >= 2 to hold two marked positions, got {seq_len}")
    rng = np.random.default_rng(seed)
    values = rng.random((n, seq_len))
    half = seq_len // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    rows = np.arange(n)
    markers = np.zeros((n, seq_len))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1).astype(np.float32), y.astype(np.float32)


def copy_memory(n, delay, n_symbols=8, copy_len=10, seed=0):
    """The copy-memory task (Hochreiter & Schmidhuber 1997; in this form Arjovsky et al. 2016).

    Tokens: 0 is blank, 1..n_symbols are data symbols, n_symbols + 1 is the
    "go" marker (vocabulary size n_symbols + 2).  With L = copy_len and
    T = delay + 2 L:

        input   s_1 .. s_L   0 ... 0 (delay - 1)   go   0 ... 0 (L)
        target  0 ... 0 (delay + L)                     s_1 .. s_L

    The model must hold the L symbols for `delay` steps and write them out
    after the go marker.  Baseline: blanks, then a uniform guess over the
    symbols, has cross-entropy L log(n_symbols) / T per step
    (`copy_memory_baseline`).

    Args:
        n: number of sequences.  delay: steps between the last symbol and the
            first symbol to write (>= 1).  n_symbols: data symbols.  copy_len: L.

    Returns:
        x: (n, T) int64 input tokens.  y: (n, T) int64 target tokens.
    """
    _check_positive("copy_memory", n=n, delay=delay, n_symbols=n_symbols, copy_len=copy_len)
    rng = np.random.default_rng(seed)
    T = delay + 2 * copy_len
    symbols = rng.integers(1, n_symbols + 1, size=(n, copy_len))
    x = np.zeros((n, T), dtype=np.int64)
    y = np.zeros((n, T), dtype=np.int64)
    x[:, :copy_len] = symbols
    x[:, delay + copy_len - 1] = n_symbols + 1
    y[:, delay + copy_len :] = symbols
    return x, y


def copy_memory_baseline(delay, n_symbols=8, copy_len=10):
    """Per-step cross-entropy (nats) of the memoryless strategy on `copy_memory`."""
    return copy_len * math.log(n_symbols) / (delay + 2 * copy_len)


def temporal_order(n, seq_len, seed=0):
    """The temporal-order task (Hochreiter & Schmidhuber 1997, Exp. 6a): classify the order of two symbols.

    A sequence of random distractors (symbols 0..3) holds two relevant symbols,
    each X (4) or Y (5): the first at a step drawn uniformly from
    [T/10, 2T/10), the second from [5T/10, 6T/10).  The class is
    2 * [first is Y] + [second is Y]: XX -> 0, XY -> 1, YX -> 2, YY -> 3,
    equally likely.  The first symbol has to be remembered for about 4T/10
    steps.  Baseline: a model that sees only the second symbol scores 50%,
    chance is 25%.

    Args:
        n: number of sequences.  seq_len: T >= 10.  seed: for the generator.

    Returns:
        x: (n, T, 6) float32 one-hot symbols.  y: (n,) int64 in 0..3.
    """
    _check_positive("temporal_order", n=n, seq_len=seq_len)
    if seq_len < 10:
        raise ValueError(f"temporal_order: seq_len must be >= 10, got {seq_len}")
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 4, size=(n, seq_len))
    first = rng.integers(seq_len // 10, 2 * seq_len // 10, size=n)
    second = rng.integers(5 * seq_len // 10, 6 * seq_len // 10, size=n)
    is_y = rng.integers(0, 2, size=(n, 2))
    rows = np.arange(n)
    tokens[rows, first] = 4 + is_y[:, 0]
    tokens[rows, second] = 4 + is_y[:, 1]
    x = np.eye(6, dtype=np.float32)[tokens]
    return x, (2 * is_y[:, 0] + is_y[:, 1]).astype(np.int64)


def parity(n, seq_len, seed=0):
    """Parity (XOR) of a random bit string: every bit matters, so no step can be forgotten.

    Hard for gradient descent as T grows: the label is uncorrelated with every
    proper subset of the bits, so there is no partial signal to follow.
    Baseline: 50%.

    Returns:
        x: (n, T, 1) float32 bits.  y: (n,) int64, the sum of the bits mod 2.
    """
    _check_positive("parity", n=n, seq_len=seq_len)
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(n, seq_len))
    return bits[..., None].astype(np.float32), (bits.sum(axis=1) % 2).astype(np.int64)
