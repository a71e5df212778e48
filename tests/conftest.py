"""Test-suite setup: one BLAS/torch thread per worker, one BLAS behind the GEMM seam, and validated
`covers` markers."""
import os

import pytest
import torch
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

from deepnotes.handbook.inventory import load_inventory

# Hypothesis: a modest number of examples in the default suite; `--hypothesis-profile=long` for a long run.
settings.register_profile("suite", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", deadline=None, max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

# Two xdist workers on two cores: more threads per worker only oversubscribes.
torch.set_num_threads(1)
threadpool_limits(1)
# The same BLAS in every worker and on every machine (the measured "auto" choice could differ between
# workers on a busy machine); `make test-blas` runs the ops under MKL.
os.environ.setdefault("DEEPNOTES_BLAS", "numpy")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow (long trainings)")


def pytest_collection_modifyitems(config, items):
    known = load_inventory()
    run_slow = config.getoption("--runslow") or "slow" in (config.getoption("-m") or "")
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        for mark in item.iter_markers("covers"):
            unknown = [i for i in mark.args if i not in known]
            if unknown or not mark.args:
                raise pytest.UsageError(f"{item.nodeid}: covers() names unknown inventory IDs {unknown}")


@pytest.fixture(autouse=True)
def _seed():
    import deepnotes as dn

    dn.manual_seed(0)
