"""Each layer of the package imports only from the layers below it (docs/architecture.md).

The ranks below are the design: a module may import a module of a lower or equal rank, never a
higher one. Read from the source (no import), so a new upward import fails here at once.
"""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "deepnotes"

# rank of each top-level module or package of deepnotes (and of a few sub-layers inside them)
RANKS = {
    "random": 0, "io": 0, "parallel": 0, "allocator": 0, "errors": 0, "_checks": 0, "fast": 0,
    "device": 0, "unsupported": 0, "cuda": 0, "backends": 0, "accelerator": 0, "onnx": 0,
    "autograd": 1,
    "autograd.functional": 2.5, "autograd.graph": 1,
    "ops": 2,
    "nn.module": 3, "nn.hooks": 3, "nn.init": 3, "nn.functional": 3.1, "nn.containers": 3.2, "nn.layers": 3.3,
    "nn.utils.rnn": 3.25, "nn.utils": 3.4, "nn.modules": 3.45, "nn": 3.5,
    "fast.transformer": 3.6, "fast.sequential": 3.6, "fast.recurrent": 3.6, "fast.cross_entropy": 3.6,
    "fast.pooling": 3.6,
    "optim": 4, "data": 4, "metrics": 4, "utils": 4.5, "serialization": 5.5,
    "train": 5, "text": 5, "models": 5, "vision": 5, "compress": 5, "generative": 5,
    "tune": 6, "bench": 6,
    "claims": 7,
    "handbook": 8,
    "cli": 9, "__init__": 9,
}


def rank_of(dotted):
    """The rank of `deepnotes.<dotted>`: its longest prefix listed in RANKS. A package's
    `commands` module (its `deepnotes` subcommands) is part of the command line, the top layer."""
    parts = dotted.split(".")
    if parts[-1] == "commands":
        return RANKS["cli"], "cli"
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in RANKS:
            return RANKS[key], key
    raise KeyError(f"no rank for deepnotes.{dotted}: add it to RANKS in tests/test_layering.py")


def module_name(path, src=SRC):
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imported(path, src=SRC):
    """deepnotes-relative dotted names imported by the file at `path`."""
    name = module_name(path, src)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "deepnotes":
                target = node.module.split(".")[1:]
            else:
                continue
            if node.module is None or not target:  # `from . import x, y`: each name is a module
                for alias in node.names:
                    yield ".".join(target + [alias.name]), node.lineno
            else:
                yield ".".join(target), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("deepnotes."):
                    yield alias.name[len("deepnotes."):], node.lineno


def upward_imports(src=SRC):
    violations = []
    for path in sorted(src.rglob("*.py")):
        own_name = module_name(path, src)
        own, own_key = rank_of(own_name)
        for target, line in imported(path, src):
            if not target or target == own_name:
                continue
            theirs, their_key = rank_of(target)
            if theirs > own and not own_key.startswith(their_key) and not their_key.startswith(own_key):
                violations.append(f"{path.relative_to(src.parent)}:{line} ({own_key}, rank {own}) imports "
                                  f"deepnotes.{target} ({their_key}, rank {theirs})")
    return violations


def test_no_module_imports_from_a_layer_above_it():
    violations = upward_imports()
    assert not violations, "upward imports:\n" + "\n".join(violations)


def test_the_check_finds_a_planted_upward_import(tmp_path):
    src = tmp_path / "deepnotes"
    (src / "ops").mkdir(parents=True)
    (src / "nn" / "layers").mkdir(parents=True)
    (src / "ops" / "bad.py").write_text("from ..nn.layers import conv\nfrom ..autograd import tensor\n")
    (src / "nn" / "layers" / "fine.py").write_text("from ...ops import api\nfrom ..functional import linear\n")
    found = upward_imports(src)
    assert len(found) == 1 and "ops/bad.py:1" in found[0] and "nn.layers" in found[0]
