"""The one check that a module's docstring examples run (`>>>` lines, whitespace-tolerant)."""
import doctest
import importlib


def assert_examples_run(module):
    """Run the examples of `module` (a module or its dotted name): at least one, none failing."""
    if isinstance(module, str):
        module = importlib.import_module(module)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, f"{module.__name__}: {result}"
