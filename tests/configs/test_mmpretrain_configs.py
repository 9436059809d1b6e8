"""The fifteen mmpretrain 1.x FocalNet classification configs: the official recipe, their exact parameter
counts, one training iteration plus one evaluation each on a tiny ImageNet-layout dataset (mmpretrain's own
``ImageNet`` / ``ImageNet21k`` classes and ``Accuracy``), ``tools/train.py`` routing, and the official-checkpoint
conversion path up to mmpretrain's inferencer."""
import copy
import functools
import glob
import importlib
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from helpers.hf_reference import build_hf_model, copy_weights_to_hf, randomize_
from helpers.tiny_configs import (config_path, run_train_tool, shallow_backbone, tiny_cls_config,
                                  train_one_iteration_and_evaluate)
from helpers.tiny_datasets import make_imagenet
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS, PARAM_SCHEDULERS

from mmfocalnet.checkpoint import convert_to_mmengine
from mmfocalnet.models import FOCALNET_ARCHS, FocalNet

# Expected values, from the official classification release (reference facts B): arch, the yaml's drop path
# rate, classes, head width (last stage channels), parameters in M with the head ("calc", which reproduces the
# README to 0.1 M) and the resolution of the released model.
EXPECTED = {
    'focalnet_t_srf_in1k': dict(arch='tiny_srf', dpr=0.2, classes=1000, width=768, params_m=28.43, size=224),
    'focalnet_t_lrf_in1k': dict(arch='tiny_lrf', dpr=0.2, classes=1000, width=768, params_m=28.65, size=224),
    'focalnet_s_srf_in1k': dict(arch='small_srf', dpr=0.3, classes=1000, width=768, params_m=49.89, size=224),
    'focalnet_s_lrf_in1k': dict(arch='small_lrf', dpr=0.3, classes=1000, width=768, params_m=50.34, size=224),
    'focalnet_b_srf_in1k': dict(arch='base_srf', dpr=0.5, classes=1000, width=1024, params_m=88.15, size=224),
    'focalnet_b_lrf_in1k': dict(arch='base_lrf', dpr=0.5, classes=1000, width=1024, params_m=88.75, size=224),
    'focalnet_t_iso_in1k': dict(arch='tiny_iso', dpr=0.2, classes=1000, width=192, params_m=5.88, size=224),
    'focalnet_s_iso_in1k': dict(arch='small_iso', dpr=0.2, classes=1000, width=384, params_m=22.38, size=224),
    'focalnet_b_iso_in1k': dict(arch='base_iso', dpr=0.2, classes=1000, width=768, params_m=87.24, size=224),
    'focalnet_l_fl3_in22k': dict(arch='large_fl3', dpr=0.5, classes=21842, width=1536, params_m=239.13, size=384),
    'focalnet_l_fl4_in22k': dict(arch='large_fl4', dpr=0.5, classes=21842, width=1536, params_m=239.32, size=384),
    'focalnet_xl_fl3_in22k': dict(arch='xlarge_fl3', dpr=0.5, classes=21842, width=2048, params_m=408.79, size=384),
    'focalnet_xl_fl4_in22k': dict(arch='xlarge_fl4', dpr=0.5, classes=21842, width=2048, params_m=409.03, size=384),
    'focalnet_h_fl3_in22k': dict(arch='huge_fl3', dpr=0.5, classes=21842, width=2816, params_m=745.28, size=224),
    'focalnet_h_fl4_in22k': dict(arch='huge_fl4', dpr=0.5, classes=21842, width=2816, params_m=747.99, size=224),
}
IN1K = [name for name in EXPECTED if name.endswith('in1k')]
IN22K = [name for name in EXPECTED if name.endswith('in22k')]
# A full-size model takes 10-30 s per training iteration on a busy 2-core CPU (the 22K ones far more), so only
# FocalNet-T SRF trains and converts at full size here. The other 1K configs run with one block per stage; the 22K
# ones also with 32 channels (the 21,842-class head stays). Every config's full-size model is built and run on the
# meta device by test_full_size_model_has_official_parameter_count_and_wiring, and its full-size official key
# layout is loaded strictly by test_full_size_official_keys_convert_to_the_config_model.
FULL_SIZE_RUN = 'focalnet_t_srf_in1k'


def shrink(cfg, name):
    """The model size each config trains and converts with in these tests (see above)."""
    if name in IN22K:
        return shallow_backbone(cfg, embed_dims=32)
    if name != FULL_SIZE_RUN:
        return shallow_backbone(cfg)
    return cfg


