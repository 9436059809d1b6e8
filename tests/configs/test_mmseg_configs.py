"""The six mmseg 1.x UPerNet / ADE20K configs: the official recipe, their exact parameter counts, and one
training iteration plus one evaluation each on a tiny ADE20K-layout dataset with mmseg's own ``ADE20KDataset`` and
``IoUMetric``, through our Runner set-up and through ``tools/train.py``."""
import copy
import functools
import glob
import importlib
import os.path as osp

import pytest
import torch
from helpers.tiny_configs import (config_path, narrow_heads, run_train_tool, shallow_backbone, tiny_seg_config,
                                  train_one_iteration_and_evaluate)
from helpers.tiny_datasets import make_ade20k
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmfocalnet.models import FOCALNET_ARCHS
from mmfocalnet.runner import UsageError, enable_test_time_augmentation

# Expected values, from the official FocalNet segmentation release (reference facts C.2): arch, UPerHead input
# channels, auxiliary FCNHead input channels (the third stage), backbone parameters in M (calc, windows 9, with
# norm0-3, facts C.1 note) and the README's total parameter count in M (whole millions; the LRF rows truncate,
# e.g. 61.57 M is listed as 61, so totals are checked to 0.7 M and the backbone to the last digit).
EXPECTED = {
    'upernet_focalnet_t_srf_160k_ade20k':
    dict(arch='tiny_srf', levels=2, in_channels=[96, 192, 384, 768], aux_in_channels=384, backbone_m=28.40, total_m=61),
    'upernet_focalnet_t_lrf_160k_ade20k':
    dict(arch='tiny_lrf', levels=3, in_channels=[96, 192, 384, 768], aux_in_channels=384, backbone_m=29.15, total_m=61),
    'upernet_focalnet_s_srf_160k_ade20k':
    dict(
        arch='small_srf', levels=2, in_channels=[96, 192, 384, 768], aux_in_channels=384, backbone_m=50.64, total_m=83),
    'upernet_focalnet_s_lrf_160k_ade20k':
    dict(
        arch='small_lrf', levels=3, in_channels=[96, 192, 384, 768], aux_in_channels=384, backbone_m=52.17, total_m=84),
    'upernet_focalnet_b_srf_160k_ade20k':
    dict(
        arch='base_srf',
        levels=2,
        in_channels=[128, 256, 512, 1024],
        aux_in_channels=512,
        backbone_m=89.15,
        total_m=124),
    'upernet_focalnet_b_lrf_160k_ade20k':
    dict(
        arch='base_lrf',
        levels=3,
        in_channels=[128, 256, 512, 1024],
        aux_in_channels=512,
        backbone_m=91.19,
        total_m=126),
}
OFFICIAL_CLS_FILES = {
    'tiny_srf': 'focalnet_tiny_srf.pth',
    'tiny_lrf': 'focalnet_tiny_lrf.pth',
    'small_srf': 'focalnet_small_srf.pth',
    'small_lrf': 'focalnet_small_lrf.pth',
    'base_srf': 'focalnet_base_srf.pth',
    'base_lrf': 'focalnet_base_lrf.pth',
}

# A full-size model takes 20-30 s per training iteration on a busy 2-core CPU, so only FocalNet-T SRF trains at full
# size here; the others train with one block per stage and 64/32-channel heads. Every config's full-size model is
# built and run on the meta device by test_full_size_model_has_official_parameter_count_and_wiring.
FULL_SIZE_RUN = 'upernet_focalnet_t_srf_160k_ade20k'


@functools.lru_cache(maxsize=None)
def _parse(name):
    return Config.fromfile(config_path('mmseg', f'{name}.py'))


def load(name):
    """A fresh copy of a config, parsed once per module: for each `mmseg::` base of a config mmengine rescans
    mmseg's metafiles (configs/mmseg/README.md), and the tests here read a config many times."""
    return copy.deepcopy(_parse(name))


def millions(module):
    return sum(p.numel() for p in module.parameters()) / 1e6


@pytest.fixture(scope='module')
def ade20k_root(tmp_path_factory):
    return make_ade20k(str(tmp_path_factory.mktemp('ADEChallengeData2016')))


def test_every_mmseg_config_is_covered():
    found = {osp.splitext(osp.basename(p))[0] for p in glob.glob(config_path('mmseg', '*.py'))}
    # The Focal Transformer and Mask2Former configs are covered by test_focal_transformer_configs.py and
    # test_mask2former_configs.py.
    assert {name for name in found if 'focal_transformer' not in name and 'mask2former' not in name} == set(EXPECTED)


