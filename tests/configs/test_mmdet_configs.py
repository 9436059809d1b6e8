"""The 18 mmdet configs: each follows the official recipe, and each trains and evaluates on a tiny COCO dataset.

The expected recipe values below are transcribed from the official FocalNet detection configs and README (the
table in the project's reference notes, section C.1), not read from our own code.
"""
import copy
import functools
import math
import os
from dataclasses import dataclass

import pytest
import torch
from helpers.tiny_coco import evaluate_on_test_loader, tiny_run_options, write_tiny_coco
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS
from mmengine.runner import Runner, set_random_seed

from mmfocalnet.runner import toolbox_for
from mmfocalnet.runner.cpu import adapt_to_cpu

CONFIG_DIR = os.path.join(os.path.dirname(__file__), '..', '..', 'configs', 'mmdet')
RELEASE_URL = 'https://github.com/microsoft/FocalNet/releases/download/v1.0.0/'
DETR_SHORT_SIDES = list(range(480, 801, 32))

pytestmark = pytest.mark.usefixtures('one_cpu_thread')


@dataclass(frozen=True)
class Recipe:
    """One row of the official detection table."""

    detector: str
    arch: str  # the classification checkpoint the backbone starts from
    depths: tuple
    embed_dims: int
    focal_levels: int
    focal_windows: tuple
    drop_path_rate: float
    epochs: int
    out_indices: tuple = (0, 1, 2, 3)


def _row(detector, size, rf, dpr, epochs, windows=(9, 9, 9, 9)):
    depths, dims = {'t': ((2, 2, 6, 2), 96), 's': ((2, 2, 18, 2), 96), 'b': ((2, 2, 18, 2), 128)}[size]
    arch = {'t': 'tiny', 's': 'small', 'b': 'base'}[size] + '_' + rf
    out_indices = (1, 2, 3) if detector == 'ATSS' else (0, 1, 2, 3)
    return Recipe(detector, arch, depths, dims, {'srf': 2, 'lrf': 3}[rf], windows, dpr, epochs, out_indices)


WIDE_WINDOWS = (11, 9, 9, 7)
RECIPES = {
    'mask_rcnn_focalnet_t_srf_1x_coco.py': _row('MaskRCNN', 't', 'srf', 0.1, 12),
    'mask_rcnn_focalnet_t_srf_3x_coco.py': _row('MaskRCNN', 't', 'srf', 0.3, 36),
    'mask_rcnn_focalnet_t_lrf_1x_coco.py': _row('MaskRCNN', 't', 'lrf', 0.1, 12),
    'mask_rcnn_focalnet_t_lrf_3x_coco.py': _row('MaskRCNN', 't', 'lrf', 0.3, 36),
    'mask_rcnn_focalnet_s_srf_1x_coco.py': _row('MaskRCNN', 's', 'srf', 0.2, 12),
    'mask_rcnn_focalnet_s_srf_3x_coco.py': _row('MaskRCNN', 's', 'srf', 0.5, 36),
    'mask_rcnn_focalnet_s_lrf_1x_coco.py': _row('MaskRCNN', 's', 'lrf', 0.2, 12),
    'mask_rcnn_focalnet_s_lrf_3x_coco.py': _row('MaskRCNN', 's', 'lrf', 0.5, 36),
    'mask_rcnn_focalnet_b_srf_1x_coco.py': _row('MaskRCNN', 'b', 'srf', 0.3, 12),
    'mask_rcnn_focalnet_b_srf_3x_coco.py': _row('MaskRCNN', 'b', 'srf', 0.5, 36),
    'mask_rcnn_focalnet_b_lrf_1x_coco.py': _row('MaskRCNN', 'b', 'lrf', 0.3, 12),
    'mask_rcnn_focalnet_b_lrf_3x_coco.py': _row('MaskRCNN', 'b', 'lrf', 0.5, 36),
    'cascade_mask_rcnn_focalnet_t_srf_3x_coco.py': _row('CascadeRCNN', 't', 'srf', 0.3, 36, WIDE_WINDOWS),
    'cascade_mask_rcnn_focalnet_t_lrf_3x_coco.py': _row('CascadeRCNN', 't', 'lrf', 0.3, 36, WIDE_WINDOWS),
    'atss_focalnet_t_srf_3x_coco.py': _row('ATSS', 't', 'srf', 0.3, 36, WIDE_WINDOWS),
    'atss_focalnet_t_lrf_3x_coco.py': _row('ATSS', 't', 'lrf', 0.3, 36, WIDE_WINDOWS),
    'sparse_rcnn_focalnet_t_srf_3x_coco.py': _row('SparseRCNN', 't', 'srf', 0.3, 36, WIDE_WINDOWS),
    'sparse_rcnn_focalnet_t_lrf_3x_coco.py': _row('SparseRCNN', 't', 'lrf', 0.3, 36, WIDE_WINDOWS),
}
CONFIGS = sorted(RECIPES)