@functools.lru_cache(maxsize=None)
def _parse(name):
    return Config.fromfile(config_path('mmpretrain', f'{name}.py'))


def load(name):
    """A fresh copy of a config, parsed once per module: for each `mmpretrain::` base of a config mmengine rescans
    mmpretrain's metafiles (configs/mmpretrain/README.md), and the tests here read a config many times."""
    return copy.deepcopy(_parse(name))


def build_model(cfg):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def imagenet_root(tmp_path_factory):
    return make_imagenet(str(tmp_path_factory.mktemp('imagenet')), {'train': [0, 999], 'val': [3, 500]})


@pytest.fixture(scope='module')
def imagenet22k_root(tmp_path_factory):
    return make_imagenet(str(tmp_path_factory.mktemp('imagenet22k')), {'train': [0, 21841], 'val': [7, 15000]})


def test_every_mmpretrain_config_is_covered():
    found = {osp.splitext(osp.basename(p))[0] for p in glob.glob(config_path('mmpretrain', '*.py'))}
    # The Focal Transformer configs are covered by test_focal_transformer_configs.py.
    assert {name for name in found if 'focal_transformer' not in name} == set(EXPECTED)


@pytest.mark.parametrize('name', EXPECTED)
def test_config_sets_official_model_and_resolution(name):
    cfg, expected = load(name), EXPECTED[name]
    backbone, head = cfg.model.backbone, cfg.model.head
    assert (backbone.type, backbone.arch, backbone.drop_path_rate) == ('FocalNet', expected['arch'], expected['dpr'])
    assert backbone.final_norm and backbone.out_indices == -1
    assert cfg.model.neck.type == 'GlobalAveragePooling'
    assert (head.type, head.num_classes, head.in_channels) == ('LinearClsHead', expected['classes'], expected['width'])
    assert cfg.data_preprocessor.num_classes == expected['classes']
    size = expected['size']
    train_crop = cfg.train_dataloader.dataset.pipeline[1]
    assert (train_crop.type, train_crop.scale, train_crop.interpolation) == ('RandomResizedCrop', size, 'bicubic')
    resize, crop = cfg.val_dataloader.dataset.pipeline[1:3]
    # The official evaluation keeps the 224 crop ratio at every size: short side int(256 / 224 * size).
    assert (resize.type, resize.edge, resize.interpolation) == ('ResizeEdge', 'short', 'bicubic')
    assert (resize.scale, crop.crop_size) == (int(256 / 224 * size), size)
    dataset = cfg.train_dataloader.dataset
    if expected['classes'] == 1000:
        assert (dataset.type, dataset.data_root) == ('ImageNet', 'data/imagenet')
    else:
        assert (dataset.type, dataset.ann_file) == ('ImageNet21k', 'meta/train.txt')
        assert cfg.val_dataloader.dataset.ann_file == 'meta/val.txt'


def test_configs_share_official_training_recipe():
    """One check of the recipe every config inherits (facts A.5, official config.py)."""
    cfg = load('focalnet_t_srf_in1k')
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports == dict(imports=['mmfocalnet'], allow_failed_imports=False)
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.weight_decay, optimizer.eps, optimizer.betas) == ('AdamW', 0.05, 1e-8, (0.9,
                                                                                                              0.999))
    assert optimizer.lr == pytest.approx(1e-4 * 1024 / 512)  # BASE_LR for 512 images, 8 GPUs x 128
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=5.0)
    assert cfg.train_dataloader.batch_size == 128 and cfg.auto_scale_lr.base_batch_size == 1024
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.model.head.loss == dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')
    assert cfg.model.train_cfg.augments == [dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]
    _, flip, rand_augment, erasing, _ = cfg.train_pipeline[1:]
    assert flip.prob == 0.5
    assert (rand_augment.type, rand_augment.policies, rand_augment.num_policies, rand_augment.magnitude_level,
            rand_augment.magnitude_std) == ('RandAugment', 'timm_increasing', 2, 9, 0.5)  # rand-m9-mstd0.5-inc1
    assert (erasing.type, erasing.erase_prob, erasing.mode) == ('RandomErasing', 0.25, 'rand')


