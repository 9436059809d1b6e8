"""Fixtures of the conversion tests: the command line tool run in-process, and the mmengine log captured."""
import importlib.util
import logging
import os

import pytest
from mmengine.logging import MMLogger

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONVERT_KEYS = os.path.join(REPO_ROOT, 'tools', 'convert_keys.py')


@pytest.fixture(scope='session')
def convert_keys():
    """``tools/convert_keys.py``'s ``main(argv) -> exit status``, imported from the file."""
    spec = importlib.util.spec_from_file_location('convert_keys', CONVERT_KEYS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


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
