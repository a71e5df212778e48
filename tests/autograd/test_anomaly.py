"""Anomaly mode: the first op whose gradient turns NaN or infinite is named, with the user's line."""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes.errors import AnomalyError, NonFiniteError


def leaf(*values):
    return dn.tensor(np.array(values, dtype=np.float64), requires_grad=True)


CASES = {  # op family: (the forward written by the user, the op's name in the error)
    "log of 0": (lambda x: x.log(), "Log"),
    "sqrt at 0": (lambda x: x.sqrt(), "Sqrt"),
    "division by 0": (lambda x: dn.tensor(np.array([1.0, 2.0])) / x, "Div"),
    "0 * inf": (lambda x: x * dn.tensor(np.array([np.inf, 1.0])), "Mul"),
}


@pytest.mark.covers("E1")
@pytest.mark.parametrize("case", list(CASES))
def test_anomaly_names_the_op_and_the_line_that_created_it(case):
    forward, op = CASES[case]
    x = leaf(0.0, 1.0)
    with dn.autograd.detect_anomaly():
        y = forward(x)  # the line the error must show
        loss = (y * 3.0).sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith(f"backward: {op} returned a gradient")
    assert __file__ in message and "y = forward(x)  # the line the error must show" in message
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, NonFiniteError)


@pytest.mark.covers("E1")
def test_without_anomaly_mode_backward_runs_and_records_nothing():
    x = leaf(0.0, 1.0)
    y = x.log()
    assert not hasattr(y.grad_fn, "creation_site")
    y.sum().backward()
    assert np.isinf(x.grad.numpy()[0]) and not dn.autograd.is_anomaly_enabled()


@pytest.mark.covers("E1")
def test_set_detect_anomaly_switch_and_restore():
    assert dn.autograd.set_detect_anomaly(True) is False
    try:
        x = leaf(0.0)
        with pytest.raises(AnomalyError, match="Sqrt"):
            x.sqrt().sum().backward()
    finally:
        dn.autograd.set_detect_anomaly(False)
    with dn.autograd.detect_anomaly():
        assert dn.autograd.is_anomaly_enabled()
    assert not dn.autograd.is_anomaly_enabled()


@pytest.mark.covers("E1")
def test_the_first_bad_op_from_the_loss_is_blamed_not_a_later_one():
    x = leaf(0.0, 4.0)
    with dn.autograd.detect_anomaly():
        h = x.sqrt()       # infinite gradient at 0: the culprit
        y = (h * h).exp()  # finite gradients above it
        with pytest.raises(AnomalyError, match="Sqrt") as info:
            y.sum().backward()
    assert "h = x.sqrt()" in str(info.value)


@pytest.mark.covers("E1")
def test_an_op_created_before_the_mode_was_on_is_still_named():
    x = leaf(0.0)
    y = x.log()
    with dn.autograd.detect_anomaly():
        with pytest.raises(AnomalyError, match="Log.*not recorded"):
            y.sum().backward()


@pytest.mark.covers("E1")
def test_anomaly_mode_checks_the_recorded_double_backward_too():
    x = leaf(0.0, 1.0)
    with dn.autograd.detect_anomaly():
        y = (x * x * x).sum()
        (g,) = dn.autograd.grad(y, x, create_graph=True)
        assert np.all(np.isfinite(g.numpy()))
        z = g.sqrt().sum()  # d sqrt(3 x^2) / dx is infinite at 0
        with pytest.raises(AnomalyError, match="Sqrt"):
            z.backward()
