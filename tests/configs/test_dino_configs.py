"""The DINO + FocalNet-L configs: the authors' and detrex's recipes, full-size structure and parameter counts, and one
training iteration plus one CocoMetric evaluation each on tiny generated COCO data.

Expected values are transcribed from the reference notes (FocalNet + DINO: released checkpoints, recipes side by
side, the mmdet 3.3 DINO configs), not read from our configs.
"""
import copy
import math
import os
import re
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
RELEASES = 'https://github.com/microsoft/FocalNet/releases/download/v1.0.0/'
DETREX = 'https://github.com/IDEA-Research/detrex-storage/releases/download/'
AUTHORS_COCO = ('https://huggingface.co/microsoft/focalnet-large-fl4-dino-o365-cocoft/resolve/main/'
                'focalnet_large_fl4_o365_finetuned_on_coco.pth')
# Backbone parameters of the official variants (facts table: L fl3 205.56 M, L fl4 205.74 M, without head and
# final norm), plus the DINO backbone's output norms (2 x channels of each returned stage).
BACKBONE_M = {'large_fl3': 205.56, 'large_fl4': 205.74}


@dataclass(frozen=True)
class Recipe:
    levels: int
    arch: str
    normalize_modulator: bool
    epochs: int
    drop_path: float
    source: str  # 'authors' (IDEA's FocalNet-DINO) or 'detrex': positional encoding and denoising as each trained
    weights: str = None  # the released detector file a config loads (converted), as the reference lists it


def _train(levels, arch, epochs):
    return Recipe(levels, arch, arch == 'large_fl4', epochs, 0.3 if epochs == 12 else 0.4, 'authors')


RECIPES = {
    'dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py':
    _train(5, 'large_fl4', 12),
    'dino-5scale_focalnet-l-fl4_8xb2-36e_coco.py':
    _train(5, 'large_fl4', 36),
    'dino-4scale_focalnet-l-fl3_8xb2-12e_coco.py':
    _train(4, 'large_fl3', 12),
    'dino-4scale_focalnet-l-fl3_8xb2-36e_coco.py':
    _train(4, 'large_fl3', 36),
    'dino-5scale_focalnet-l-fl4_authors-o365-coco.py':
    Recipe(5, 'large_fl4', True, 12, 0.3, 'authors', AUTHORS_COCO),
    'dino-5scale_focalnet-l-fl4_detrex-12e_coco.py':
    Recipe(5, 'large_fl4', False, 12, 0.3, 'detrex', DETREX + 'v0.2.1/dino_focalnet_large_lrf_384_fl4_5scale_12ep.pth'),
    'dino-4scale_focalnet-l-fl4_detrex-12e_coco.py':
    Recipe(4, 'large_fl4', False, 12, 0.3, 'detrex', DETREX + 'v0.2.1/dino_focal_large_lrf_384_fl4_4scale_12ep.pth'),
    'dino-4scale_focalnet-l-fl3_detrex-12e_coco.py':
    Recipe(4, 'large_fl3', False, 12, 0.3, 'detrex', DETREX + 'v0.2.1/dino_focal_large_lrf_384_4scale_12ep.pth'),
    'dino-4scale_focalnet-l-fl3_detrex-36e_coco.py':
    Recipe(4, 'large_fl3', False, 36, 0.4, 'detrex', DETREX + 'v0.4.0/dino_focal_large_3level_4scale_36ep.pth'),
}
CONFIGS = sorted(RECIPES)
DINO_SHORT_SIDES = list(range(480, 801, 32))


def _load(name):
    return Config.fromfile(os.path.join(CONFIG_DIR, name))


@pytest.fixture(scope='module', autouse=True)
def mmdet_modules():
    toolbox_for(_load(CONFIGS[0])).register_modules()  # mmdet's registries and default scope, as tools/train.py


def test_every_dino_config_is_covered():
    assert sorted(f for f in os.listdir(CONFIG_DIR) if f.startswith('dino')) == CONFIGS


