"""The train and test commands behind ``tools/train.py`` and ``tools/test.py``, for mmdet, mmseg and mmpretrain.

Each command reads the config, picks the toolbox from its ``default_scope``, folds the command-line flags into
the config, checks that the data exists (before importing the toolbox, so a missing data set is reported at
once), registers the toolbox, adapts GPU-only settings when there is no CUDA and builds mmengine's Runner.
Checkpoint files are checked (present, complete) before anything is built; a config that cannot be built
(unknown type, option or arch) is reported as a :class:`UsageError` naming the problem. The builders return the
Runner unstarted, so tests can inspect it.
"""
import argparse
import logging
import os
import os.path as osp
import shutil
import sys
from contextlib import contextmanager

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..compat import applied_fixes
from .checkpoint_files import check_checkpoint_file, check_pretrained_checkpoints, newest_intact_checkpoint
from .cpu import adapt_to_cpu, init_cpu_distributed
from .data_check import check_data_exists
from .errors import ToolArgumentParser, UsageError
from .strategies import STRATEGIES, enable_fsdp
from .toolboxes import toolbox_for

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
# What building a Runner from a bad config raises: unknown types (KeyError from the registries), bad options or
# values (ValueError, TypeError, AssertionError from constructors), modules or files it cannot find.
CONFIG_ERRORS = (KeyError, ValueError, TypeError, AssertionError, ImportError, FileNotFoundError)
EXACT_RESUME_HOOK = 'ExactResumeHook'


def _add_common_args(parser):
    parser.add_argument('--work-dir', help='folder for logs and checkpoints (default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_dataloader.batch_size=4 or "model.backbone.out_indices=[1,2,3]"; '
        'applied before the other flags')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none', help='how the processes were started')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0, help=argparse.SUPPRESS)


def train_parser():
    """The command line of ``tools/train.py``."""
    parser = ToolArgumentParser(description='Train an mmdet, mmseg or mmpretrain config with FocalNet.')
    parser.add_argument('config', help='config file; its default_scope picks the toolbox')
    _add_common_args(parser)
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CHECKPOINT',
        help='resume from CHECKPOINT (weights, optimizer, schedule, epoch), or without a value from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision through AmpOptimWrapper: fp16 on CUDA; without CUDA bf16 autocast where the CPU '
        'has AVX-512-BF16 or AMX, else fp32')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by (GPUs x batch per GPU) / auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--strategy',
        choices=STRATEGIES,
        default='ddp',
        help='ddp: mmengine Runner, one model copy per process (default); fsdp: FlexibleRunner + FSDPStrategy, '
        'parameters, gradients and optimizer state sharded across processes (for large backbones)')
    return parser


def test_parser():
    """The command line of ``tools/test.py``."""
    parser = ToolArgumentParser(description='Test (and evaluate) an mmdet, mmseg or mmpretrain checkpoint.')
    parser.add_argument('config', help='config file; its default_scope picks the toolbox')
    parser.add_argument('checkpoint', help='checkpoint file to evaluate')
    _add_common_args(parser)
    parser.add_argument('--out', help='also dump every prediction to this .pkl file')
    parser.add_argument('--show', action='store_true', help='show each prediction in a window')
    parser.add_argument('--show-dir', help='write images with predictions drawn into this folder')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds each --show window stays open')
    parser.add_argument(
        '--tta', action='store_true', help="test-time augmentation: the config's tta_model and tta_pipeline")
    parser.add_argument(
        '--amp',
        action='store_true',
        help='autocast in the test loop: fp16 on CUDA; without CUDA bf16 where the CPU has AVX-512-BF16 or AMX, '
        'else fp32')
    return parser


def _describe(error):
    """An exception as ``Type: message`` on one line; a bare ``assert`` is named by where it failed."""
    message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    if isinstance(error, SyntaxError):
        message = f'{error.msg} (line {error.lineno})'
    if not message and error.__traceback__ is not None:
        frame = error.__traceback__
        while frame.tb_next is not None:
            frame = frame.tb_next
        message = f'assertion at {frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}'
    return f'{type(error).__name__}: {message}'


