"""Classification weights (window 3, 2 levels) initialise a detection backbone (window 9, 3 levels) by the
official rule (facts file D.2), through every load path, and each adapted key is logged."""
import pytest
import torch
from mmengine.runner import load_checkpoint
from official_files import OfficialClassifier, randomize_, save_official_cls, small_arch
from torch import nn

from mmfocalnet import FocalNet
from mmfocalnet.checkpoint import CheckpointError

SRF = small_arch('tiny_srf', embed_dims=8)  # 2 levels, window 3


def detection_backbone(**overrides):
    """The official detection backbone layout: norm{i} per output, window 9 (here also 3 levels)."""
    return FocalNet(arch=SRF, **{'focal_levels': 3, 'focal_windows': 9, **overrides})


def official_rule_kernel(kernel, size):
    """Expected kernel: the pretrained one in the centre of a zero kernel of the new size."""
    expected = torch.zeros(kernel.shape[0], 1, size, size)
    offset = (size - kernel.shape[-1]) // 2
    expected[:, :, offset:offset + kernel.shape[-1], offset:offset + kernel.shape[-1]] = kernel
    return expected


def official_rule_rows(old, dims):
    """Expected f rows for 2 -> 3 levels: q, ctx and both level gates copied, the third gate zero, global last."""
    expected = torch.zeros(2 * dims + 4, *old.shape[1:])
    expected[:2 * dims] = old[:2 * dims]
    expected[2 * dims:2 * dims + 2] = old[2 * dims:2 * dims + 2]
    expected[2 * dims + 3] = old[2 * dims + 2]
    return expected


@pytest.fixture
def classifier_weights():
    return randomize_(OfficialClassifier(SRF)).state_dict()


def assert_official_rule(backbone, weights, untouched_level, prefix=''):
    for i, stage in enumerate(backbone.layers):
        dims = backbone.stage_dims[i]
        for j, block in enumerate(stage.blocks):
            name = f'{prefix}layers.{i}.blocks.{j}.modulation'
            for level in range(2):
                loaded = block.modulation.focal_layers[level][0].weight.detach()
                pretrained = weights[f'{name}.focal_layers.{level}.0.weight']
                assert torch.equal(loaded, official_rule_kernel(pretrained, 9 + 2 * level))
            for part in ('weight', 'bias'):
                loaded = getattr(block.modulation.f, part).detach()
                assert torch.equal(loaded, official_rule_rows(weights[f'{name}.f.{part}'], dims))
                assert not loaded[2 * dims + 2].any()  # the new level's gate starts closed
            if untouched_level is not None:  # the new level is not in the checkpoint: it keeps its initialisation
                assert torch.equal(block.modulation.focal_layers[2][0].weight, untouched_level[i][j])


def new_level_kernels(backbone):
    return [[block.modulation.focal_layers[2][0].weight.detach().clone() for block in stage.blocks]
            for stage in backbone.layers]


def adapted_keys(backbone, prefix=''):
    return [
        f'{prefix}layers.{i}.blocks.{j}.modulation.{part}' for i, stage in enumerate(backbone.layers)
        for j in range(len(stage.blocks))
        for part in ('f.weight', 'f.bias', 'focal_layers.0.0.weight', 'focal_layers.1.0.weight')
    ]


def test_load_state_dict_pads_kernels_expands_levels_and_logs_each_key(classifier_weights, mmengine_log):
    backbone = detection_backbone()
    untouched = new_level_kernels(backbone)
    result = backbone.load_state_dict(classifier_weights, strict=False)

    assert_official_rule(backbone, classifier_weights, untouched)
    assert sorted(result.unexpected_keys) == ['head.bias', 'head.weight', 'norm.bias', 'norm.weight']
    for key in adapted_keys(backbone):
        assert any(line.startswith(f'{key}: ') for line in mmengine_log), key
    assert any('focal kernel 3x3 -> 9x9 (zero-padded around the centre)' in line for line in mmengine_log)
    assert any('2 -> 3 focal levels' in line for line in mmengine_log)


def test_load_from_a_converted_file_adapts_a_detector_backbone(classifier_weights, tmp_path, convert_keys,
                                                               mmengine_log):
    official, converted = tmp_path / 'focalnet_tiny_srf.pth', tmp_path / 'converted.pth'
    save_official_cls(official, classifier_weights)
    assert convert_keys([str(official), str(converted)]) == 0
    detector = nn.Module()  # what Runner's load_from loads into: a model with the backbone at `backbone`
    detector.backbone = detection_backbone()
    untouched = new_level_kernels(detector.backbone)

    load_checkpoint(detector, str(converted), map_location='cpu', strict=False)

    weights = {'backbone.' + key: value for key, value in classifier_weights.items()}
    assert_official_rule(detector.backbone, weights, untouched, prefix='backbone.')
    for key in adapted_keys(detector.backbone, prefix='backbone.'):
        assert any(line.startswith(f'{key}: ') for line in mmengine_log), key


def test_pretrained_init_cfg_loads_an_official_file_with_a_yacs_config(classifier_weights, tmp_path, mmengine_log):
    official = tmp_path / 'focalnet_tiny_srf.pth'
    save_official_cls(official, classifier_weights)
    backbone = detection_backbone(init_cfg=dict(type='Pretrained', checkpoint=str(official)))
    backbone.init_weights()
    # init_weights applies the official initialisation before loading, so the new level's value is not known.
    assert_official_rule(backbone, classifier_weights, untouched_level=None)
    assert any('norm0.weight' in line and 'keep their initialisation' in line for line in mmengine_log)
    assert any('head.weight' in line and 'not used' in line for line in mmengine_log)


def test_narrower_windows_take_the_centre_crop(classifier_weights):
    wide = randomize_(FocalNet(arch=SRF, focal_windows=9))
    narrow = FocalNet(arch=SRF, focal_windows=7)
    narrow.load_state_dict(wide.state_dict(), strict=True)
    for wide_block, narrow_block in zip(wide.layers[0].blocks, narrow.layers[0].blocks):
        for level in range(2):
            kernel = wide_block.modulation.focal_layers[level][0].weight
            assert torch.equal(narrow_block.modulation.focal_layers[level][0].weight, kernel[:, :, 1:-1, 1:-1])


def test_fewer_focal_levels_is_an_error_naming_the_key():
    lrf = FocalNet(arch=small_arch('tiny_lrf', embed_dims=8))
    with pytest.raises(
            CheckpointError,
            match=r'layers\.0\.blocks\.0\.modulation\.f\.weight: the checkpoint has '
            r'3 focal levels but the model has 2'):
        FocalNet(arch=SRF).load_state_dict(lrf.state_dict())


def test_any_other_shape_mismatch_is_an_error_naming_keys_and_shapes():
    wider = FocalNet(arch=small_arch('tiny_srf', embed_dims=16))
    with pytest.raises(CheckpointError) as error:
        FocalNet(arch=SRF).load_state_dict(wider.state_dict(), strict=False)
    message = str(error.value)
    assert 'patch_embed.proj.weight: checkpoint shape (16, 3, 4, 4) does not match the model shape (8, 3, 4, 4)' \
        in message
    assert 'layers.3.blocks.0.mlp.fc2.weight' in message