@pytest.mark.parametrize('name', EXPECTED)
def test_config_sets_official_model(name):
    cfg, expected = load(name), EXPECTED[name]
    backbone = cfg.model.backbone
    assert backbone.type == 'FocalNet' and backbone.arch == expected['arch']
    assert backbone.focal_windows == 9 and backbone.drop_path_rate == 0.3
    assert backbone.out_indices == (0, 1, 2, 3)
    assert backbone.init_cfg == dict(
        type='Pretrained', checkpoint=f'checkpoints/{OFFICIAL_CLS_FILES[expected["arch"]]}')
    head, aux = cfg.model.decode_head, cfg.model.auxiliary_head
    assert (head.type, head.in_channels, head.channels, head.pool_scales,
            head.num_classes) == ('UPerHead', expected['in_channels'], 512, (1, 2, 3, 6), 150)
    assert head.dropout_ratio == 0.1 and head.norm_cfg.type == 'SyncBN'
    assert (aux.type, aux.in_channels, aux.in_index,
            aux.loss_decode.loss_weight) == ('FCNHead', expected['aux_in_channels'], 2, 0.4)


def test_configs_share_official_schedule_and_data():
    """One check of the recipe every config inherits (facts C.2)."""
    cfg = load('upernet_focalnet_t_srf_160k_ade20k')
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports == dict(imports=['mmfocalnet'], allow_failed_imports=False)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay, optimizer.betas) == ('AdamW', 6e-5, 0.01, (0.9,
                                                                                                             0.999))
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {'norm': dict(decay_mult=0.)}
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.begin, warmup.end) == ('LinearLR', 1e-6, 0, 1500)
    assert (poly.type, poly.power, poly.eta_min, poly.begin, poly.end) == ('PolyLR', 1.0, 0.0, 1500, 160000)
    assert not warmup.by_epoch and not poly.by_epoch
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (160000, 16000)
    assert cfg.default_hooks.checkpoint.interval == 16000
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs
    assert cfg.train_dataloader.dataset.data_root == 'data/ade/ADEChallengeData2016'
    assert cfg.crop_size == (512, 512) and cfg.model.data_preprocessor.size == (512, 512)
    resize, crop = cfg.train_pipeline[2:4]
    assert (resize.scale, resize.ratio_range) == ((2048, 512), (0.5, 2.0))
    assert (crop.crop_size, crop.cat_max_ratio) == ((512, 512), 0.75)
    assert cfg.test_pipeline[1].scale == (2048, 512) and cfg.model.test_cfg.mode == 'whole'
    assert cfg.tta_model.type == 'SegTTAModel'
    assert cfg.tta_ratios == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]


def test_optimizer_skips_decay_on_norms_only():
    """The official 'norm' substring rule: norms undecayed, biases, gates and heads decayed at 0.01."""
    cfg = load('upernet_focalnet_t_srf_160k_ade20k')
    cfg.model.backbone.update(init_cfg=None, depths=[1, 1, 1, 1])
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(p): group['weight_decay'] for group in optim_wrapper.param_groups for p in group['params']}
    params = dict(model.named_parameters())
    for name in ('backbone.norm0.weight', 'backbone.layers.0.blocks.0.norm1.bias', 'backbone.patch_embed.norm.weight',
                 'backbone.layers.0.downsample.norm.weight'):
        assert decay[id(params[name])] == 0.0, name
    for name in ('backbone.layers.0.blocks.0.modulation.f.weight', 'backbone.layers.0.blocks.0.modulation.f.bias',
                 'decode_head.conv_seg.weight', 'decode_head.bottleneck.bn.weight'):
        assert decay[id(params[name])] == 0.01, name


@pytest.mark.parametrize('name', EXPECTED)
def test_full_size_model_has_official_parameter_count_and_wiring(name):
    """Built on the meta device (structure only, no memory), then run on a meta batch, which checks every
    layer's input channels against its producer's at full size."""
    cfg, expected = load(name), EXPECTED[name]
    cfg.model.backbone.init_cfg = None
    with torch.device('meta'), DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
        images = torch.empty(2, 3, 64, 64)
        logits = model(images, mode='tensor')
        aux_logits = model.auxiliary_head(model.extract_feat(images))
    assert model.backbone.depths == list(FOCALNET_ARCHS[expected['arch']]['depths'])
    assert model.backbone.focal_levels == [expected['levels']] * 4
    assert model.backbone.focal_windows == [9] * 4
    assert millions(model.backbone) == pytest.approx(expected['backbone_m'], abs=0.006)
    assert millions(model) == pytest.approx(expected['total_m'], abs=0.7)
    assert logits.shape == (2, 150, 16, 16) and aux_logits.shape == (2, 150, 4, 4)


def run_tiny(cfg):
    """Builds the Runner, trains one iteration, evaluates; returns the Runner after checking both happened."""
    return train_one_iteration_and_evaluate(
        cfg, {
            'backbone': lambda model: model.backbone.layers[0].blocks[0].modulation.f.weight,
            'decode_head': lambda model: model.decode_head.conv_seg.weight,
        },
        metric='val/mIoU')


