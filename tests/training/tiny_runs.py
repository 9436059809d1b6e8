"""Our real configs shrunk to a few pixels, written as config files that ``tools/train.py`` runs on tiny data.

A user's derived config: the recipe (pipeline with its random augmentation, optimizer, schedule, hooks, runtime)
stays the config's; only image sizes, the backbone's width and depth, the data locations and the run length
change. The tests of exact resume, crash-safe checkpoints, one-line errors and DDP equivalence train them.
"""
import itertools
import os.path as osp

import torch
from helpers.tiny_coco import shrink_scales, write_tiny_coco
from helpers.tiny_configs import config_path, set_in_pipeline
from helpers.tiny_datasets import make_ade20k, make_imagenet
from mmengine.config import Config

from mmfocalnet.runner import train

CLASSIFIER_CONFIG = config_path('mmpretrain', 'focalnet_t_srf_in1k.py')
DETECTOR_CONFIG = config_path('mmdet', 'atss_focalnet_t_lrf_3x_coco.py')
SEGMENTOR_CONFIG = config_path('mmseg', 'upernet_focalnet_t_srf_160k_ade20k.py')
# Two stages of one block, 8 channels: every FocalNet part (focal levels, global context, downsampling) is there.
TINY_FOCALNET = dict(depths=(1, 1), embed_dims=8, focal_levels=2, focal_windows=3)
_run_ids = itertools.count()


def _loaders(cfg, batch, **dataset):
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].update(batch_size=batch, num_workers=0, persistent_workers=False)
        cfg[name].dataset.update(dataset)


def _checkpoints_every(cfg, interval, by_epoch):
    cfg.default_hooks.checkpoint.update(interval=interval, by_epoch=by_epoch, max_keep_ckpts=-1)
    cfg.default_hooks.logger.interval = 1


def write_tiny_classifier(root,
                          by_epoch=True,
                          length=3,
                          interval=1,
                          batch=2,
                          train_images=8,
                          augment=True,
                          seed=None,
                          drop_path_rate=0.1):
    """FocalNet-T's ImageNet config, shrunk to 16-pixel crops of ``train_images`` pictures of 4 classes.

    Args:
        root (pathlib.Path): Where the data and the config go.
        by_epoch (bool): Epoch-based (DefaultSampler) or iteration-based (InfiniteSampler) training.
        length (int): Epochs or iterations.
        interval (int): A checkpoint every ``interval`` epochs or iterations.
        batch (int): Images per batch and process.
        train_images (int): Training pictures.
        augment (bool): Keep the recipe's random augmentation (RandomResizedCrop, flip, RandAugment, random
            erasing, Mixup/CutMix); otherwise a fixed resize, and no batch augments.
        seed (int, optional): ``randomness.seed``; the recipe's None draws a new seed per run.
        drop_path_rate (float): The backbone's stochastic depth.

    Returns:
        str: The config file.
    """
    data_root = make_imagenet(
        str(root / 'imagenet'), {
            'train': [i % 4 for i in range(train_images)],
            'val': [0, 1, 2, 3]
        })
    cfg = Config.fromfile(CLASSIFIER_CONFIG)
    cfg.model.backbone.update(arch=TINY_FOCALNET, drop_path_rate=drop_path_rate)
    cfg.model.head.update(num_classes=4, in_channels=16)
    cfg.data_preprocessor.num_classes = 4
    cfg.val_evaluator = cfg.test_evaluator = dict(type='Accuracy', topk=(1, ))  # top-5 of 4 classes is refused
    train_pipeline = cfg.train_dataloader.dataset.pipeline
    if augment:
        set_in_pipeline(train_pipeline, 'RandomResizedCrop', scale=16)
    else:
        cfg.train_dataloader.dataset.pipeline = [
            train_pipeline[0], dict(type='Resize', scale=(16, 16)), train_pipeline[-1]
        ]
        cfg.model.train_cfg = None
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        set_in_pipeline(loader.dataset.pipeline, 'ResizeEdge', scale=18)
        set_in_pipeline(loader.dataset.pipeline, 'CenterCrop', crop_size=16)
    _loaders(cfg, batch, data_root=data_root)
    cfg.train_dataloader.dataset.split = 'train'
    if by_epoch:
        cfg.train_cfg.update(max_epochs=length, val_interval=1)
    else:
        cfg.train_cfg = dict(by_epoch=False, max_iters=length, val_interval=interval)
        cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
        cfg.param_scheduler = [
            dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=2),
            dict(type='CosineAnnealingLR', eta_min_ratio=0.01, by_epoch=False, begin=2, end=length),
        ]
    _checkpoints_every(cfg, interval, by_epoch)
    cfg.randomness = dict(seed=seed)
    path = str(root / 'tiny_classifier.py')
    cfg.dump(path)
    return path