@pytest.mark.parametrize('name', CONFIGS)
def test_model_is_the_recipe(name):
    recipe, model = RECIPES[name], _load(name).model
    assert model.type == 'DINO' and model.num_queries == 900 and model.with_box_refine and model.as_two_stage
    assert model.num_feature_levels == recipe.levels
    assert model.encoder.layer_cfg.self_attn_cfg.num_levels == recipe.levels
    assert model.decoder.layer_cfg.cross_attn_cfg.num_levels == recipe.levels
    assert (model.encoder.num_layers, model.decoder.num_layers) == (6, 6)
    backbone = model.backbone
    assert backbone.type == 'FocalNet' and backbone.arch == recipe.arch
    assert backbone.with_cp  # the authors trained with gradient checkpointing
    assert backbone.drop_path_rate == recipe.drop_path
    out_indices = (0, 1, 2, 3) if recipe.levels == 5 else (1, 2, 3)
    assert tuple(backbone.out_indices) == out_indices
    neck = model.neck
    assert neck.type == 'ChannelMapper' and neck.in_channels == [192 * 2**i for i in out_indices]
    assert (neck.kernel_size, neck.out_channels, neck.num_outs) == (1, 256, recipe.levels)
    assert neck.norm_cfg == dict(type='GN', num_groups=32)
    assert neck.bias is True and neck.act_cfg is None  # both sources have conv biases in their input projections
    assert model.bbox_head.num_classes == 80 and model.test_cfg.max_per_img == 300
    encoding = model.positional_encoding
    assert (encoding.temperature, encoding.offset) == ((20, 0.0) if recipe.source == 'authors' else (10000, -0.5))
    assert model.dn_cfg.label_noise_scale == 0.5 and model.dn_cfg.group_cfg.num_dn_queries == 100
    assert model.dn_cfg.box_noise_scale == (0.4 if recipe.source == 'authors' else 1.0)


@pytest.mark.parametrize('name', CONFIGS)
def test_schedule_and_data_are_the_recipe(name):
    recipe, cfg = RECIPES[name], _load(name)
    optimizer = cfg.optim_wrapper.optimizer
    assert (cfg.optim_wrapper.type, optimizer.type, optimizer.lr, optimizer.weight_decay) == ('OptimWrapper', 'AdamW',
                                                                                              1e-4, 1e-4)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.1, norm_type=2)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {'backbone': dict(lr_mult=0.1)}
    assert cfg.train_cfg.max_epochs == recipe.epochs
    [steps] = cfg.param_scheduler
    assert steps.type == 'MultiStepLR' and steps.by_epoch and steps.gamma == 0.1
    assert steps.milestones == ([11] if recipe.epochs == 12 else [27, 33])
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=16)
    assert cfg.custom_imports == dict(imports=['mmfocalnet'], allow_failed_imports=False)
    train = cfg.train_dataloader.dataset
    assert train.filter_cfg.filter_empty_gt is False
    assert [t.type for t in train.pipeline
            ] == ['LoadImageFromFile', 'LoadAnnotations', 'RandomFlip', 'RandomChoice', 'PackDetInputs']
    resize, resize_crop_resize = train.pipeline[3].transforms
    assert [tuple(s) for s in resize[0].scales] == [(side, 1333) for side in DINO_SHORT_SIDES]
    first, crop, second = resize_crop_resize
    assert [tuple(s) for s in first.scales] == [(400, 4200), (500, 4200), (600, 4200)]
    assert (crop.crop_type, tuple(crop.crop_size)) == ('absolute_range', (384, 600))
    assert [tuple(s) for s in second.scales] == [(side, 1333) for side in DINO_SHORT_SIDES]
    test_resize = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'Resize']
    assert [tuple(t.scale) for t in test_resize] == [(1333, 800)]
    assert cfg.val_evaluator.type == 'CocoMetric' and cfg.val_evaluator.metric == 'bbox'


@pytest.mark.parametrize('name', CONFIGS)
def test_weights_are_named_with_their_download_and_convert_commands(name):
    recipe, cfg = RECIPES[name], _load(name)
    text = open(os.path.join(CONFIG_DIR, name)).read()
    if recipe.weights is None:  # a training recipe: the backbone starts from the ImageNet-22K classifier
        file = {'large_fl3': 'focalnet_large_lrf_384.pth', 'large_fl4': 'focalnet_large_lrf_384_fl4.pth'}[recipe.arch]
        assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint=f'checkpoints/{file}')
        assert f'{RELEASES}{file}' in text or f'{RELEASES}{file}' in _base_text(name)
        assert cfg.load_from is None
    else:  # a released detector, converted: every weight comes from it
        assert cfg.model.backbone.init_cfg is None
        assert recipe.weights in text
        assert cfg.load_from == f'checkpoints/{name[:-3]}.pth'
        assert '--kind dino' in text and f'--config configs/mmdet/{name}' in text


def _base_text(name):
    base = _load(name).filename
    bases = re.findall(r"_base_ = '\./(.+?)'", open(base).read())
    return ''.join(open(os.path.join(CONFIG_DIR, b)).read() for b in bases)


