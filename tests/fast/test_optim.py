"""The SGD fast path (`fast.optim`, BLAS axpby passes) against SGD's reference update, every option,
float32 and float64; and the cases it leaves to the reference. (Against torch: tests/optim/test_sgd.py,
which runs with the fast paths on.)"""
import numpy as np
import pytest

import deepnotes as dn
from deepnotes import fast
from deepnotes.backends import vector
from deepnotes.fast import optim as fast_optim

pytestmark = pytest.mark.covers("O1", "O2")

SETTINGS = [dict(lr=0.1), dict(lr=0.1, weight_decay=0.05), dict(lr=0.05, momentum=0.9),
            dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01), dict(lr=0.05, momentum=0.9, nesterov=True),
            dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02),
            dict(lr=0.05, momentum=0.5, weight_decay=0.01, maximize=True)]


def _train(kwargs, dtype, enabled, steps=5, layout=None, shapes=((33, 17), (17,), (5, 33, 2))):
    """Parameters and momentum buffers after `steps` SGD steps on fixed random gradients."""
    rng = np.random.default_rng(0)
    params = [dn.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    if layout is not None:
        params[0].data = layout(params[0]._data)
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    opt = dn.optim.SGD(params, **kwargs)
    with fast.disabled() if not enabled else _nothing():
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = dn.tensor(g)
            opt.step()
    buffers = [opt.state[p].get("momentum_buffer") for p in params]
    return [p.detach().numpy().copy() for p in params], buffers


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _counting(monkeypatch):
    """Record each axpby pass the fast paths run: whether its arrays were ones `suits` accepts."""
    calls = []
    real = vector.axpby_checked

    def counted(alpha, x, beta, y):
        calls.append(vector.suits((x,), (y,)))
        return real(alpha, x, beta, y)

    monkeypatch.setattr(vector, "axpby_checked", counted)
    return calls


@pytest.mark.skipif(not vector.available(), reason="NumPy's BLAS has no ?axpby here")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", SETTINGS, ids=lambda k: ",".join(k))
def test_fast_sgd_update_is_the_reference_update(kwargs, dtype, monkeypatch):
    monkeypatch.setattr(fast_optim, "MIN_SIZE", 0)  # small arrays, every one through axpby
    reference, reference_buffers = _train(kwargs, dtype, enabled=False)
    calls = _counting(monkeypatch)
    fast_params, fast_buffers = _train(kwargs, dtype, enabled=True)
    assert calls and all(calls)  # the fast path ran (every step but a momentum buffer's first)
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    for got, want in zip(fast_params, reference):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **tol)
    for got, want in zip(fast_buffers, reference_buffers):
        assert (got is None) == (want is None)
        if got is not None:
            np.testing.assert_allclose(got, want, **tol)


@pytest.mark.skipif(not vector.available(), reason="NumPy's BLAS has no ?axpby here")
def test_only_parameters_of_min_size_elements_take_the_fast_path(monkeypatch):
    kwargs = dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)
    shapes = ((fast_optim.MIN_SIZE // 128, 128), (128,), (3, 5))
    reference, _ = _train(kwargs, np.float32, enabled=False, steps=3, shapes=shapes)
    calls = _counting(monkeypatch)
    fast_params, _ = _train(kwargs, np.float32, enabled=True, steps=3, shapes=shapes)
    assert calls == [True] * 4 * 2  # the large weight's 2nd and 3rd steps: buffer, decay, p twice
    np.testing.assert_allclose(fast_params[0], reference[0], rtol=2e-6, atol=2e-6)
    for got, want in zip(fast_params[1:], reference[1:]):
        np.testing.assert_array_equal(got, want)  # small ones: the reference code itself


@pytest.mark.parametrize("layout", [lambda a: np.repeat(a, 2, axis=1)[:, ::2],  # strided
                                    lambda a: np.asfortranarray(a)])
def test_a_parameter_axpby_cannot_take_runs_the_reference_update(layout, monkeypatch):
    monkeypatch.setattr(fast_optim, "MIN_SIZE", 0)
    kwargs = dict(lr=0.05, momentum=0.9, weight_decay=0.01)
    reference, _ = _train(kwargs, np.float64, enabled=False, layout=layout)
    fast_params, _ = _train(kwargs, np.float64, enabled=True, layout=layout)
    np.testing.assert_array_equal(fast_params[0], reference[0])  # bit for bit: the same code ran


def test_without_a_blas_axpby_sgd_runs_its_reference_update(monkeypatch):
    monkeypatch.setattr(fast_optim, "MIN_SIZE", 0)
    kwargs = dict(lr=0.05, momentum=0.9, nesterov=True)
    reference, _ = _train(kwargs, np.float32, enabled=False)
    monkeypatch.setattr(vector, "_functions", {})
    fast_params, _ = _train(kwargs, np.float32, enabled=True)
    for got, want in zip(fast_params, reference):
        np.testing.assert_array_equal(got, want)


ADAM_SETTINGS = [("Adam", dict(lr=1e-3)), ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, amsgrad=True)),
                 ("Adam", dict(lr=1e-2, maximize=True)), ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
                 ("AdamW", dict(lr=1e-2, weight_decay=0.05, amsgrad=True, maximize=True))]


