"""Run a PyTorch example under PyTorch or under deepnotes, changing only its import lines.

    DEEPNOTES_BACKEND=torch     python examples/pytorch/run_example.py cnn_digits.py
    DEEPNOTES_BACKEND=deepnotes python examples/pytorch/run_example.py cnn_digits.py

Under deepnotes, each `import torch...` / `from torch... import ...` line is rewritten as a user
would rewrite it (`import torch` -> `import deepnotes as torch`, `import torch.nn as nn` ->
`import deepnotes.nn as nn`, `from torch.utils.data import X` -> `from deepnotes.utils.data import X`);
no other line is touched.  `--diff` prints the rewritten lines instead of running.
"""
from __future__ import annotations

import os
import re
import runpy
import sys
import tempfile
from pathlib import Path

_IMPORT_AS = re.compile(r"^(\s*)import torch((?:\.\w+)*) as (\w+)\s*$")
_IMPORT = re.compile(r"^(\s*)import torch((?:\.\w+)*)\s*$")
_FROM = re.compile(r"^(\s*)from torch((?:\.\w+)*) import (.+)$")


def rewrite_line(line: str) -> str:
    """The line with `torch` replaced by `deepnotes` in an import statement; other lines unchanged."""
    if m := _IMPORT_AS.match(line):
        return f"{m[1]}import deepnotes{m[2]} as {m[3]}"
    if m := _IMPORT.match(line):
        if not m[2]:
            return f"{m[1]}import deepnotes as torch"
        return f"{m[1]}import deepnotes{m[2]}, deepnotes as torch"
    if m := _FROM.match(line):
        return f"{m[1]}from deepnotes{m[2]} import {m[3]}"
    return line


def rewrite(source: str) -> tuple[str, list[tuple[str, str]]]:
    """(the source for deepnotes, the (old, new) pairs of lines that changed)."""
    out, changed = [], []
    for line in source.splitlines():
        new = rewrite_line(line)
        if new != line:
            changed.append((line, new))
        out.append(new)
    return "\n".join(out) + "\n", changed


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    show_diff = "--diff" in args
    args = [a for a in args if a != "--diff"]
    script = Path(args[0])
    if not script.exists():
        script = Path(__file__).with_name(args[0])
    backend = os.environ.get("DEEPNOTES_BACKEND", "deepnotes")
    if backend not in ("torch", "deepnotes"):
        raise SystemExit(f"run_example: DEEPNOTES_BACKEND must be 'torch' or 'deepnotes', got {backend!r}")
    source, changed = rewrite(script.read_text(encoding="utf-8"))
    if show_diff:
        for old, new in changed:
            print(f"- {old}\n+ {new}")
        return
    if backend == "torch":
        runpy.run_path(str(script), run_name="__main__")
        return
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / script.name
        target.write_text(source, encoding="utf-8")
        sys.path.insert(0, str(script.parent))
        runpy.run_path(str(target), run_name="__main__")


if __name__ == "__main__":
    main()
