"""Fixtures of the demo tests: the registry downloads are shared with `make demo` and fetched at most once."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='session')
def demo_cache_dir():
    """Where `make demo` keeps the .deb and the wheel it fetches (data/demo/downloads, git-ignored)."""
    path = REPO / 'data' / 'demo' / 'downloads'
    path.mkdir(parents=True, exist_ok=True)
    return path