@functools.lru_cache(maxsize=None)
def _parse(name):
    return Config.fromfile(os.path.join(CONFIG_DIR, name))


def _load(name):
    """A fresh copy of a config, parsed once per module: for each `mmdet::` base of a config mmengine rescans
    mmdet's metafiles (configs/mmdet/README.md), and the tests here read a config many times."""
    return copy.deepcopy(_parse(name))


def test_config_folder_holds_exactly_the_official_rows():
    # The Focal Transformer, DINO and Mask2Former configs are covered by test_focal_transformer_configs.py,
    # test_dino_configs.py and test_mask2former_configs.py.
    leaves = sorted(
        f for f in os.listdir(CONFIG_DIR)
        if f.endswith('.py') and 'focal_transformer' not in f and not f.startswith(('dino', 'mask2former')))
    assert leaves == CONFIGS


@pytest.mark.parametrize('name', CONFIGS)
def test_backbone_matches_the_official_row(name):
    recipe, cfg = RECIPES[name], _load(name)
    assert cfg.model.type == recipe.detector
    backbone_cfg = cfg.model.backbone
    assert backbone_cfg.type == 'FocalNet'
    assert backbone_cfg.drop_path_rate == recipe.drop_path_rate
    assert backbone_cfg.init_cfg == dict(type='Pretrained', checkpoint=f'checkpoints/focalnet_{recipe.arch}.pth')
    with torch.device('meta'):  # the built structure, without paying for the weights
        backbone = MODELS.build(dict(backbone_cfg, init_cfg=None))
    assert tuple(backbone.depths) == recipe.depths
    assert backbone.embed_dims == recipe.embed_dims
    assert backbone.focal_levels == [recipe.focal_levels] * 4
    assert tuple(backbone.focal_windows) == recipe.focal_windows
    assert tuple(backbone.out_indices) == recipe.out_indices
    assert not backbone.final_norm  # one LayerNorm per output, as the official detection backbone
    assert cfg.model.neck.in_channels == [recipe.embed_dims * 2**i for i in recipe.out_indices]


@pytest.mark.parametrize('name', CONFIGS)
def test_schedule_matches_the_official_recipe(name):
    recipe, cfg = RECIPES[name], _load(name)
    sparse = recipe.detector == 'SparseRCNN'
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW'
    assert optimizer.lr == (2.5e-5 if sparse else 1e-4)
    assert optimizer.weight_decay == (1e-4 if sparse else 0.05)
    assert tuple(optimizer.get('betas', (0.9, 0.999))) == (0.9, 0.999)
    if sparse:  # apex was not used for Sparse R-CNN, which clips gradients instead
        assert cfg.optim_wrapper.type == 'OptimWrapper'
        assert cfg.optim_wrapper.clip_grad.max_norm == 1
        assert 'paramwise_cfg' not in cfg.optim_wrapper
    else:
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert cfg.optim_wrapper.get('clip_grad') is None
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys['norm'] == dict(decay_mult=0.)

    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.by_epoch, warmup.end) == ('LinearLR', 1e-3, False, 500)
    assert steps.type == 'MultiStepLR' and steps.by_epoch and steps.gamma == 0.1
    assert steps.milestones == ([9, 11] if recipe.epochs == 12 else [27, 33])
    assert cfg.train_cfg.max_epochs == recipe.epochs

    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs = the authors' 16 images
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=16)


@pytest.mark.parametrize('name', CONFIGS)
def test_data_and_runtime_follow_the_project_conventions(name):
    cfg = _load(name)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports == dict(imports=['mmfocalnet'], allow_failed_imports=False)
    assert cfg.data_root == 'data/coco/'
    with_masks = RECIPES[name].detector in ('MaskRCNN', 'CascadeRCNN')
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.type == 'CocoDataset' and dataset.data_root == 'data/coco/'
        loads = [t for t in dataset.pipeline if t.type == 'LoadAnnotations']
        assert [t.get('with_mask', False) for t in loads] == [with_masks]
    assert cfg.val_evaluator.ann_file == 'data/coco/annotations/instances_val2017.json'
    assert cfg.val_evaluator.metric == (['bbox', 'segm'] if with_masks else 'bbox')


@pytest.mark.parametrize('name', CONFIGS)
def test_train_pipeline_is_the_detr_multiscale_crop(name):
    pipeline = _load(name).train_dataloader.dataset.pipeline
    assert [t.type for t in pipeline
            ] == ['LoadImageFromFile', 'LoadAnnotations', 'RandomFlip', 'RandomChoice', 'PackDetInputs']
    assert pipeline[2].prob == 0.5
    resize_only, resize_crop_resize = pipeline[3].transforms
    full_range = [(side, 1333) for side in DETR_SHORT_SIDES]
    assert len(resize_only) == 1
    assert [tuple(s) for s in resize_only[0].scales] == full_range and resize_only[0].keep_ratio
    first, crop, second = resize_crop_resize
    assert [tuple(s) for s in first.scales] == [(400, 1333), (500, 1333), (600, 1333)]
    assert (crop.type, crop.crop_type, tuple(crop.crop_size),
            crop.allow_negative_crop) == ('RandomCrop', 'absolute_range', (384, 600), True)
    assert [tuple(s) for s in second.scales] == full_range
    test_resize = [t for t in _load(name).test_dataloader.dataset.pipeline if t.type == 'Resize']
    assert [tuple(t.scale) for t in test_resize] == [(1333, 800)]


