"""The OpenMMLab 2.0 stack itself works on current torch: stock models from the toolboxes' own packaged configs train,
evaluate and resume through mmengine's Runner on tiny generated data sets (with mmfocalnet imported). What the
checkpoint allow-list accepts and refuses is tested in tests/compat/."""
import os.path as osp

from helpers.tiny_coco import shrink_scales, write_tiny_coco
from helpers.tiny_datasets import make_ade20k, make_imagenet
from mmengine.config import Config
from mmengine.runner import Runner

import mmfocalnet  # noqa: F401  (applies the torch.load fix under test)


def packaged_config(package, relative_path):
    """A config shipped inside a toolbox's wheel (``<package>/.mim/configs``)."""
    module = __import__(package)
    return Config.fromfile(osp.join(osp.dirname(module.__file__), '.mim', 'configs', relative_path))


def quiet_run(cfg, work_dir, name):
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name  # runners in one process need distinct scope names
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].update(num_workers=0, persistent_workers=False, batch_size=2)
    return cfg


def test_stock_mask_rcnn_trains_evaluates_and_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(write_tiny_coco(tmp_path, num_train=2, num_val=2))
    cfg = packaged_config('mmdet', 'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py')
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    cfg.model.test_cfg.rcnn.score_thr = 0.
    cfg.model.roi_head.bbox_head.num_classes = cfg.model.roi_head.mask_head.num_classes = 2
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.pipeline = shrink_scales(loader.dataset.pipeline, 8)
        loader.dataset.metainfo = dict(classes=('person', 'car'))  # the two categories the tiny set has
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg = quiet_run(cfg, tmp_path / 'work', 'stock_mask_rcnn')

    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert {'coco/bbox_mAP', 'coco/segm_mAP'} <= set(metrics)
    checkpoint = tmp_path / 'work' / 'epoch_1.pth'
    assert checkpoint.exists()

    cfg.train_cfg.max_epochs = 2
    cfg.resume = True
    cfg.experiment_name = 'stock_mask_rcnn_resumed'
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.epoch == 2 and (tmp_path / 'work' / 'epoch_2.pth').exists()


def test_stock_upernet_trains_and_evaluates(tmp_path):
    data_root = make_ade20k(str(tmp_path / 'ade'))
    cfg = packaged_config('mmseg', 'upernet/upernet_r50_4xb4-80k_ade20k-512x512.py')
    # SyncBN needs a process group; BN is the same layer on one CPU process.
    bn = dict(type='BN', requires_grad=True)
    cfg.model.backbone.update(depth=18, norm_cfg=bn, init_cfg=None)
    cfg.model.pretrained = None
    cfg.model.decode_head.update(in_channels=[64, 128, 256, 512], channels=32, norm_cfg=bn)
    cfg.model.auxiliary_head.update(in_channels=256, channels=16, norm_cfg=bn)
    cfg.model.data_preprocessor.size = (32, 32)
    cfg.crop_size = (32, 32)
    cfg.train_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', reduce_zero_label=True),
        dict(type='RandomCrop', crop_size=(32, 32), cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint.interval = 2
    cfg = quiet_run(cfg, tmp_path / 'work', 'stock_upernet')

    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert 'mIoU' in metrics
    assert (tmp_path / 'work' / 'iter_2.pth').exists()


def test_stock_classifier_trains_evaluates_and_resumes(tmp_path):
    data_root = make_imagenet(str(tmp_path / 'imagenet'), {'train': [0, 1, 2, 3], 'val': [0, 1]})
    cfg = packaged_config('mmpretrain', 'resnet/resnet18_8xb32_in1k.py')
    cfg.train_dataloader.dataset.pipeline[1].scale = 32
    cfg.test_dataloader.dataset.pipeline[1].scale = 36
    cfg.test_dataloader.dataset.pipeline[2].crop_size = 32
    cfg.val_dataloader = cfg.test_dataloader
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.update(data_root=data_root, split='')
    cfg.train_dataloader.dataset.ann_file = 'meta/train.txt'
    cfg.train_dataloader.dataset.data_prefix = 'train'
    for split in ('val', 'test'):
        cfg[f'{split}_dataloader'].dataset.update(ann_file='meta/val.txt', data_prefix='val')
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg = quiet_run(cfg, tmp_path / 'work', 'stock_resnet')

    runner = Runner.from_cfg(cfg)
    runner.train()
    assert 'accuracy/top1' in runner.val_loop.run()

    cfg.train_cfg.max_epochs = 2
    cfg.resume = True
    cfg.experiment_name = 'stock_resnet_resumed'
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.epoch == 2
    assert resumed.message_hub.get_scalar('train/loss').data  # the reloaded history buffers came back
