"""The shared oracle: run deepnotes and PyTorch on the same inputs and compare.

Every op, layer and loss test goes through `check_fn` (functions) or
`check_module` (layers).  Both compare forward values, shapes and dtypes, then
backpropagate the same random cotangent through both graphs (a random weighted
sum of the outputs catches more mistakes than a plain sum) and compare the
gradient of every float input and every parameter.  Everything runs in float64
with tight tolerances.  `gradcheck` is the finite-difference check for what
PyTorch does not have.
"""
from __future__ import annotations

import numpy as np
import torch

import deepnotes as dn

ATOL = 1e-9
RTOL = 1e-7


def random_inputs(shapes, seed=0, low=-2.0, high=2.0):
    """Float64 arrays of the given shapes, uniform in [low, high)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s) for s in shapes]


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, dn.Tensor):
        return x.numpy()
    return np.asarray(x)


def assert_close(actual, expected, what, atol=ATOL, rtol=RTOL):
    actual, expected = _to_numpy(actual), _to_numpy(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != torch's {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != torch's {expected.dtype}"
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=what, equal_nan=True)


def _cotangents(outputs, seed):
    rng = np.random.default_rng(seed + 12345)
    return [rng.uniform(0.5, 1.5, size=_to_numpy(o).shape) for o in outputs]


def check_fn(dn_fn, torch_fn, inputs, *, grad=True, atol=ATOL, rtol=RTOL, seed=0):
    """Compare `dn_fn(*tensors)` with `torch_fn(*tensors)` on the same `inputs`.

    `inputs` are NumPy arrays: float ones become tensors that require grad
    (when `grad`), others (integer targets, masks) are passed without grad.
    Returns the deepnotes outputs for further checks.
    """
    arrays = [np.asarray(a) for a in inputs]
    differentiable = [grad and a.dtype.kind == "f" for a in arrays]
    dn_in = [dn.tensor(a, requires_grad=d) for a, d in zip(arrays, differentiable)]
    th_in = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, differentiable)]
    dn_out, th_out = _as_list(dn_fn(*dn_in)), _as_list(torch_fn(*th_in))
    assert len(dn_out) == len(th_out), f"{len(dn_out)} outputs, torch gives {len(th_out)}"
    for i, (a, b) in enumerate(zip(dn_out, th_out)):
        assert_close(a, b, f"forward output {i}", atol, rtol)
    if not any(differentiable):
        return dn_out
    _backward_both(dn_out, th_out, seed)
    for i, (a, b, d) in enumerate(zip(dn_in, th_in, differentiable)):
        if d:
            assert_grad_close(a.grad, b.grad, f"gradient of input {i}", atol, rtol)
    return dn_out


def assert_grad_close(dn_grad, torch_grad, what, atol=ATOL, rtol=RTOL):
    if torch_grad is None:
        assert dn_grad is None or not np.any(_to_numpy(dn_grad)), f"{what}: torch has no gradient, deepnotes does"
        return
    assert dn_grad is not None, f"{what}: deepnotes has no gradient, torch does"
    assert_close(dn_grad, torch_grad, what, atol, rtol)


def _backward_both(dn_out, th_out, seed):
    pairs = [(a, b) for a, b in zip(dn_out, th_out) if isinstance(b, torch.Tensor) and b.requires_grad]
    assert pairs, "no differentiable output to backpropagate"
    cot = _cotangents([b for _, b in pairs], seed)
    dn_loss = sum(((a * dn.tensor(c)).sum() for (a, _), c in zip(pairs, cot)), dn.tensor(0.0, dtype=np.float64))
    th_loss = sum((b * torch.tensor(c)).sum() for (_, b), c in zip(pairs, cot))
    dn_loss.backward()
    th_loss.backward()


def copy_parameters(dn_module, torch_module):
    """Copy deepnotes parameters and buffers into the torch module, by name."""
    th_state = torch_module.state_dict()
    dn_state = dn_module.state_dict()
    missing = set(th_state) ^ set(dn_state)
    assert not missing, f"state_dict keys differ between deepnotes and torch: {sorted(missing)}"
    with torch.no_grad():
        for name, value in dn_state.items():
            th_state[name].copy_(torch.from_numpy(np.array(_to_numpy(value))))


def check_module(dn_module, torch_module, inputs, *, grad=True, atol=ATOL, rtol=RTOL, seed=0, call=None):
    """Compare a layer with its PyTorch counterpart: outputs, input and parameter grads.

    Both modules are put in float64; torch's parameters are overwritten with
    deepnotes' (so the default init is not what is compared here).  `call(m, *x)`
    overrides how the module is called.
    """
    dn_module.double()
    torch_module.double()
    copy_parameters(dn_module, torch_module)
    call = call or (lambda m, *x: m(*x))
    arrays = [np.asarray(a) for a in inputs]
    differentiable = [grad and a.dtype.kind == "f" for a in arrays]
    dn_in = [dn.tensor(a, requires_grad=d) for a, d in zip(arrays, differentiable)]
    th_in = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, differentiable)]
    dn_out, th_out = _as_list(call(dn_module, *dn_in)), _as_list(call(torch_module, *th_in))
    for i, (a, b) in enumerate(zip(dn_out, th_out)):
        assert_close(a, b, f"{type(dn_module).__name__} output {i}", atol, rtol)
    if not grad:
        return dn_out
    _backward_both(dn_out, th_out, seed)
    for i, (a, b, d) in enumerate(zip(dn_in, th_in, differentiable)):
        if d:
            assert_grad_close(a.grad, b.grad, f"{type(dn_module).__name__} input {i} grad", atol, rtol)
    th_params = dict(torch_module.named_parameters())
    for name, p in dn_module.named_parameters():
        assert_grad_close(p.grad, th_params[name].grad, f"{type(dn_module).__name__}.{name} grad", atol, rtol)
    return dn_out


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-6, rtol=1e-5, seed=0, directions=3):
    """Finite-difference check of `fn`'s gradients in random directions (float64).

    For a random cotangent c and random direction v, compares
    <grad_x <c, f(x)>, v> with (<c, f(x + eps v)> - <c, f(x - eps v)>) / (2 eps).
    `fn` takes deepnotes tensors and returns a tensor; it must be deterministic.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in inputs]
    tensors = [dn.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    c = rng.standard_normal(out.shape)
    (out * dn.tensor(c)).sum().backward()
    grads = [t.grad.numpy() if t.grad is not None else np.zeros_like(t.numpy()) for t in tensors]
    for _ in range(directions):
        vs = [rng.standard_normal(a.shape) for a in arrays]
        with dn.no_grad():
            plus = fn(*[dn.tensor(a + eps * v) for a, v in zip(arrays, vs)]).numpy()
            minus = fn(*[dn.tensor(a - eps * v) for a, v in zip(arrays, vs)]).numpy()
        numeric = float(np.sum(c * (plus - minus)) / (2 * eps))
        analytic = float(sum(np.sum(g * v) for g, v in zip(grads, vs)))
        assert abs(numeric - analytic) <= atol + rtol * abs(numeric), (
            f"finite-difference check failed: analytic {analytic!r} vs numeric {numeric!r}"
        )


def check_grad_grad(dn_fn, torch_fn, inputs, *, atol=ATOL, rtol=RTOL, seed=0):
    """Compare second derivatives (double backward, `create_graph=True`) with PyTorch.

    With a random cotangent c and a random direction v per float input, checks
    g = d<c, f(x)>/dx (built with create_graph) and the Hessian-vector product
    d<g, v>/dx, the quantity higher-order gradients exist for.  `dn_fn` and
    `torch_fn` return one tensor.
    """
    from deepnotes.autograd import grad as dn_grad

    rng = np.random.default_rng(seed + 999)
    arrays = [np.asarray(a) for a in inputs]
    diff = [a.dtype.kind == "f" for a in arrays]
    dn_in = [dn.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    th_in = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    dn_x = [t for t, d in zip(dn_in, diff) if d]
    th_x = [t for t, d in zip(th_in, diff) if d]
    dn_out, th_out = dn_fn(*dn_in), torch_fn(*th_in)
    assert_close(dn_out, th_out, "forward output", atol, rtol)
    c = rng.uniform(0.5, 1.5, size=th_out.shape)
    v = [rng.standard_normal(t.shape) for t in th_x]
    dn_g = dn_grad((dn_out * dn.tensor(c)).sum(), dn_x, create_graph=True, allow_unused=True)
    th_g = torch.autograd.grad((th_out * torch.tensor(c)).sum(), th_x, create_graph=True, allow_unused=True)
    for i, (a, b) in enumerate(zip(dn_g, th_g)):
        assert_grad_close(None if a is None else a.numpy(), b, f"first derivative {i}", atol, rtol)

    def second(grads, xs, lib):
        """d<g, v>/dx as arrays; zeros where g does not depend on x (a linear op)."""
        terms = [(g * lib.tensor(vi)).sum() for g, vi in zip(grads, v) if g is not None and g.requires_grad]
        out = [None] * len(xs)
        if terms:
            grad_fn = dn_grad if lib is dn else torch.autograd.grad
            out = grad_fn(sum(terms[1:], terms[0]), xs, allow_unused=True)
        return [np.zeros(x.shape, dtype=_to_numpy(x).dtype) if h is None else _to_numpy(h) for h, x in zip(out, xs)]

    for i, (a, b) in enumerate(zip(second(dn_g, dn_x, dn), second(th_g, th_x, torch))):
        assert_close(a, b, f"second derivative (H v) {i}", atol, rtol)
