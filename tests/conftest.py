"""Shared test set-up: the tests run on CPU, in fp32, with deterministic kernels where torch offers them."""
import os
import sys

import pytest
import torch

import mmfocalnet  # noqa: F401  (first, as our tools do: its fixes apply before any toolbox import)

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)  # lets tests import the helpers in tests/helpers


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same random state, so a failure reproduces."""
    torch.manual_seed(0)