@pytest.mark.parametrize('name', EXPECTED)
def test_config_trains_one_iteration_and_evaluates(name, ade20k_root, tmp_path):
    cfg = tiny_seg_config(config_path('mmseg', f'{name}.py'), ade20k_root, str(tmp_path))
    if name != FULL_SIZE_RUN:
        narrow_heads(shallow_backbone(cfg))
    backbone = run_tiny(cfg).model.backbone
    assert backbone.focal_levels == [EXPECTED[name]['levels']] * 4 and backbone.focal_windows == [9] * 4


def test_multi_scale_flip_tta_evaluates(ade20k_root, tmp_path):
    """``tools/test.py --tta`` swaps in the TTA model and pipeline; 6 scales x 2 flips are merged."""
    cfg = tiny_seg_config(config_path('mmseg', f'{FULL_SIZE_RUN}.py'), ade20k_root, str(tmp_path))
    narrow_heads(shallow_backbone(cfg))  # the TTA wrapper, not the model size, is under test
    enable_test_time_augmentation(cfg)
    runner = Runner.from_cfg(cfg)
    views = runner.test_dataloader.dataset[0]['inputs']
    sizes = [tuple(image.shape[1:]) for image in views]
    assert len(sizes) == 12 and len(set(sizes)) == 6  # each scale with and without the flip
    short_sides = sorted({min(size) for size in sizes})
    assert short_sides == [round(64 * r) for r in cfg.tta_ratios]  # tiny test scale (256, 64) times each ratio
    metrics = runner.test()
    assert 0.0 <= metrics['mIoU'] <= 100.0


def test_tools_train_routes_an_mmseg_config_to_mmseg(ade20k_root, tmp_path, monkeypatch):
    """``tools/train.py CONFIG --cfg-options ...`` as a user runs it: 2 iterations, then mmseg's IoUMetric."""
    config = config_path('mmseg', f'{FULL_SIZE_RUN}.py')
    options = [
        f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
        for key in (f'dataset.data_root={ade20k_root}', 'num_workers=0', 'persistent_workers=False')
    ] + [
        'train_dataloader.dataset.pipeline.2.scale=(256,64)', 'train_dataloader.dataset.pipeline.3.crop_size=(64,64)',
        'val_dataloader.dataset.pipeline.1.scale=(256,64)', 'model.data_preprocessor.size=(64,64)',
        'model.backbone.init_cfg=None', 'model.backbone.depths=[1,1,1,1]', 'model.decode_head.channels=64',
        'model.auxiliary_head.channels=32', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint=None', 'default_hooks.logger.interval=1'
    ]
    records = run_train_tool(config, tmp_path / 'work', options, monkeypatch)
    assert [record['iter'] for record in records if 'loss' in record] == [1, 2]
    assert any('mIoU' in record for record in records)


def test_mmseg_inferencer_takes_config_and_converted_checkpoint(ade20k_root, tmp_path):
    """The README's route for a trained segmentor: an mmseg 0.x-layout .pth -> tools/convert_keys.py -> mmseg's
    own MMSegInferencer with our config."""
    from mmseg.apis import MMSegInferencer
    cfg = tiny_seg_config(config_path('mmseg', f'{FULL_SIZE_RUN}.py'), ade20k_root, str(tmp_path))
    narrow_heads(shallow_backbone(cfg))
    with DefaultScope.overwrite_default_scope('mmseg'):
        trained = MODELS.build(cfg.model).eval()
    official_file, converted_file = str(tmp_path / 'official.pth'), str(tmp_path / 'converted.pth')
    torch.save({'meta': {'iter': 160000}, 'state_dict': trained.state_dict()}, official_file)
    convert_keys = importlib.import_module('tools.convert_keys').main
    assert convert_keys([official_file, converted_file, '--kind', 'seg']) == 0
    inferencer = MMSegInferencer(model=cfg, weights=converted_file, device='cpu')
    image = torch.randint(0, 256, (48, 64, 3), dtype=torch.uint8).numpy()
    prediction = inferencer(image)['predictions']
    assert prediction.shape == (48, 64) and prediction.max() < 150
    loaded = inferencer.model.state_dict()
    for key, value in trained.state_dict().items():
        assert torch.equal(loaded[key], value), key


def test_tta_without_tta_settings_is_a_usage_error():
    cfg = Config(dict(model=dict(type='EncoderDecoder'), test_dataloader=dict(dataset=dict(pipeline=[]))))
    with pytest.raises(UsageError, match='--tta needs tta_model and tta_pipeline'):
        enable_test_time_augmentation(cfg)