def _train_adam(name, kwargs, dtype, enabled, steps=5, shapes=((33, 17), (17,), (5, 33, 2))):
    rng = np.random.default_rng(0)
    params = [dn.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    opt = getattr(dn.optim, name)(params, **kwargs)
    with fast.disabled() if not enabled else _nothing():
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = dn.tensor(g)
            opt.step()
    return [p.detach().numpy().copy() for p in params], [dict(opt.state[p]) for p in params]


@pytest.mark.covers("O3", "O4")
@pytest.mark.skipif(not vector.available(), reason="NumPy's BLAS has no ?axpby here")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs", ADAM_SETTINGS, ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_fast_adam_update_is_the_reference_update(name, kwargs, dtype, monkeypatch):
    monkeypatch.setattr(fast_optim, "MIN_SIZE", 0)
    reference, reference_state = _train_adam(name, kwargs, dtype, enabled=False)
    calls = _counting(monkeypatch)
    fast_params, fast_state = _train_adam(name, kwargs, dtype, enabled=True)
    assert calls and all(calls)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for got, want in zip(fast_params, reference):
        np.testing.assert_allclose(got, want, **tol)
    for got, want in zip(fast_state, reference_state):
        assert got.keys() == want.keys() and got["step"] == want["step"] == 5
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            if key in want:
                np.testing.assert_allclose(got[key], want[key], **tol)


@pytest.mark.covers("O3", "O4")
@pytest.mark.skipif(not vector.available(), reason="NumPy's BLAS has no ?axpby here")
@pytest.mark.parametrize("name,kwargs", [("Adam", dict(lr=1e-2)), ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True))])
def test_fast_adam_on_a_large_parameter_matches_torch(name, kwargs, monkeypatch):
    """A weight of MIN_SIZE elements (the fast path, for real) against torch.optim, float64."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    shape = (fast_optim.MIN_SIZE // 256, 256)
    start = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(4)]
    ours = dn.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    opt, ref = getattr(dn.optim, name)([ours], **kwargs), getattr(torch.optim, name)([theirs], **kwargs)
    calls = _counting(monkeypatch)
    for g in grads:
        ours.grad, theirs.grad = dn.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    assert len(calls) == 3 * 3 and all(calls)  # steps 2-4: m, v, p
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.covers("O3", "O4")
def test_adam_with_l2_decay_and_first_steps_run_the_reference(monkeypatch):
    monkeypatch.setattr(fast_optim, "MIN_SIZE", 0)
    calls = _counting(monkeypatch)
    _train_adam("Adam", dict(lr=1e-2, weight_decay=0.1), np.float64, enabled=True)
    assert calls == []
    _train_adam("AdamW", dict(lr=1e-2), np.float64, enabled=True, steps=1)
    assert calls == []


@pytest.mark.parametrize("name,kwargs,key", [("SGD", dict(lr=0.1, momentum=0.9), "momentum_buffer"),
                                             ("AdamW", dict(lr=1e-2), "exp_avg_sq")])
def test_a_read_only_state_array_is_not_skipped_silently(name, kwargs, key, monkeypatch):
    """The fast paths check every array they write before the first write: a read-only buffer sends
    the step to the reference, which reports it, with or without the fast paths."""
    monkeypatch.setattr(fast_optim, "MIN_SIZE", 0)
    outcomes = []
    for enabled in (True, False):
        p = dn.tensor(np.ones((4, 3)), requires_grad=True)
        opt = getattr(dn.optim, name)([p], **kwargs)
        p.grad = dn.ones_like(p)
        opt.step()
        opt.state[p][key].flags.writeable = False
        before = p.detach().numpy().copy()
        with fast.disabled() if not enabled else _nothing():
            with pytest.raises(ValueError) as error:
                opt.step()
        outcomes.append((type(error.value), str(error.value)))
        if name == "SGD":  # the reference fails on its first write, before p changes
            np.testing.assert_array_equal(p.detach().numpy(), before)
    assert outcomes[0] == outcomes[1]


def test_adam_moments_sharing_memory_run_the_reference(monkeypatch):
    """A state whose moments share memory (as a hand-built state could) is refused as a whole: the
    reference runs, bit for bit, rather than a fast step that skips one of the writes."""
    monkeypatch.setattr(fast_optim, "MIN_SIZE", 0)
    results = []
    for enabled in (True, False):
        p = dn.tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
        opt = dn.optim.AdamW([p], lr=1e-2)
        p.grad = dn.ones_like(p)
        opt.step()
        opt.state[p]["exp_avg_sq"] = opt.state[p]["exp_avg"]  # one array for both moments
        p.grad = dn.tensor(np.full((4, 3), 0.5))
        calls = _counting(monkeypatch)
        with fast.disabled() if not enabled else _nothing():
            opt.step()
        assert calls == []  # refused as a whole, before any pass
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])