def write_tiny_detector(root, length=2, train_images=2):
    """Our ATSS FocalNet-T 3x config with a tiny backbone, FPN and head, on ``train_images`` tiny COCO pictures.

    The recipe's DETR augmentation (flip, random choice of multi-scale resizes and crops) stays, at 1/16 of its
    scales. Run from the returned folder, as the config's ``data_root='data/coco/'`` is relative.

    Returns:
        tuple[str, str]: The config file and the folder to run from.
    """
    write_tiny_coco(root, num_train=train_images, num_val=1)
    cfg = Config.fromfile(DETECTOR_CONFIG)
    widths = [TINY_FOCALNET['embed_dims'] * 2**i for i in range(4)]
    cfg.model.backbone.update(arch=dict(TINY_FOCALNET, depths=(1, 1, 1, 1)), focal_windows=3, init_cfg=None)
    cfg.model.neck.update(in_channels=widths[1:], out_channels=64)  # GroupNorm, 32 groups: 2 channels each
    cfg.model.bbox_head.update(in_channels=64, feat_channels=64, stacked_convs=1)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.pipeline = shrink_scales(loader.dataset.pipeline, 16)
        loader.update(batch_size=1, num_workers=0, persistent_workers=False)
    cfg.train_cfg.update(max_epochs=length, val_begin=length + 1)
    _checkpoints_every(cfg, 1, by_epoch=True)
    path = osp.join(root, 'tiny_detector.py')
    cfg.dump(path)
    return path, str(root)


def write_tiny_segmentor(root, length=2, interval=1, crop=32):
    """Our UPerNet FocalNet-T ADE20K config (iteration-based) with a tiny backbone and heads, on ``crop``-pixel crops.

    Returns:
        str: The config file.
    """
    data_root = make_ade20k(str(root / 'ade'))
    cfg = Config.fromfile(SEGMENTOR_CONFIG)
    widths = [TINY_FOCALNET['embed_dims'] * 2**i for i in range(4)]
    cfg.model.backbone.update(arch=dict(TINY_FOCALNET, depths=(1, 1, 1, 1)), focal_windows=3, init_cfg=None)
    cfg.model.decode_head.update(in_channels=widths, channels=16)
    cfg.model.auxiliary_head.update(in_channels=widths[2], channels=8)
    cfg.model.data_preprocessor.size = (crop, crop)
    set_in_pipeline(cfg.train_dataloader.dataset.pipeline, 'RandomResize', scale=(4 * crop, crop))
    set_in_pipeline(cfg.train_dataloader.dataset.pipeline, 'RandomCrop', crop_size=(crop, crop))
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        set_in_pipeline(loader.dataset.pipeline, 'Resize', scale=(4 * crop, crop))
    _loaders(cfg, 2, data_root=data_root)
    cfg.val_dataloader.batch_size = cfg.test_dataloader.batch_size = 1
    cfg.train_cfg.update(max_iters=length, val_interval=interval)
    _checkpoints_every(cfg, interval, by_epoch=False)
    path = str(root / 'tiny_segmentor.py')
    cfg.dump(path)
    return path


def train_tool(config, work_dir, *flags, options=()):
    """``python tools/train.py CONFIG --work-dir WORK_DIR FLAGS --cfg-options OPTIONS``, run in this process.

    Returns:
        mmengine.runner.Runner: The finished runner.
    """
    argv = [str(config), '--work-dir', str(work_dir), *map(str, flags)]
    # Runners in one process must not share their logger, message hub and visualizer instances.
    argv += ['--cfg-options', f'experiment_name=run{next(_run_ids)}', *options]
    return train(argv)


def weights(checkpoint):
    """The model weights of a checkpoint file."""
    return torch.load(checkpoint, map_location='cpu')['state_dict']


def largest_difference(a, b):
    """The largest absolute difference between two state dicts with the same keys."""
    assert a.keys() == b.keys()
    return max((x.double() - y.double()).abs().max().item() for x, y in zip(a.values(), b.values()))
