"""Shared by the handbook tests: the fixture entries (tests/handbook/fixtures, in the entry format)."""
from pathlib import Path

import pytest

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def fixture_entries():
    from deepnotes.handbook.entries import load_entries

    return load_entries(FIXTURES)

