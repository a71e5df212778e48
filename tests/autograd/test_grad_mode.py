"""Grad mode (src/deepnotes/autograd/grad_mode.py): no_grad, enable_grad, set_grad_enabled."""
import pytest

import deepnotes as dn


@pytest.mark.covers("E1")
def test_no_grad_records_nothing():
    x = dn.tensor([1.0, 2.0], requires_grad=True)
    with dn.no_grad():
        y = x * 2
        assert not dn.is_grad_enabled()
    assert dn.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.covers("E1")
def test_enable_grad_inside_no_grad():
    x = dn.tensor([1.0], requires_grad=True)
    with dn.no_grad():
        with dn.enable_grad():
            y = x * 2
        z = x * 2
    assert y.grad_fn is not None and z.grad_fn is None


@pytest.mark.covers("E1")
def test_decorator_forms():
    x = dn.tensor([1.0], requires_grad=True)

    @dn.no_grad()
    def evaluate(t):
        return t * 2

    @dn.enable_grad()
    def train_step(t):
        return t * 2

    assert evaluate(x).grad_fn is None
    with dn.no_grad():
        assert train_step(x).grad_fn is not None
    assert dn.is_grad_enabled()


@pytest.mark.covers("E1")
def test_set_grad_enabled_as_function_and_context_manager():
    x = dn.tensor([1.0], requires_grad=True)
    with dn.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert dn.is_grad_enabled()
    dn.set_grad_enabled(False)
    try:
        assert not dn.is_grad_enabled()
    finally:
        dn.set_grad_enabled(True)
    assert (x * 2).grad_fn is not None


@pytest.mark.covers("E1")
def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with dn.no_grad():
            raise ValueError
    assert dn.is_grad_enabled()


@pytest.mark.covers("E1")
def test_backward_works_after_no_grad_block_and_leaves_mode_alone():
    x = dn.tensor([3.0], requires_grad=True)
    y = (x * x).sum()
    with dn.no_grad():
        y.backward()  # the recorded graph is still there
    assert x.grad.tolist() == [6.0] and dn.is_grad_enabled()
