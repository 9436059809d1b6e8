"""What ``tools/train.py`` and ``tools/test.py`` do: one entry point for mmdet, mmseg and mmpretrain configs.

- ``toolboxes``: pick the toolbox from the config's ``default_scope``;
- ``data_check``: stop with one clear line when the data is missing;
- ``checkpoint_files``: stop with one clear line when a checkpoint is missing or damaged; pick what to resume;
- ``cpu``: run GPU recipes (NCCL, AMP, SyncBN) on machines without CUDA;
- ``errors``: user errors as one ``error:`` line and exit status 2 (``--debug`` for the traceback);
- ``launch``: the command lines and the Runner builders.
"""
from .checkpoint_files import check_checkpoint_file, checkpoint_problem, newest_intact_checkpoint
from .data_check import DataNotFoundError, check_data_exists
from .errors import EXIT_USAGE, ToolArgumentParser, UsageError, one_line, run_tool
from .launch import (build_test_runner, build_train_runner, enable_test_time_augmentation, exit_worker, load_config,
                     test, test_parser, train, train_parser)
from .toolboxes import TOOLBOXES, Toolbox, toolbox_for

__all__ = [
    'DataNotFoundError', 'EXIT_USAGE', 'TOOLBOXES', 'Toolbox', 'ToolArgumentParser', 'UsageError', 'build_test_runner',
    'build_train_runner', 'check_checkpoint_file', 'check_data_exists', 'checkpoint_problem',
    'enable_test_time_augmentation', 'exit_worker', 'load_config', 'newest_intact_checkpoint', 'one_line', 'run_tool',
    'test', 'test_parser', 'toolbox_for', 'train', 'train_parser'
]