@pytest.mark.parametrize('name', [
    'dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py', 'dino-4scale_focalnet-l-fl3_8xb2-12e_coco.py',
    'dino-4scale_focalnet-l-fl4_detrex-12e_coco.py'
])
def test_full_size_model_has_the_expected_parameters_and_wiring(name):
    """Full size on the meta device. The transformer and heads are counted against mmdet's own Swin-L DINO config
    with the same backbone and levels: identical apart from the input projections' conv biases."""
    recipe, cfg = RECIPES[name], _load(name)
    with torch.device('meta'):
        model = MODELS.build(dict(copy.deepcopy(cfg.model), backbone=dict(cfg.model.backbone, init_cfg=None)))
    backbone = model.backbone
    out_norms = sum(2 * 192 * 2**i for i in backbone.out_indices) / 1e6
    backbone_m = sum(p.numel() for p in backbone.parameters()) / 1e6
    assert backbone_m == pytest.approx(BACKBONE_M[recipe.arch] + out_norms, abs=0.01)
    assert backbone.arch_settings['normalize_modulator'] is recipe.normalize_modulator
    assert backbone.arch_settings['use_postln'] and backbone.arch_settings['use_layerscale']
    assert backbone.patch_embed.proj.kernel_size == (7, 7) and backbone.patch_embed.proj.padding == (2, 2)

    swin = Config.fromfile(
        os.path.join(
            os.path.dirname(__import__('mmdet').__file__), '.mim', 'configs', 'dino',
            'dino-5scale_swin-l_8xb2-12e_coco.py')).model
    swin.backbone = dict(cfg.model.backbone, init_cfg=None)  # Swin's drop-path schedule cannot run on meta
    levels = recipe.levels
    swin.num_feature_levels = levels
    swin.neck.update(in_channels=cfg.model.neck.in_channels, num_outs=levels)
    swin.encoder.layer_cfg.self_attn_cfg.num_levels = levels
    swin.decoder.layer_cfg.cross_attn_cfg.num_levels = levels
    with torch.device('meta'):
        reference = MODELS.build(swin)
    assert _non_backbone_parameters(model) == _non_backbone_parameters(reference) + levels * 256  # conv biases

    with torch.no_grad():
        features = model.extract_feat(torch.empty(1, 3, 256, 320, device='meta'))
    assert [tuple(f.shape) for f in features] == [(1, 256, 256 // s, 320 // s) for s in (4, 8, 16, 32, 64)][-levels:]


def _non_backbone_parameters(detector):
    return sum(p.numel() for name, p in detector.named_parameters() if not name.startswith('backbone.'))


@pytest.fixture(scope='module')
def tiny_coco_dir(tmp_path_factory):
    return write_tiny_coco(tmp_path_factory.mktemp('tiny_coco'), num_train=2, num_val=1)


@pytest.fixture(scope='module', autouse=True)
def one_thread(one_cpu_thread):
    """One intra-op thread: faster than two on the shared CPU."""


@pytest.mark.parametrize('name', CONFIGS)
def test_config_trains_one_iteration_and_evaluates_with_coco_metrics(name, tiny_coco_dir, monkeypatch):
    """The config's own DINO head, losses, optimizer, data pipeline and CocoMetric, on images 1/8 of the recipe's
    size, with the backbone shrunk to one block of 32 channels per stage and 50 queries (a 60 x 60 crop has 85
    feature positions at strides 8-64, fewer than 900)."""
    monkeypatch.chdir(tiny_coco_dir)  # the configs' data_root 'data/coco/' finds the tiny dataset
    set_random_seed(0)
    cfg = _load(name)
    cfg.merge_from_dict(tiny_run_options(cfg, factor=8))
    cfg.load_from = None
    backbone = cfg.model.backbone
    backbone.update(depths=[1, 1, 1, 1], embed_dims=32)
    cfg.model.neck.in_channels = [32 * 2**i for i in backbone.out_indices]
    cfg.model.num_queries = 50
    adapt_to_cpu(cfg, launcher='none')

    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'DINO' and type(model.backbone).__name__ == 'FocalNet'
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    backbone_group = next(
        g for g in optim_wrapper.optimizer.param_groups
        if any(p is model.backbone.patch_embed.proj.weight for p in g['params']))
    assert backbone_group['lr'] == pytest.approx(1e-5)  # lr x 0.1 on the backbone
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader)))
    before = model.backbone.patch_embed.proj.weight.detach().clone()
    losses = model.train_step(batch, optim_wrapper)
    assert math.isfinite(losses['loss']) and losses['loss'] > 0
    assert 'dn_loss_cls' in losses and 'enc_loss_bbox' in losses  # denoising and two-stage losses both ran
    assert not torch.equal(model.backbone.patch_embed.proj.weight, before)

    def check_outputs(outputs):
        assert len(outputs[0].pred_instances.bboxes) == 300

    metrics = evaluate_on_test_loader(model, cfg, check_outputs)
    assert 0 <= metrics['coco/bbox_mAP'] <= 1, metrics