def test_learning_rate_follows_official_warmup_and_cosine():
    """Replays the schedule with 2 iterations per epoch: 1e-6 at the start (WARMUP_LR 5e-7 scaled to 1024
    images), 2e-4 after 5 epochs, then cosine down to 1e-5 (MIN_LR 5e-6 scaled) at epoch 300."""
    cfg = load('focalnet_t_srf_in1k')
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.optim_wrapper.optimizer.lr)
    iters_per_epoch = 2
    schedulers = []
    for scheduler_cfg in cfg.param_scheduler:
        kwargs = dict(scheduler_cfg)
        scheduler_class = PARAM_SCHEDULERS.get(kwargs.pop('type'))
        assert kwargs.pop('convert_to_iter_based')  # per iteration, as the official timm scheduler
        schedulers.append(scheduler_class.build_iter_from_epoch(optimizer, epoch_length=iters_per_epoch, **kwargs))
    rates = []
    for _ in range(300 * iters_per_epoch):
        rates.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    rates.append(optimizer.param_groups[0]['lr'])
    peak = 5 * iters_per_epoch
    assert rates[0] == pytest.approx(1e-6)
    assert rates[peak] == pytest.approx(2e-4, rel=1e-3)
    assert rates[-1] == pytest.approx(1e-5, rel=1e-3)  # mmengine's recursive cosine drifts by ~1e-4
    assert all(a < b for a, b in zip(rates[:peak - 1], rates[1:peak]))  # the warm-up peaks at its last step
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1:]))


def test_weight_decay_spares_one_dimensional_parameters():
    """What we chose over the official {''} quirk (facts A.5): decay 0.05 on matrices and kernels, none on
    norms, biases and layer scales (the Swin rule the official code intends)."""
    cfg = load('focalnet_l_fl3_in22k')  # layer scale and conv stem: every kind of parameter
    model = build_model(shallow_backbone(cfg, embed_dims=32))
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(p): group['weight_decay'] for group in optim_wrapper.param_groups for p in group['params']}
    for name, param in model.named_parameters():
        assert decay[id(param)] == (0.05 if param.ndim > 1 else 0.0), name
    params = dict(model.named_parameters())
    assert decay[id(params['backbone.layers.0.blocks.0.gamma_1'])] == 0.0
    assert decay[id(params['backbone.layers.0.blocks.0.modulation.focal_layers.0.0.weight'])] == 0.05


@pytest.mark.parametrize('name', EXPECTED)
def test_full_size_model_has_official_parameter_count_and_wiring(name):
    """Built on the meta device (the huge models hold 750 M parameters) and run on a meta batch, which checks the
    head's input width against the backbone's output at full size."""
    expected = EXPECTED[name]
    with torch.device('meta'):
        model = build_model(load(name))
        logits = model(torch.empty(2, 3, 64, 64), mode='tensor')
    assert model.backbone.final_norm and hasattr(model.backbone, 'norm')
    assert model.backbone.depths == list(FOCALNET_ARCHS[expected['arch']]['depths'])
    assert logits.shape == (2, expected['classes'])
    millions = sum(p.numel() for p in model.parameters()) / 1e6
    assert millions == pytest.approx(expected['params_m'], abs=0.006)


def _train_one_iteration_and_evaluate(cfg):
    runner = train_one_iteration_and_evaluate(
        cfg, {
            'backbone': lambda model: model.backbone.layers[0].blocks[0].modulation.f.weight,
            'head': lambda model: model.head.fc.weight,
        },
        metric='val/accuracy/top1')
    assert runner.model.head.fc.out_features == cfg.model.head.num_classes


@pytest.mark.parametrize('name', IN1K)
def test_in1k_config_trains_one_iteration_and_evaluates(name, imagenet_root, tmp_path):
    cfg = tiny_cls_config(config_path('mmpretrain', f'{name}.py'), imagenet_root, str(tmp_path))
    _train_one_iteration_and_evaluate(shrink(cfg, name))


@pytest.mark.parametrize('name', IN22K)
def test_in22k_config_trains_one_iteration_and_evaluates(name, imagenet22k_root, tmp_path):
    cfg = tiny_cls_config(config_path('mmpretrain', f'{name}.py'), imagenet22k_root, str(tmp_path))
    _train_one_iteration_and_evaluate(shrink(cfg, name))


@pytest.fixture(scope='module')
def convert_keys():
    """The command line of tools/convert_keys.py, run in this process (no new interpreter per config)."""
    return importlib.import_module('tools.convert_keys').main


