"""Shared fixtures: one build cache for the whole run, so each RTL configuration is built once."""

import os
from pathlib import Path

import pytest

# keep builds in the repository's ignored cache unless the caller chose a place
os.environ.setdefault("LAPICQUE_CACHE", str(Path(__file__).resolve().parent.parent / ".lapicque-cache"))


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "out"
