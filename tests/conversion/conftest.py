"""Fixtures of the conversion tests: one CPU thread, the command line tool run in-process, the mmengine log."""
import importlib
import logging

import pytest
from mmengine.logging import MMLogger


@pytest.fixture(scope='module', autouse=True)
def single_thread(one_cpu_thread):
    """These models are tiny: every test here runs on one CPU thread."""


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
