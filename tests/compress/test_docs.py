"""The docstring examples of deepnotes.compress run."""
import pytest

from tests.doctests import assert_examples_run


@pytest.mark.covers("P1", "P2")
@pytest.mark.parametrize("module", ["deepnotes.compress.prune", "deepnotes.compress.quantize",
                                    "deepnotes.compress.int8"])
def test_examples_run(module):
    assert_examples_run(module)
