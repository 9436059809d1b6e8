"""Shrinks our real configs to a few pixels and one iteration, so every config can train and evaluate on CPU.

``tiny_seg_config`` and ``tiny_cls_config`` change only image sizes, data locations, loader settings and run
lengths: the model, losses, optimiser, schedule, transforms, dataset classes and metrics stay the config's.
``shallow_backbone`` and ``narrow_heads`` additionally shrink the model where a full-size one is too slow for a
CPU test; each keeps the arch's flags, the stage count and the wiring between backbone and heads.
"""
import itertools
import json
import math
import os.path as osp
import runpy
import sys
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmfocalnet.models import FOCALNET_ARCHS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_run_ids = itertools.count()


def config_path(*parts):
    """Absolute path of a config under ``configs/``."""
    return osp.join(REPO_ROOT, 'configs', *parts)


def set_in_pipeline(pipeline, transform_type, **fields):
    """Sets ``fields`` on every transform of ``transform_type`` in a flat pipeline.

    Raises if the pipeline has no such transform, so a renamed transform cannot silently escape shrinking.
    """
    matches = [transform for transform in pipeline if transform['type'] == transform_type]
    if not matches:
        raise KeyError(f'no {transform_type} in pipeline {[t["type"] for t in pipeline]}')
    for transform in matches:
        transform.update(fields)


def shallow_backbone(cfg, embed_dims=None):
    """One block per stage; with ``embed_dims``, also that width, and a classifier head that matches it.

    Returns:
        Config: ``cfg``, changed in place.
    """
    num_stages = len(FOCALNET_ARCHS[cfg.model.backbone.arch]['depths'])
    cfg.model.backbone.depths = [1] * num_stages
    if embed_dims is not None:
        cfg.model.backbone.embed_dims = embed_dims
        cfg.model.head.in_channels = embed_dims * 2**(num_stages - 1)
    return cfg


def narrow_heads(cfg):
    """UPerNet with 64 channels and an FCN auxiliary head with 32, instead of 512 and 256 (31 M parameters)."""
    cfg.model.decode_head.channels = 64
    cfg.model.auxiliary_head.channels = 32
    return cfg


def _small_loaders(cfg, data_root, train_batch, val_batch):
    for name, batch in (('train_dataloader', train_batch), ('val_dataloader', val_batch), ('test_dataloader',
                                                                                           val_batch)):
        loader = cfg[name]
        loader.update(batch_size=batch, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=data_root, serialize_data=False)  # skips a gc.collect() per dataset


def _quiet_short_run(cfg, work_dir, stem):
    cfg.work_dir = work_dir
    cfg.experiment_name = f'{stem}_{next(_run_ids)}'  # unique: runners in one process must not share scopes
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    cfg.default_hooks.checkpoint = None  # a checkpoint of a base model plus AdamW state is over 1 GB
    cfg.default_hooks.logger.interval = 1


def tiny_seg_config(path, data_root, work_dir, crop=64):
    """An mmseg config shrunk to ``crop`` pixels: 1 iteration of 2 images, then evaluation of 1 image.

    The backbone's pretrained checkpoint is dropped (``init_cfg=None``): the tests have no official weights.
    """
    cfg = Config.fromfile(path)
    _small_loaders(cfg, data_root, train_batch=2, val_batch=1)
    set_in_pipeline(cfg.train_dataloader.dataset.pipeline, 'RandomResize', scale=(4 * crop, crop))
    set_in_pipeline(cfg.train_dataloader.dataset.pipeline, 'RandomCrop', crop_size=(crop, crop))
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        set_in_pipeline(loader.dataset.pipeline, 'Resize', scale=(4 * crop, crop))
    cfg.tta_pipeline[1].transforms[0] = [
        dict(type='Resize', scale=(int(4 * crop * r), int(crop * r)), keep_ratio=True) for r in cfg.tta_ratios
    ]
    cfg.model.data_preprocessor.size = (crop, crop)
    cfg.model.backbone.init_cfg = None
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    _quiet_short_run(cfg, work_dir, osp.splitext(osp.basename(path))[0])
    return cfg


def tiny_cls_config(path, data_root, work_dir, size=32):
    """An mmpretrain config shrunk to ``size`` pixels: 1 epoch of 1 batch of 2 images, then evaluation."""
    cfg = Config.fromfile(path)
    _small_loaders(cfg, data_root, train_batch=2, val_batch=2)
    set_in_pipeline(cfg.train_dataloader.dataset.pipeline, 'RandomResizedCrop', scale=size)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        set_in_pipeline(loader.dataset.pipeline, 'ResizeEdge', scale=size * 8 // 7)
        set_in_pipeline(loader.dataset.pipeline, 'CenterCrop', crop_size=size)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    _quiet_short_run(cfg, work_dir, osp.splitext(osp.basename(path))[0])
    return cfg


def run_train_tool(config, work_dir, cfg_options, monkeypatch):
    """Runs ``python tools/train.py CONFIG --work-dir WORK_DIR --cfg-options ...`` in this process, as a user would
    (same ``__main__`` block), and returns the records of its ``scalars.json`` log."""
    monkeypatch.setattr(sys, 'argv',
                        ['tools/train.py', config, '--work-dir',
                         str(work_dir), '--cfg-options', *cfg_options])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'train.py'), run_name='__main__')
    (scalars_file, ) = Path(work_dir).glob('*/vis_data/scalars.json')
    return [json.loads(line) for line in scalars_file.read_text().splitlines()]


def train_one_iteration_and_evaluate(cfg, watched, metric):
    """Builds the Runner, trains one iteration and evaluates; returns the Runner after checking both happened.

    Args:
        cfg (Config): a config shrunk to one iteration with validation at its end.
        watched (dict[str, Callable]): name -> function of the model returning a parameter the iteration must change.
        metric (str): the message-hub key of the validation metric, which must lie in [0, 100].
    """
    runner = Runner.from_cfg(cfg)
    params = {name: get(runner.model) for name, get in watched.items()}
    before = {name: param.detach().clone() for name, param in params.items()}
    runner.train()
    assert runner.iter == 1
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    for name, param in params.items():
        assert not torch.equal(param.detach(), before[name]), f'{name} was not updated'
    assert 0.0 <= runner.message_hub.get_scalar(metric).current() <= 100.0
    return runner
