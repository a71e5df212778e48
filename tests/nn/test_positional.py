"""Positional encodings: the sinusoidal table's formula and shift property, both modules (inventory S4, S5)."""
import math

import numpy as np
import pytest

import deepnotes as dn
import deepnotes.nn as nn
from deepnotes.nn.layers.positional import sinusoidal_positional_encoding


@pytest.mark.covers("S4", "S5")
@pytest.mark.parametrize("d_model", [6, 7])
def test_sinusoidal_table_follows_the_formula(d_model):
    table = sinusoidal_positional_encoding(12, d_model)
    for pos in (0, 5, 11):
        for i in range(d_model):
            angle = pos / 10000 ** (2 * (i // 2) / d_model)
            assert table[pos, i] == pytest.approx(math.sin(angle) if i % 2 == 0 else math.cos(angle), abs=1e-6)


@pytest.mark.covers("S4", "S5")
def test_sinusoidal_shift_is_a_fixed_linear_map():
    """PE[p + k] = R_k PE[p] with one R_k for every p: relative positions are linear to read."""
    table = sinusoidal_positional_encoding(60, 16, dtype=np.float64)
    k = 7
    R, *_ = np.linalg.lstsq(table[:40], table[k:40 + k], rcond=None)
    np.testing.assert_allclose(table[40:53] @ R, table[40 + k:53 + k], atol=1e-6)


@pytest.mark.covers("S4", "S5")
@pytest.mark.parametrize("batch_first", [False, True])
def test_positional_modules_add_the_table(batch_first):
    pe = nn.SinusoidalPositionalEncoding(8, max_len=20, batch_first=batch_first)
    x = dn.zeros(*((3, 5, 8) if batch_first else (5, 3, 8)))
    out = pe(x).numpy()
    rows = out[0] if batch_first else out[:, 0]
    np.testing.assert_allclose(rows, sinusoidal_positional_encoding(5, 8))
    assert "pe" not in pe.state_dict()
    learned = nn.LearnedPositionalEmbedding(20, 8, batch_first=batch_first)
    y = learned(dn.zeros(*x.shape))
    (y * dn.tensor(np.arange(y.numpy().size, dtype=np.float32).reshape(y.shape))).sum().backward()
    assert np.any(learned.weight.grad.numpy()[:5] != 0) and np.all(learned.weight.grad.numpy()[5:] == 0)
    with pytest.raises(ValueError, match="exceeds max_len 20"):
        pe(dn.zeros(*((1, 21, 8) if batch_first else (21, 1, 8))))