def load_config(config_path, cfg_options=None):
    """Reads a config file and merges ``--cfg-options`` into it.

    Raises:
        UsageError: The file is missing, or reading or merging it fails (a config is Python: any error counts).
    """
    if not osp.isfile(config_path):
        raise UsageError(f'config file {config_path!r} does not exist')
    try:
        cfg = Config.fromfile(config_path)
    except Exception as error:  # noqa: B902  (running the config's Python can raise anything)
        raise UsageError(f'config file {config_path!r} cannot be read: {_describe(error)}') from error
    if cfg_options:
        try:
            cfg.merge_from_dict(cfg_options)
        except Exception as error:  # noqa: B902
            raise UsageError(f'--cfg-options cannot be applied to {config_path}: {_describe(error)}') from error
    return cfg


def _apply_common_args(cfg, args):
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg.launcher = args.launcher
    # The work dir comes from the command line, else the config, else the config's name.
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])


def _enable_auto_scale_lr(cfg):
    auto_scale_lr = cfg.get('auto_scale_lr')
    if not auto_scale_lr or 'base_batch_size' not in auto_scale_lr:
        raise UsageError(f'--auto-scale-lr needs auto_scale_lr=dict(enable=False, base_batch_size=...) in '
                         f'{cfg.filename}: the total batch its learning rate was tuned for')
    auto_scale_lr.enable = True


@contextmanager
def _no_partial_work_dir(work_dir):
    """Removes what a failed build created in ``work_dir`` (the Runner makes its log folder first thing)."""
    existed = osp.isdir(work_dir)
    before = set(os.listdir(work_dir)) if existed else set()
    try:
        yield
    except UsageError:
        created = [osp.join(work_dir, name) for name in set(os.listdir(work_dir)) - before] if existed else [work_dir]
        for path in created:
            if osp.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif osp.exists(path):
                os.remove(path)
        raise


def _build_runner(cfg, toolbox, launcher, loops, warnings=()):
    """Builds the Runner and the loops it will run (datasets, dataloaders, evaluators), so that a config error
    shows here, as one line that names it, rather than as a traceback once the run has started; then logs
    ``warnings`` and the stack fixes in effect to the run's log."""
    toolbox.register_modules()
    adapt_to_cpu(cfg, launcher)
    init_cpu_distributed(launcher)
    with _no_partial_work_dir(cfg.work_dir):
        try:
            runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
            for loop in loops:
                getattr(runner, loop)  # the property builds the loop
        except CONFIG_ERRORS as error:
            raise UsageError(f'{cfg.filename} cannot be built: {_describe(error)}') from error
    for name, change in applied_fixes().items():
        runner.logger.info(f'mmfocalnet.compat {name}: {change}')
    for warning in warnings:
        runner.logger.warning(warning)
    return runner


def _add_exact_resume_hook(cfg):
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(hook.get('type') in (EXACT_RESUME_HOOK, f'mmfocalnet.{EXACT_RESUME_HOOK}') for hook in hooks):
        hooks.append(dict(type=EXACT_RESUME_HOOK))
    cfg.custom_hooks = hooks


def _resolve_resume(cfg, resume):
    """Sets ``cfg.resume``/``cfg.load_from`` for ``--resume [CHECKPOINT]`` (or ``resume=True`` in the config).

    Returns:
        tuple[str | None, list[str]]: How to name ``load_from`` when checking it ('--resume checkpoint',
        'load_from checkpoint'; None when it was checked already), and a warning for each damaged checkpoint
        skipped.
    """
    if resume not in (None, 'auto'):
        cfg.resume, cfg.load_from = True, resume
        return '--resume checkpoint', []
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    if not cfg.get('resume') or cfg.get('load_from'):
        return 'load_from checkpoint', []
    # mmengine would take whatever last_checkpoint names, even a truncated file; skip damaged ones instead.
    cfg.load_from, skipped = newest_intact_checkpoint(cfg.work_dir)
    if cfg.load_from is None:
        cfg.resume = False  # nothing saved yet: start from the beginning, as mmengine does
    return None, [
        f'--resume: skipped {path}, which {problem}; resuming from {cfg.load_from}' for path, problem in skipped
    ]


