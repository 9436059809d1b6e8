"""Fixtures of the conversion tests: one CPU thread, the command line tool run in-process, the mmengine log."""
import importlib
import logging

import pytest
import torch
from mmengine.logging import MMLogger



@pytest.fixture(scope='module', autouse=True)
def one_cpu_thread():
    """These models are tiny: on a shared CPU, a second thread only adds waiting (10x slower measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def convert_keys():
    """``tools/convert_keys.py``'s ``main(argv) -> exit status``."""
    return importlib.import_module('tools.convert_keys').main


class _ListHandler(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def mmengine_log():
    """The messages logged to the current mmengine logger during the test."""
    logger = MMLogger.get_current_instance()
    handler = _ListHandler()
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
