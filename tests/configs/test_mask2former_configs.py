"""The FocalNet-L Mask2Former recipes (mmseg ADE20K semantic, mmdet COCO panoptic): they are mmseg's and mmdet's
Swin-L recipes with FocalNet-L fl4 (no FocalNet Mask2Former was ever released), their parameter groups reach
FocalNet's parameters, the full-size models are the Swin-L ones with another backbone, and each recipe trains one
iteration and evaluates on tiny generated data: the mmseg one with IoUMetric on a tiny ADE20K, the mmdet one with
CocoPanopticMetric and CocoMetric on a tiny COCO panoptic set.

Recipe values are transcribed from the reference notes (FocalNet + Mask2Former, what mmdet 3.3 and mmseg 1.2 offer
for Swin-L).
"""
import copy
import os.path as osp

import pytest
import torch
from helpers.tiny_coco import shrink_scales
from helpers.tiny_coco_panoptic import write_tiny_coco_panoptic
from helpers.tiny_configs import config_path, set_in_pipeline, train_one_iteration_and_evaluate
from helpers.tiny_datasets import make_ade20k
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import Runner
from mmengine.structures import PixelData

SEG = 'mask2former_focalnet-l-fl4_8xb2-160k_ade20k-640x640.py'
PANOPTIC = 'mask2former_focalnet-l-fl4_16xb1-lsj-100e_coco-panoptic.py'
IN_CHANNELS = [192, 384, 768, 1536]
PRETRAINED = 'checkpoints/focalnet_large_lrf_384_fl4.pth'
BACKBONE_M = 205.74 + 2 * sum(IN_CHANNELS) / 1e6  # facts: L fl4 without head and final norm, plus norm0-3
SWIN_L = {
    SEG: ('mmseg', 'mask2former_swin-l-in22k-384x384-pre_8xb2-160k_ade20k-640x640.py'),
    PANOPTIC: ('mmdet', 'mask2former_swin-l-p4-w12-384-in21k_16xb1-lsj-100e_coco-panoptic.py'),
}


def load(name):
    return Config.fromfile(config_path('mmseg' if name == SEG else 'mmdet', name))


def swin_l(name):
    toolbox, file = SWIN_L[name]
    return Config.fromfile(osp.join(osp.dirname(__import__(toolbox).__file__), '.mim', 'configs', 'mask2former', file))


def scope(name):
    return DefaultScope.overwrite_default_scope('mmseg' if name == SEG else 'mmdet')


def head(cfg, name):
    return cfg.model.decode_head if name == SEG else cfg.model.panoptic_head


@pytest.mark.parametrize('name', [SEG, PANOPTIC])
def test_recipe_is_swin_l_with_focalnet_l(name):
    cfg, swin = load(name), swin_l(name)
    text = open(config_path('mmseg' if name == SEG else 'mmdet', name)).read()
    assert 'no FocalNet + Mask2Former code, config or checkpoint was ever published' in ' '.join(text.split())
    assert cfg.custom_imports == dict(imports=['mmfocalnet'], allow_failed_imports=False)
    backbone = cfg.model.backbone
    assert backbone == dict(
        type='FocalNet',
        arch='large_fl4',
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint=PRETRAINED))
    assert head(cfg, name).in_channels == IN_CHANNELS
    assert head(cfg, name).num_queries == (100 if name == SEG else 200)
    # Everything but the backbone and its parameter groups is the Swin-L recipe.
    for key in ('train_cfg', 'param_scheduler', 'train_dataloader', 'val_evaluator'):
        assert _unscoped(cfg[key]) == _unscoped(swin[key]), key
    assert _unscoped(head(cfg, name)) == _unscoped(head(swin, name))
    optim, swin_optim = cfg.optim_wrapper, swin.optim_wrapper
    recipe_optimizer = dict(type='AdamW', lr=1e-4, weight_decay=0.05, eps=1e-8, betas=[0.9, 0.999])
    assert _unscoped(optim.optimizer) == _unscoped(swin_optim.optimizer) == recipe_optimizer
    assert optim.clip_grad == dict(max_norm=0.01, norm_type=2) and optim.paramwise_cfg.norm_decay_mult == 0.0
    if name == SEG:
        assert cfg.train_cfg.max_iters == 160000 and cfg.train_dataloader.batch_size == 2
        assert cfg.crop_size == (640, 640)
    else:
        assert cfg.train_cfg.max_iters == 737500 and cfg.train_dataloader.batch_size == 1
        assert cfg.param_scheduler.milestones == [655556, 710184]
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=16)
    keys = optim.paramwise_cfg.custom_keys
    assert not [key for key in keys if 'stages' in key or 'position' in key or 'pos_embed' in key]  # Swin's names


def _unscoped(node):
    """A config value without the ``_scope_`` marks mmengine adds to what a config inherits through ``mmseg::``."""
    if isinstance(node, dict):
        return {key: _unscoped(value) for key, value in node.items() if key != '_scope_'}
    if isinstance(node, (list, tuple)):
        return [_unscoped(value) for value in node]
    return node