def enable_test_time_augmentation(cfg):
    """Swaps in the config's ``tta_pipeline`` and wraps its model in ``tta_model``, as the toolboxes' tools do."""
    missing = [key for key in ('tta_model', 'tta_pipeline') if key not in cfg]
    if missing:
        raise UsageError(f'--tta needs {" and ".join(missing)} in {cfg.filename}')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def build_train_runner(args):
    """Returns the Runner that ``tools/train.py`` starts, from the parsed ``args`` of :func:`train_parser`."""
    cfg = load_config(args.config, args.cfg_options)
    toolbox = toolbox_for(cfg)
    _apply_common_args(cfg, args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if not torch.cuda.is_available():
            cfg.optim_wrapper.dtype = 'bfloat16'  # CPU autocast is bf16; adapt_to_cpu checks this CPU has it
    if args.auto_scale_lr:
        _enable_auto_scale_lr(cfg)
    if args.strategy == 'fsdp':
        enable_fsdp(cfg, args.launcher)
    load_from_source, skipped = _resolve_resume(cfg, args.resume)
    if load_from_source and cfg.get('load_from'):
        check_checkpoint_file(cfg.load_from, load_from_source)
    splits = ['train', 'val'] if cfg.get('val_cfg') else ['train']
    check_data_exists(cfg, splits)
    check_pretrained_checkpoints(cfg)
    _add_exact_resume_hook(cfg)
    return _build_runner(cfg, toolbox, args.launcher, [f'{split}_loop' for split in splits], skipped)


def build_test_runner(args):
    """Returns the Runner that ``tools/test.py`` starts, from the parsed ``args`` of :func:`test_parser`."""
    cfg = load_config(args.config, args.cfg_options)
    toolbox = toolbox_for(cfg)
    _apply_common_args(cfg, args)
    check_checkpoint_file(args.checkpoint)
    cfg.load_from = args.checkpoint
    if args.tta:
        enable_test_time_augmentation(cfg)
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)  # mmengine's TestLoop autocasts with fp16=True
    if args.show or args.show_dir:
        toolbox.enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise UsageError(f'--out {args.out!r} must name a .pkl file')
    check_data_exists(cfg, ['test'])
    runner = _build_runner(cfg, toolbox, args.launcher, ['test_loop'])
    if args.out is not None:
        runner.test_evaluator.metrics.append(toolbox.build_dump_metric(args.out))
    return runner


@contextmanager
def _process_group_destroyed_after():
    """Destroys the process group when the command ends, after a command that succeeded once every process has
    got there (rank 0 saves the last checkpoint alone), so that no process tears its connections down while
    another still uses them. The interpreter's own teardown can still abort a worker afterwards; see
    :func:`exit_worker`."""
    try:
        yield
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def train(argv=None):
    """``tools/train.py``: trains the config and returns the finished Runner."""
    with _process_group_destroyed_after():
        runner = build_train_runner(train_parser().parse_args(argv))
        runner.train()
    return runner


def test(argv=None):
    """``tools/test.py``: evaluates the checkpoint and returns the metrics."""
    with _process_group_destroyed_after():
        runner = build_test_runner(test_parser().parse_args(argv))
        return runner.test()


def exit_worker(status):
    """Ends a tool's process with ``status``; a process started by torchrun skips the interpreter's teardown.

    After a distributed run that succeeded, a worker's exit sometimes aborted with "terminate called without an
    active exception" (SIGABRT; torch 2.15, gloo: a thread of the destroyed process group or of DDP's reducer
    still joinable when its C++ owner is freed), in about 1 of 20 two-process runs here even after the barrier in
    :func:`_process_group_destroyed_after`, and torchrun then reports the whole run as failed. With nothing left
    to do, such a worker flushes its logs and output and leaves with ``os._exit``. Any other process exits only
    on a failure and otherwise returns, so that a script run in process (``runpy``, a notebook) carries on.
    """
    if 'TORCHELASTIC_RUN_ID' not in os.environ:  # not a torchrun worker
        if status:
            sys.exit(status)
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
