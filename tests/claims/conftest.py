"""Fixtures for the lab's tests: a cheap claim defined in a module written to a temporary folder.

The claim lives in its own importable module (not in ``deepnotes.claims.experiments``), so
worker processes and Ray workers import it by name like a user's own claim module, and a test
can edit the file to change the claim's source hash. It is registered only for the test that
asks for it and unregistered afterwards: it never shows in other tests' ``registered_ids()``.
"""
import importlib
import sys
import textwrap
import uuid

import pytest

from deepnotes.claims import registry

FAKE_SOURCE = '''
"""A cheap claim for the lab's tests: a product of small random matrices, two arms."""
import os
from pathlib import Path

import numpy as np

import deepnotes as dn
from deepnotes.claims import Criterion, claim

VERSION = 1


@claim("{claim_id}", topics=["N1"], title_en="Test claim", title_zh="测试用结论",
       statement_en="Scaling the weights by 2 doubles the output norm.",
       statement_zh="权重放大 2 倍，输出范数也放大 2 倍。",
       criteria=[Criterion("ratio_gap", delta=0.5, text_en="norm(2W x) / norm(W x) - 1 >= 0.5",
                           text_zh="norm(2W x) / norm(W x) - 1 >= 0.5"),
                 Criterion("noise", delta=0.0, text_en="a noisy effect", text_zh="一个有噪声的效应",
                           paired=False)],
       method_en="Two arms on the same random draw.", method_zh="两组设置共用同一次随机抽样。",
       caveats_en="Says nothing about training.", caveats_zh="与训练无关。",
       code=["deepnotes.tensor"], seconds={{"tiny": 0.01, "quick": 0.01, "full": 0.01}})
def fake(seed, budget):
    marker = os.environ.get("DEEPNOTES_TEST_FAIL_ONCE", "")  # seed 1 fails until this file exists
    if marker and seed == 1 and not Path(marker).exists():
        Path(marker).write_text("failed once")
        raise RuntimeError("simulated interruption on seed 1")
    dn.manual_seed(seed)
    rng = np.random.default_rng(seed)
    w = dn.tensor(rng.standard_normal((8, 8)))
    x = dn.tensor(rng.standard_normal((8, 3)))
    a = float(np.linalg.norm((w @ x).numpy()))
    b = float(np.linalg.norm(((w * 2.0) @ x).numpy()))
    noise = float(rng.standard_normal())
    return {{"metrics": {{"base/norm": a, "scaled/norm": b, "version": float(VERSION)}},
            "effects": {{"ratio_gap": b / a - 1.0, "noise": [noise, -noise]}},
            "series": {{"curve": [a, b]}}}}


@fake.figures
def _figures(results, out_dir):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([r["metrics"]["base/norm"] for r in results], "o-")
    ax.set(xlabel="seed", ylabel="norm", title="Test claim")
    path = Path(out_dir) / "norms.png"
    fig.savefig(path)
    plt.close(fig)
    return [path]
'''


class FakeClaimModule:
    """The module defining a test claim; ``edit()`` changes its source (and its hash)."""

    def __init__(self, folder, claim_id):
        self.claim_id = claim_id
        self.name = f"fake_claim_{uuid.uuid4().hex[:8]}"
        self.path = folder / f"{self.name}.py"
        self.path.write_text(textwrap.dedent(FAKE_SOURCE.format(claim_id=claim_id)))
        self.module = importlib.import_module(self.name)

    @property
    def claim(self):
        return registry.get(self.claim_id)

    def edit(self):
        self.path.write_text(self.path.read_text().replace("VERSION = 1", "VERSION = 2"))
        importlib.invalidate_caches()
        self.module = importlib.reload(self.module)


@pytest.fixture
def fake_claim(tmp_path, monkeypatch):
    """Register claim K99 from a temporary module for this test only."""
    folder = tmp_path / "claim_module"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("DEEPNOTES_TEST_FAIL_ONCE", raising=False)
    fake = FakeClaimModule(folder, "K99")
    yield fake
    registry.unregister("K99")
    sys.modules.pop(fake.name, None)
