"""`import deepnotes` loads only what a training script needs (issue 23: peak memory).

Modules that only one function needs (tqdm for fit's progress bars, multiprocessing for
DataLoader workers, zipfile and tempfile for checkpoints, subprocess for graph rendering...)
are imported inside that function.  Each test runs a fresh interpreter, since this process has
long since imported everything.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Never loaded by `import deepnotes, deepnotes.nn, deepnotes.optim, deepnotes.nn.functional`
# (with what they pull in: tqdm brings email, importlib.metadata, logging; statistics brings decimal, fractions).
DEFERRED = (
    "tqdm", "multiprocessing", "email", "importlib.metadata", "logging", "csv", "socket", "subprocess", "shutil",
    "tempfile", "zipfile", "uuid", "statistics", "decimal", "fractions", "lzma", "bz2", "numpy.polynomial",
)

IMPORTS = "import deepnotes as dn, deepnotes.nn, deepnotes.optim, deepnotes.nn.functional\n"


def _run(code):
    """The JSON that `code` prints, run by a fresh interpreter after IMPORTS."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = subprocess.run([sys.executable, "-c", IMPORTS + code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded(names):
    return f"print(json.dumps(sorted(m for m in {list(names)!r} if m in sys.modules)))\n"


def test_import_loads_none_of_the_deferred_modules():
    assert _run("import json, sys\n" + _loaded(DEFERRED)) == []


def test_public_names_still_resolve():
    names = ["dn.utils.data.DataLoader", "dn.data.DataLoader", "dn.data.load_mnist1d", "dn.data.get_worker_info",
             "dn.train.fit", "dn.train.save", "dn.train.load", "dn.save", "dn.load", "dn.autograd.render",
             "dn.nn.functional.gelu", "dn.optim.SGD", "dn.backends.set_blas"]
    code = "import json\nprint(json.dumps([callable(eval(n)) for n in %r]))\n" % names
    assert _run(code) == [True] * len(names)


def test_the_deferred_imports_happen_where_they_are_needed():
    """A checkpoint through a file object, an erf and a fit with a progress bar load what they need."""
    code = """import io, json, sys
buf = io.BytesIO()
dn.save({"w": dn.ones(2)}, buf)
buf.seek(0)
assert dn.load(buf)["w"].tolist() == [1.0, 1.0]
assert abs(float(dn.nn.functional.gelu(dn.tensor([1.0]))) - 0.8413447) < 1e-6
data = dn.data.TensorDataset(dn.randn(8, 3), dn.randint(0, 2, (8,)))
model = dn.nn.Linear(3, 2)
dn.train.fit(model, dn.nn.CrossEntropyLoss(), dn.optim.SGD(model.parameters(), lr=0.1),
             dn.data.DataLoader(data, batch_size=4), epochs=1, progress=False)
""" + _loaded(["tempfile", "zipfile", "numpy.polynomial", "tqdm"])
    assert _run(code) == ["numpy.polynomial", "tempfile", "tqdm", "zipfile"]