@pytest.mark.parametrize('rf', ['srf', 'lrf'])
def test_cascade_uses_the_4conv1fc_giou_heads(rf):
    heads = _load(f'cascade_mask_rcnn_focalnet_t_{rf}_3x_coco.py').model.roi_head.bbox_head
    assert [h.bbox_coder.target_stds for h in heads] == [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                                                         [0.033, 0.033, 0.067, 0.067]]
    for head in heads:
        assert (head.type, head.num_shared_convs, head.num_shared_fcs) == ('ConvFCBBoxHead', 4, 1)
        assert head.norm_cfg.type == 'SyncBN' and head.reg_decoded_bbox and not head.reg_class_agnostic
        assert (head.loss_bbox.type, head.loss_bbox.loss_weight) == ('GIoULoss', 10.0)
    roi_head = _load(f'cascade_mask_rcnn_focalnet_t_{rf}_3x_coco.py').model.roi_head
    assert roi_head.stage_loss_weights == [1, 0.5, 0.25]
    assert roi_head.mask_head.num_convs == 4


@pytest.mark.parametrize('rf', ['srf', 'lrf'])
def test_atss_and_sparse_rcnn_heads_match_the_official_files(rf):
    atss = _load(f'atss_focalnet_t_{rf}_3x_coco.py').model
    assert (atss.neck.start_level, atss.neck.add_extra_convs, atss.neck.num_outs) == (0, 'on_output', 5)
    assert atss.test_cfg.nms.iou_threshold == 0.6
    assert (atss.bbox_head.loss_bbox.type, atss.bbox_head.loss_bbox.loss_weight) == ('GIoULoss', 2.0)
    sparse = _load(f'sparse_rcnn_focalnet_t_{rf}_3x_coco.py').model
    assert sparse.rpn_head.num_proposals == 300 and sparse.test_cfg.rcnn.max_per_img == 300
    assert (sparse.neck.add_extra_convs, sparse.neck.num_outs) == ('on_input', 4)
    assert [h.type for h in sparse.roi_head.bbox_head] == ['DIIHead'] * 6
    assert [c.type for c in sparse.train_cfg.rcnn[0].assigner.match_costs] == ['FocalLossCost', 'BBoxL1Cost', 'IoUCost']


@pytest.mark.parametrize('name', CONFIGS)
def test_config_points_at_the_official_classification_checkpoint(name):
    text = open(os.path.join(CONFIG_DIR, name)).read()
    assert f'{RELEASE_URL}focalnet_{RECIPES[name].arch}.pth' in text  # where to download it


@pytest.fixture(scope='module')
def tiny_coco_dir(tmp_path_factory):
    return write_tiny_coco(tmp_path_factory.mktemp('tiny_coco'), num_train=2, num_val=1)


@pytest.mark.parametrize('name', CONFIGS)
def test_config_trains_one_iteration_and_evaluates_with_coco_metrics(name, tiny_coco_dir, monkeypatch):
    """What the Runner's train and test loops do, on the config's own model, dataloaders, optimizer and metric.

    The Runner itself is exercised by the tools tests; building one per config would triple this test's time.
    """
    monkeypatch.chdir(tiny_coco_dir)  # the configs' own data_root 'data/coco/' then finds the tiny dataset
    set_random_seed(0)  # the augmentation draws from numpy and random
    cfg = _load(name)
    # 1/12 of the recipe's scales: images of 40-67 px short side, still larger than the smallest RPN anchors.
    cfg.merge_from_dict(tiny_run_options(cfg, factor=12))
    adapt_to_cpu(cfg, launcher='none')  # AmpOptimWrapper needs CUDA
    toolbox_for(cfg).register_modules()  # mmdet's registries, as tools/train.py picks them

    model = MODELS.build(cfg.model)
    assert type(model).__name__ == RECIPES[name].detector
    assert type(model.backbone).__name__ == 'FocalNet'
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader)))
    assert len(batch['inputs']) == 2
    before = model.backbone.patch_embed.proj.weight.detach().clone()
    losses = model.train_step(batch, optim_wrapper)
    assert math.isfinite(losses['loss']) and losses['loss'] > 0
    assert not torch.equal(model.backbone.patch_embed.proj.weight, before)  # the optimizer stepped the backbone

    metrics = evaluate_on_test_loader(model, cfg)
    with_masks = RECIPES[name].detector in ('MaskRCNN', 'CascadeRCNN')
    for key in ['coco/bbox_mAP'] + (['coco/segm_mAP'] if with_masks else []):
        assert 0 <= metrics[key] <= 1, (key, metrics)