def test_tools_train_routes_an_mmpretrain_config_to_mmpretrain(imagenet_root, tmp_path, monkeypatch):
    """``tools/train.py CONFIG --cfg-options ...`` as a user runs it: 2 iterations, then mmpretrain's Accuracy."""
    config = config_path('mmpretrain', f'{FULL_SIZE_RUN}.py')
    options = [
        f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
        for key in (f'dataset.data_root={imagenet_root}', 'num_workers=0', 'persistent_workers=False', 'batch_size=2')
    ] + [
        'train_dataloader.dataset.pipeline.1.scale=32', 'val_dataloader.dataset.pipeline.1.scale=36',
        'val_dataloader.dataset.pipeline.2.crop_size=32', 'model.backbone.depths=[1,1,1,1]', 'train_cfg.max_epochs=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint=None', 'default_hooks.logger.interval=1'
    ]
    records = run_train_tool(config, tmp_path / 'work', options, monkeypatch)
    assert [record['iter'] for record in records if 'loss' in record] == [1, 2]
    assert any('accuracy/top1' in record for record in records)


def _official_classifier_file(cfg, path):
    """Writes a random classifier in the official layout, ``{'model': {patch_embed..., norm..., head...}}``.

    Returns:
        tuple[FocalNet, torch.nn.Linear]: the backbone and head whose weights were written.
    """
    kwargs = {key: value for key, value in cfg.model.backbone.items() if key != 'type'}
    backbone = FocalNet(**kwargs).eval()
    randomize_(backbone)
    head = torch.nn.Linear(cfg.model.head.in_channels, cfg.model.head.num_classes)
    state = dict(backbone.state_dict(), **{f'head.{key}': value for key, value in head.state_dict().items()})
    torch.save({'model': state, 'epoch': 299, 'max_accuracy': 80.0}, path)
    return backbone, head


@pytest.mark.parametrize('name', EXPECTED)
def test_converted_official_checkpoint_loads_strictly_and_keeps_logits(name, convert_keys, tmp_path):
    cfg = shrink(load(name), name)
    official_file, converted_file = str(tmp_path / 'official.pth'), str(tmp_path / 'converted.pth')
    backbone, head = _official_classifier_file(cfg, official_file)
    image = torch.randn(2, 3, 64, 64)
    # Logits before conversion, from HF's independent FocalNet under the official names (every HF parameter
    # must be covered) and the official head: final norm, average pooling, linear.
    hf_model = build_hf_model(backbone)
    copy_weights_to_hf(backbone, hf_model)
    with torch.no_grad():
        expected = F.linear(hf_model(image).last_hidden_state.mean(1), head.weight, head.bias)

    assert convert_keys([official_file, converted_file, '--kind', 'cls']) == 0
    model = build_model(cfg).eval()
    load_checkpoint(model, converted_file, map_location='cpu', strict=True)  # raises on any missing key
    with torch.no_grad():
        logits = model(image, mode='tensor')
    assert logits.shape == (2, cfg.model.head.num_classes)
    assert (logits - expected).abs().max().item() <= 1e-4


@pytest.mark.parametrize('name', EXPECTED)
def test_full_size_official_keys_convert_to_the_config_model(name):
    """Every key and shape of the full-size official layout, converted, fits the config's model exactly."""
    cfg = load(name)
    with torch.device('meta'):
        backbone = FocalNet(**{key: value for key, value in cfg.model.backbone.items() if key != 'type'})
        head = torch.nn.Linear(cfg.model.head.in_channels, cfg.model.head.num_classes)
        model = build_model(cfg)
    official = dict(backbone.state_dict(), **{f'head.{key}': value for key, value in head.state_dict().items()})
    converted, _ = convert_to_mmengine({'model': official}, f'{name}.pth', kind='cls')
    model.load_state_dict(converted['state_dict'], strict=True, assign=True)


def test_image_classification_inferencer_takes_config_and_converted_checkpoint(convert_keys, tmp_path):
    """The README's route: official .pth -> tools/convert_keys.py -> mmpretrain's own inferencer."""
    from mmpretrain import ImageClassificationInferencer
    cfg = shallow_backbone(load(FULL_SIZE_RUN))
    official_file, converted_file = str(tmp_path / 'official.pth'), str(tmp_path / 'converted.pth')
    _official_classifier_file(cfg, official_file)
    assert convert_keys([official_file, converted_file, '--kind', 'cls']) == 0
    image = torch.randint(0, 256, (60, 80, 3), dtype=torch.uint8).numpy()
    # mmpretrain's inferencer builds its pipeline in the current default scope, which an earlier mmseg test in
    # this process may have left set; a script using only mmpretrain needs no such guard.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        inferencer = ImageClassificationInferencer(model=cfg, pretrained=converted_file, device='cpu')
        (result, ) = inferencer(image)
    assert len(result['pred_scores']) == 1000
    assert result['pred_label'] == result['pred_scores'].argmax()
    assert isinstance(result['pred_class'], str)  # ImageNet class names come with the config's dataset
