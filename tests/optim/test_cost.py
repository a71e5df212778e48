"""The cost of an optimizer step: why full second-order methods do not scale (inventory O5)."""

import pytest

from deepnotes.optim import second_order_cost
from deepnotes.optim.cost import cost_table
from tests.doctests import assert_examples_run


@pytest.mark.covers("O5")
@pytest.mark.parametrize("n", [10, 1_000, 1_000_000])
def test_memory_formulas(n):
    c = second_order_cost(n, history_size=7, cg_iterations=3, bytes_per_number=8)
    assert c["sgd"].state_bytes == 0
    assert c["momentum"].state_bytes == 8 * n
    assert c["adam"].state_bytes == 2 * 8 * n
    assert c["lbfgs"].state_bytes == (2 * 7 * n + 2 * n) * 8
    assert c["newton"].state_bytes == 8 * n * n
    assert c["newton_cg"].gradient_evaluations == 1 + 2 * 3
    assert c["newton"].gradient_evaluations == 1 + 2 * n


@pytest.mark.covers("O5")
def test_scaling_with_the_number_of_parameters():
    small, big = second_order_cost(1e3), second_order_cost(1e6)
    assert big["newton"].state_bytes / small["newton"].state_bytes == pytest.approx(1e6)  # n^2
    assert big["newton"].flops / small["newton"].flops == pytest.approx(1e9, rel=1e-2)  # n^3
    for method in ("sgd", "momentum", "adam", "lbfgs", "newton_cg"):  # linear in n
        assert big[method].state_bytes == pytest.approx(1e3 * small[method].state_bytes)
        assert big[method].flops == pytest.approx(1e3 * small[method].flops)
    huge = second_order_cost(1e8)
    order = [huge[m].state_bytes for m in ("sgd", "momentum", "adam", "newton_cg", "lbfgs", "newton")]
    assert order == sorted(order)
    assert huge["newton"].state_bytes == pytest.approx(4e16)  # 40 PB in float32
    assert huge["lbfgs"].state_bytes == pytest.approx(8.8e9)


@pytest.mark.covers("O5")
def test_table_lists_every_size_and_method():
    text = cost_table()
    for token in ("n = 1e+03", "n = 1e+06", "n = 1e+08", "40 PB", "8.8 GB", "Adam", "L-BFGS (m=10)", "Newton-CG"):
        assert token in text


@pytest.mark.covers("O5")
def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="num_params"):
        second_order_cost(0)


@pytest.mark.covers("O5")
def test_docstring_examples():
    assert_examples_run("deepnotes.optim.cost")
