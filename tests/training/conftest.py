"""Fixtures for comparing training runs bit for bit, in this process and in the tools' own processes."""
import pytest
import torch


@pytest.fixture
def exact_cpu(tmp_path, monkeypatch):
    """The same floating-point operations in every run of a test: one intra-op thread (the subprocesses get
    OMP_NUM_THREADS=1) and a CPU fast-path choice file of the test's own. mmfocalnet measures, per machine and
    shape, which of two equal CPU implementations is faster and keeps the answer in a shared file; other
    processes measuring at the same time could otherwise make a run read other choices than the one it is
    compared with (equal up to rounding, not bit for bit)."""
    monkeypatch.setenv('MMFOCALNET_CACHE_DIR', str(tmp_path / 'cpu-choices'))
    monkeypatch.setenv('MMFOCALNET_ONEDNN_LINEAR', '1')  # one fixed matmul path: no per-process timing choice
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
