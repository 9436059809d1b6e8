"""The train and test commands behind ``tools/train.py`` and ``tools/test.py``, for mmdet, mmseg and mmpretrain.

Each command reads the config, picks the toolbox from its ``default_scope``, folds the command-line flags into
the config, checks that the data exists (before importing the toolbox, so a missing data set is reported at
once), registers the toolbox, adapts GPU-only settings when there is no CUDA and builds mmengine's Runner.
The builders return the Runner unstarted, so tests can inspect it.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .cpu import adapt_to_cpu, init_cpu_distributed
from .data_check import check_data_exists
from .errors import UsageError
from .toolboxes import toolbox_for

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


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
    parser = argparse.ArgumentParser(description='Train an mmdet, mmseg or mmpretrain config with FocalNet.')
    parser.add_argument('config', help='config file; its default_scope picks the toolbox')
    _add_common_args(parser)
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CHECKPOINT',
        help='resume from CHECKPOINT (weights, optimizer, schedule, epoch), or without a value from the latest '
        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='mixed precision through AmpOptimWrapper')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by (GPUs x batch per GPU) / auto_scale_lr.base_batch_size')
    return parser


def test_parser():
    """The command line of ``tools/test.py``."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) an mmdet, mmseg or mmpretrain checkpoint.')
    parser.add_argument('config', help='config file; its default_scope picks the toolbox')
    parser.add_argument('checkpoint', help='checkpoint file to evaluate')
    _add_common_args(parser)
    parser.add_argument('--out', help='also dump every prediction to this .pkl file')
    parser.add_argument('--show', action='store_true', help='show each prediction in a window')
    parser.add_argument('--show-dir', help='write images with predictions drawn into this folder')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds each --show window stays open')
    parser.add_argument(
        '--tta', action='store_true', help="test-time augmentation: the config's tta_model and tta_pipeline")
    return parser


def load_config(config_path, cfg_options=None):
    """Reads a config file and merges ``--cfg-options`` into it."""
    if not osp.isfile(config_path):
        raise UsageError(f'config file {config_path!r} does not exist')
    cfg = Config.fromfile(config_path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
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


def _build_runner(cfg, toolbox, launcher):
    toolbox.register_modules()
    adapt_to_cpu(cfg, launcher)
    init_cpu_distributed(launcher)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


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
    if args.auto_scale_lr:
        _enable_auto_scale_lr(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None  # the Runner then looks for the latest checkpoint in the work dir
    elif args.resume is not None:
        if '://' not in args.resume and not osp.isfile(args.resume):
            raise UsageError(f'--resume checkpoint {args.resume!r} does not exist')
        cfg.resume = True
        cfg.load_from = args.resume
    check_data_exists(cfg, ['train', 'val'] if cfg.get('val_cfg') else ['train'])
    return _build_runner(cfg, toolbox, args.launcher)


def build_test_runner(args):
    """Returns the Runner that ``tools/test.py`` starts, from the parsed ``args`` of :func:`test_parser`."""
    cfg = load_config(args.config, args.cfg_options)
    toolbox = toolbox_for(cfg)
    _apply_common_args(cfg, args)
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise UsageError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg.load_from = args.checkpoint
    if args.tta:
        enable_test_time_augmentation(cfg)
    if args.show or args.show_dir:
        toolbox.enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise UsageError(f'--out {args.out!r} must name a .pkl file')
    check_data_exists(cfg, ['test'])
    runner = _build_runner(cfg, toolbox, args.launcher)
    if args.out is not None:
        runner.test_evaluator.metrics.append(toolbox.build_dump_metric(args.out))
    return runner


def train(argv=None):
    """``tools/train.py``: trains the config and returns the finished Runner."""
    runner = build_train_runner(train_parser().parse_args(argv))
    runner.train()
    return runner


def test(argv=None):
    """``tools/test.py``: evaluates the checkpoint and returns the metrics."""
    runner = build_test_runner(test_parser().parse_args(argv))
    return runner.test()
