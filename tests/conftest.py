"""Shared test set-up: the tests run on CPU, in fp32, with deterministic kernels where torch offers them."""
import os
import sys

import pytest
import torch

import mmfocalnet  # noqa: F401  (first, as our tools do: its fixes apply before any toolbox import)

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)
for path in (TESTS_DIR, REPO_ROOT):  # tests import tests/helpers as `helpers` and tools/ as the package `tools`
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture(scope='module')
def one_cpu_thread():
    """One intra-op thread for the module: on a shared, busy CPU it is several times faster than two threads that
    spin waiting for a core (10x measured on the tiny conversion models)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same random state, so a failure reproduces."""
    torch.manual_seed(0)