def _shrunk(cfg):
    cfg.model.backbone.update(init_cfg=None, depths=[1, 1, 1, 1], embed_dims=32)
    head_cfg = cfg.model.get('decode_head') or cfg.model.panoptic_head
    head_cfg.in_channels = [32 * 2**i for i in range(4)]
    return cfg


@pytest.mark.parametrize('name', [SEG, PANOPTIC])
def test_parameter_groups_reach_focalnet_parameters(name):
    """FocalNet's norms and layer scales get no decay and lr x 0.1, its other weights lr x 0.1 with decay; queries
    and level embeddings no decay at the full lr (checked on the built optimizer, so a key that matches nothing
    fails)."""
    cfg = _shrunk(load(name))
    with scope(name):
        model = MODELS.build(cfg.model)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    group_of = {id(p): g for g in optim_wrapper.optimizer.param_groups for p in g['params']}
    params = dict(model.named_parameters())

    def lr_and_decay(param_name):
        group = group_of[id(params[param_name])]
        return group['lr'], group['weight_decay']

    for name_ in [
            'backbone.patch_embed.norm.weight', 'backbone.norm0.bias', 'backbone.layers.2.blocks.0.norm2.weight',
            'backbone.layers.1.downsample.norm.weight', 'backbone.layers.3.blocks.0.gamma_1'
    ]:  # noqa: E501
        assert lr_and_decay(name_) == pytest.approx((1e-5, 0.0)), name_
    for name_ in ['backbone.layers.0.blocks.0.modulation.f.weight', 'backbone.layers.3.blocks.0.mlp.fc1.weight']:
        assert lr_and_decay(name_) == pytest.approx((1e-5, 0.05)), name_
    head_prefix = 'decode_head' if name == SEG else 'panoptic_head'
    assert lr_and_decay(f'{head_prefix}.query_embed.weight') == pytest.approx((1e-4, 0.0))
    assert lr_and_decay(f'{head_prefix}.level_embed.weight') == pytest.approx((1e-4, 0.0))


def _non_backbone_parameters(model):
    return sum(p.numel() for key, p in model.named_parameters() if not key.startswith('backbone.'))


