"""Every name of the supported PyTorch surface (tests/compat/surface.py) exists in deepnotes with
PyTorch's parameters and defaults, every unsupported name raises NotImplementedError saying what to
use instead, and docs/pytorch.md lists both.

The signature rule: each parameter of PyTorch's signature is accepted by deepnotes' under the same
name with the same default, except (a) the first parameter of a function or method (the tensor or
`self`; PyTorch calls it `input`, deepnotes often `x`), (b) PyTorch's GPU and performance knobs
(KNOBS), (c) the exceptions in DIFFERS, each with its reason; parameters deepnotes adds must have
defaults, so PyTorch-style calls still work.  Where PyTorch's signature is only (*args, **kwargs)
or not introspectable (a C builtin) the name is checked for existence only.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import torch

import deepnotes as dn
from deepnotes.unsupported import UNSUPPORTED
from tests.compat.surface import DIFFERS, KNOBS, SUPPORTED

DOCS = Path(__file__).resolve().parents[2] / "docs" / "pytorch.md"
CASES = [(ns, name) for ns, names in SUPPORTED.items() for name in names]


def resolve(root, namespace, name):
    obj = root
    for part in [p for p in namespace.split(".") if p] + [name]:
        if obj is root and part in ("Tensor", "Module"):
            obj = root.Tensor if part == "Tensor" else root.nn.Module
        else:
            obj = getattr(obj, part)
    return obj


def parameters(obj):
    """The parameters of a callable (of `__init__` for a class), or None when not introspectable."""
    try:
        target = obj.__init__ if inspect.isclass(obj) else obj
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return None
    if inspect.isclass(obj) and params and params[0].name == "self":
        params = params[1:]
    if all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None  # (*args, **kwargs): nothing to compare
    return params


def _same(a, b):
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - tensors and other objects without a plain ==
        return False


@pytest.mark.parametrize("namespace,name", CASES, ids=[f"{ns}.{n}" if ns else n for ns, n in CASES])
def test_supported_name_matches_torch_signature(namespace, name):
    qualified = f"{namespace}.{name}" if namespace else name
    theirs, ours = resolve(torch, namespace, name), resolve(dn, namespace, name)
    torch_params, our_params = parameters(theirs), parameters(ours)
    if torch_params is None or our_params is None or not callable(theirs):
        return
    by_name = {p.name: p for p in our_params}
    accepts_kwargs = any(p.kind is p.VAR_KEYWORD for p in our_params)
    skip_first = not inspect.isclass(theirs)
    problems = []
    for i, p in enumerate(torch_params):
        if (skip_first and i == 0) or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in KNOBS \
                or p.name.startswith("_") or f"{qualified}.{p.name}" in DIFFERS:
            continue
        mine = by_name.get(p.name)
        if mine is None:
            if not accepts_kwargs:
                problems.append(f"missing parameter {p.name}")
        elif p.default is not p.empty and repr(mine.default) != repr(p.default) and not _same(mine.default, p.default):
            problems.append(f"{p.name} defaults to {mine.default!r}, PyTorch's to {p.default!r}")
    torch_names = {p.name for p in torch_params}
    for i, p in enumerate(our_params):
        renamed = i < len(torch_params) and f"{qualified}.{torch_params[i].name}" in DIFFERS
        extra = p.name not in torch_names and not (skip_first and i == 0) and not renamed
        if extra and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            problems.append(f"extra required parameter {p.name}")
    assert not problems, f"{qualified}: " + "; ".join(problems)


def test_differs_entries_are_real_and_explained():
    for key, reason in DIFFERS.items():
        namespace, _, rest = key.rpartition(".")
        owner_ns, _, name = namespace.rpartition(".")
        assert (owner_ns, name) in CASES or (namespace, rest) in CASES, f"DIFFERS names an unknown entry {key}"
        assert len(reason) > 20, f"DIFFERS[{key!r}] needs a reason"


@pytest.mark.parametrize("namespace", sorted(UNSUPPORTED))
def test_unsupported_names_raise_with_a_message(namespace):
    module = {"deepnotes": dn, "deepnotes.nn": dn.nn, "deepnotes.optim": dn.optim,
              "deepnotes.Tensor": dn.zeros(2, 3, requires_grad=True)}[namespace]
    torch_module = {"deepnotes": torch, "deepnotes.nn": torch.nn, "deepnotes.optim": torch.optim,
                    "deepnotes.Tensor": torch.Tensor}[namespace]
    for name, reason in UNSUPPORTED[namespace].items():
        assert hasattr(torch_module, name) or name == "autocast", f"{namespace}.{name}: not a PyTorch name"
        with pytest.raises(NotImplementedError, match="is not supported: " + re.escape(reason[:20])):
            getattr(module, name)
    with pytest.raises(AttributeError):
        module.no_such_name_anywhere
    assert not hasattr(module, "no_such_name_anywhere")
    name = next(iter(UNSUPPORTED[namespace]))
    assert not hasattr(module, name) and getattr(module, name, "default") == "default"  # probes still work


def test_a_missing_tensor_attribute_keeps_python_s_protocols():
    """Tensor.__getattr__ answers only names the class lacks: copying still works, an unknown name
    is the usual AttributeError, a listed PyTorch name says what to use instead."""
    import copy

    t = dn.tensor([1.0, 2.0], requires_grad=True)
    assert copy.deepcopy(t).tolist() == [1.0, 2.0]
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'shapee'"):
        t.shapee
    with pytest.raises(NotImplementedError, match="Tensor.register_hook is not supported: no tensor hooks"):
        t.register_hook(print)


def test_docs_list_the_whole_boundary():
    text = DOCS.read_text(encoding="utf-8")
    for namespace, names in SUPPORTED.items():
        for name in names:
            assert f"`{name}`" in text, f"docs/pytorch.md does not list {namespace}.{name}"
    for namespace, table in UNSUPPORTED.items():
        for name in table:
            shown = f"`{namespace.replace('deepnotes', 'torch')}.{name}`"
            assert shown in text, f"docs/pytorch.md does not list unsupported {shown}"
    for key in DIFFERS:
        assert f"`{key}`" in text, f"docs/pytorch.md does not explain {key}"
