"""Fixtures of the deploy tests (their helpers are in ``deploy_helpers.py``)."""
import pytest
import torch


@pytest.fixture
def generator():
    """Seeded random numbers for test inputs."""
    return torch.Generator().manual_seed(1234)