@pytest.mark.parametrize('name', [SEG, PANOPTIC])
def test_full_size_model_is_swin_l_mask2former_with_focalnet_l(name):
    """On the meta device: FocalNet-L fl4 with the official parameter count, and every other parameter exactly as
    in the toolbox's own Swin-L Mask2Former (whose backbone is swapped for ours: Swin cannot be built on meta)."""
    cfg, swin = load(name), swin_l(name)
    cfg.model.backbone.init_cfg = None
    swin.model.backbone = copy.deepcopy(cfg.model.backbone)
    with torch.device('meta'), scope(name):
        model, reference = MODELS.build(cfg.model), MODELS.build(swin.model)
        features = model.extract_feat(torch.empty(1, 3, 128, 160))
    assert sum(p.numel() for p in model.backbone.parameters()) / 1e6 == pytest.approx(BACKBONE_M, abs=0.01)
    assert model.backbone.arch_settings['normalize_modulator']
    assert _non_backbone_parameters(model) == _non_backbone_parameters(reference)
    strides = (4, 8, 16, 32)
    assert [tuple(f.shape) for f in features] == [(1, c, 128 // s, 160 // s) for c, s in zip(IN_CHANNELS, strides)]


@pytest.fixture(scope='module', autouse=True)
def one_thread(one_cpu_thread):
    """One intra-op thread: faster than two on the shared CPU."""


def test_ade20k_recipe_trains_one_iteration_and_evaluates_with_iou_metric(tmp_path):
    """mmseg's Runner, ADE20KDataset, the recipe's pipeline (shrunk to 64-pixel crops), Mask2Former head, losses,
    optimizer and IoUMetric, with the backbone shrunk to one block of 32 channels per stage."""
    root = make_ade20k(str(tmp_path / 'ADEChallengeData2016'))
    cfg = _shrunk(load(SEG))
    crop = 64
    for loader, batch in (('train_dataloader', 2), ('val_dataloader', 1), ('test_dataloader', 1)):
        cfg[loader].update(batch_size=batch, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.data_root = root
    train_pipeline = cfg.train_dataloader.dataset.pipeline
    set_in_pipeline(
        train_pipeline, 'RandomChoiceResize', scales=[int(x * 0.1 * crop) for x in range(5, 21)], max_size=4 * crop)
    set_in_pipeline(train_pipeline, 'RandomCrop', crop_size=(crop, crop))
    for loader in ('val_dataloader', 'test_dataloader'):
        set_in_pipeline(cfg[loader].dataset.pipeline, 'Resize', scale=(4 * crop, crop))
    cfg.model.data_preprocessor.size = (crop, crop)
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    cfg.param_scheduler[0].end = 1
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.update(work_dir=str(tmp_path / 'work'), log_level='WARNING', randomness=dict(seed=0))
    train_one_iteration_and_evaluate(
        cfg, {
            'backbone': lambda model: model.backbone.layers[0].blocks[0].modulation.f.weight,
            'decode_head': lambda model: model.decode_head.cls_embed.weight,
        },
        metric='val/mIoU')


@pytest.fixture(scope='module')
def tiny_panoptic_dir(tmp_path_factory):
    return write_tiny_coco_panoptic(tmp_path_factory.mktemp('tiny_panoptic'), num_train=2, num_val=2)


def _tiny_panoptic_config(work_dir):
    """The panoptic recipe with the shrunk backbone, its pipelines at 1/16 of the recipe's scales (LSJ crop 64,
    test scale (83, 50)), 1 training iteration of 2 images, then evaluation of 1 image per batch."""
    cfg = _shrunk(load(PANOPTIC))
    for loader, batch in (('train_dataloader', 2), ('val_dataloader', 1), ('test_dataloader', 1)):
        cfg[loader].update(batch_size=batch, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.pipeline = shrink_scales(cfg[loader].dataset.pipeline, 16)
    cfg.model.data_preprocessor.batch_augments[0].size = (64, 64)
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.update(work_dir=str(work_dir), log_level='WARNING', randomness=dict(seed=0))
    return cfg


def _ground_truth_as_prediction(data_sample, num_classes, relabel):
    """Sets ``pred_panoptic_seg`` to the sample's own ground truth in mmdet's encoding (label + instance index x
    INSTANCE_OFFSET, ``num_classes`` for void), with the thing labels in ``relabel`` replaced."""
    panoptic = data_sample.gt_sem_seg.sem_seg.clone()
    panoptic[panoptic == 255] = num_classes
    masks = data_sample.gt_instances.masks.to_tensor(torch.bool, 'cpu')
    for index, (mask, label) in enumerate(zip(masks, data_sample.gt_instances.labels.tolist())):
        panoptic[0][mask] = relabel.get(label, label) + (index + 1) * INSTANCE_OFFSET
    data_sample.pred_panoptic_seg = PixelData(sem_seg=panoptic)


def test_tiny_panoptic_ground_truth_scores_full_pq_with_the_recipes_metric(tiny_panoptic_dir, tmp_path, monkeypatch):
    """The generated data is a coherent COCO panoptic set for the recipe's own val dataset, LoadPanopticAnnotations
    and CocoPanopticMetric: its ground truth given back as the prediction scores PQ 100, and with the person
    relabelled as a bicycle, things drop to 100/3 (person: a miss, bicycle: a false segment, car: exact) while stuff
    stays 100. So the untrained model's score below comes from the model, not from broken data."""
    monkeypatch.chdir(tiny_panoptic_dir)  # the recipe's data_root and evaluator paths find the tiny dataset
    cfg = _tiny_panoptic_config(tmp_path)
    with scope(PANOPTIC):
        loader = Runner.build_dataloader(cfg.val_dataloader)
        num_classes = len(loader.dataset.metainfo['classes'])
        person, bicycle = (loader.dataset.metainfo['classes'].index(name) for name in ('person', 'bicycle'))
        scores = {}
        for case, relabel in (('exact', {}), ('person as bicycle', {person: bicycle})):
            evaluator = Evaluator(cfg.val_evaluator[0])
            assert type(evaluator.metrics[0]).__name__ == 'CocoPanopticMetric'
            evaluator.dataset_meta = loader.dataset.metainfo
            for batch in loader:
                for data_sample in batch['data_samples']:
                    _ground_truth_as_prediction(data_sample, num_classes, relabel)
                evaluator.process(batch['data_samples'], batch)
            scores[case] = evaluator.evaluate(len(loader.dataset))
    assert scores['exact']['coco_panoptic/PQ'] == pytest.approx(100.0)
    assert scores['person as bicycle']['coco_panoptic/PQ_th'] == pytest.approx(100 / 3)
    assert scores['person as bicycle']['coco_panoptic/PQ_st'] == pytest.approx(100.0)


def test_panoptic_recipe_trains_one_iteration_and_evaluates_with_coco_panoptic_metric(
        tiny_panoptic_dir, tmp_path, monkeypatch):
    """mmdet's Runner, CocoPanopticDataset, the recipe's LSJ pipeline (shrunk), Mask2Former head, pixel decoder,
    losses, optimizer and fusion head with the shrunk backbone, then the recipe's evaluators on the tiny val2017:
    CocoPanopticMetric (PQ, things and stuff) and CocoMetric (boxes and masks of the instance outputs)."""
    monkeypatch.chdir(tiny_panoptic_dir)
    cfg = _tiny_panoptic_config(tmp_path / 'work')
    assert [metric.type for metric in cfg.val_evaluator] == ['CocoPanopticMetric', 'CocoMetric']
    runner = train_one_iteration_and_evaluate(
        cfg, {
            'backbone': lambda model: model.backbone.layers[0].blocks[0].modulation.f.weight,
            'panoptic_head': lambda model: model.panoptic_head.cls_embed.weight,
        },
        metric='val/coco_panoptic/PQ')
    for key in ('coco_panoptic/PQ_th', 'coco_panoptic/PQ_st', 'coco/bbox_mAP', 'coco/segm_mAP'):
        value = runner.message_hub.get_scalar(f'val/{key}').current()
        assert 0.0 <= value <= 100.0, key
