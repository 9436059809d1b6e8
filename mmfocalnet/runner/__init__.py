"""What ``tools/train.py`` and ``tools/test.py`` do: one entry point for mmdet, mmseg and mmpretrain configs.

- ``toolboxes``: pick the toolbox from the config's ``default_scope``;
- ``data_check``: stop with one clear line when the data is missing;
- ``cpu``: run GPU recipes (NCCL, AMP, SyncBN) on machines without CUDA;
- ``launch``: the command lines and the Runner builders.
"""
from .data_check import DataNotFoundError, check_data_exists
from .errors import UsageError
from .launch import (build_test_runner, build_train_runner, enable_test_time_augmentation, test, test_parser, train,
                     train_parser)
from .toolboxes import TOOLBOXES, Toolbox, toolbox_for

__all__ = [
    'DataNotFoundError', 'TOOLBOXES', 'Toolbox', 'UsageError', 'build_test_runner', 'build_train_runner',
    'check_data_exists', 'enable_test_time_augmentation', 'test', 'test_parser', 'toolbox_for', 'train', 'train_parser'
]
