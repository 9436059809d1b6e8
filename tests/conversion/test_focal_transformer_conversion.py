"""Official-layout Focal Transformer files: recognised, converted by tools/convert_keys.py, loaded strictly into
mmpretrain with the same logits, and fitted at load time when they initialise a detection or segmentation backbone
with other windows (facts file section 4)."""
import logging

import pytest
import torch
import torch.nn.functional as F
from helpers.tiny_configs import config_path
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from official_files import save_official_cls, save_official_downstream
from torch import nn

from mmfocalnet import FocalNet, FocalTransformer
from mmfocalnet.checkpoint import CheckpointError, find_backbone, load_checkpoint_file

RELEASED = ('tiny', 'tiny_useconv', 'small', 'small_useconv', 'base', 'base_useconv')
SMALL = dict(depths=[1, 1, 1, 1], embed_dims=16, num_heads=2)  # the variant's windows, levels and flags kept


def official_classifier(num_classes=7, **kwargs):
    """The official classification network: backbone, final ``norm`` and a ``head`` Linear, with the official
    classification keys at the root (not a subclass, so that the backbone contract test does not collect it)."""
    model = FocalTransformer(final_norm=True, out_indices=(-1, ), **kwargs)
    model.head = nn.Linear(model.num_features, num_classes)
    return model


def official_logits(model, image):
    """The official classifier's forward: final norm, token mean, head."""
    return model.head(model(image)[-1].mean((2, 3)))


def randomized(model):
    """Random values in every parameter: fresh bias tables are zero and norms are one, which would hide mistakes."""
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.2)
    return model


def image_classifier(backbone, num_classes):
    import mmpretrain.models  # noqa: F401  (registers ImageClassifier and its parts)
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=dict(type='FocalTransformer', final_norm=True, out_indices=(-1, ), **backbone),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=backbone['embed_dims'] * 8)))


@pytest.mark.parametrize('arch', RELEASED)
def test_official_classification_file_converts_and_loads_strict_with_the_same_logits(
        arch, tmp_path, convert_keys, capsys):
    settings = dict(arch=arch, **SMALL)
    official = randomized(official_classifier(**settings)).eval()
    src, dst = tmp_path / f'focal-{arch}-is224-ws7.pth', tmp_path / 'converted.pth'
    save_official_cls(src, official.state_dict())
    assert convert_keys([str(src), str(dst)]) == 0
    assert 'FocalTransformer classification checkpoint' in capsys.readouterr().out

    classifier = image_classifier(settings, 7).eval()
    load_checkpoint(classifier, str(dst), map_location='cpu', strict=True)
    image = torch.randn(2, 3, 61, 77)
    with torch.no_grad():
        torch.testing.assert_close(
            classifier(image, mode='tensor'), official_logits(official, image), rtol=0, atol=1e-6)


def test_full_size_focal_tiny_file_loads_strict_into_the_mmpretrain_config_model(tmp_path, convert_keys):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    official = randomized(official_classifier(arch='tiny', num_classes=1000)).eval()
    src, dst = tmp_path / 'focal-tiny-is224-ws7.pth', tmp_path / 'converted.pth'
    save_official_cls(src, official.state_dict())
    assert convert_keys([str(src), str(dst)]) == 0
    cfg = Config.fromfile(config_path('mmpretrain', 'focal_transformer_t_in1k.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        classifier = MODELS.build(cfg.model).eval()
    load_checkpoint(classifier, str(dst), map_location='cpu', strict=True)
    image = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(
            classifier(image, mode='tensor'), official_logits(official, image), rtol=0, atol=1e-5)


@pytest.mark.parametrize('toolbox, heads', [('mmdet', ['neck.lateral_convs.0.conv.weight', 'rpn_head.rpn_conv.weight']),
                                            ('mmseg', ['decode_head.conv_seg.weight'])])
def test_downstream_files_are_recognised_and_keep_their_keys(toolbox, heads, tmp_path, convert_keys, capsys):
    backbone = FocalTransformer(arch='tiny', expand_sizes=3, focal_windows=(15, 13, 9, 7), **SMALL)
    state_dict = {f'backbone.{key}': value for key, value in backbone.state_dict().items()}
    state_dict.update({key: torch.randn(4, 4) for key in heads})
    src, dst = tmp_path / f'{toolbox}.pth', tmp_path / 'converted.pth'
    save_official_downstream(src, state_dict, toolbox)
    assert convert_keys([str(src), str(dst)]) == 0
    kind = 'detection' if toolbox == 'mmdet' else 'segmentation'
    assert f'FocalTransformer {kind} checkpoint' in capsys.readouterr().out
    converted = torch.load(dst, weights_only=True)['state_dict']
    assert list(converted) == list(state_dict)


def test_focal_transformer_and_focalnet_files_are_told_apart():
    transformer = FocalTransformer(arch='tiny', **SMALL).state_dict()
    focalnet = FocalNet(arch='tiny_srf', depths=[1, 1, 1, 1], embed_dims=16).state_dict()
    assert find_backbone(transformer)[0].model_name == 'FocalTransformer'
    assert find_backbone(focalnet)[0].model_name == 'FocalNet'
    assert find_backbone({f'backbone.{k}': v for k, v in transformer.items()})[1] == 'backbone.'


def test_a_focalnet_file_is_refused_by_a_focal_transformer_backbone(tmp_path):
    path = tmp_path / 'focalnet_tiny_srf.pth'
    save_official_cls(path, FocalNet(arch='tiny_srf', depths=[1, 1, 1, 1], embed_dims=16).state_dict())
    model = FocalTransformer(arch='tiny', **SMALL, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError, match=r'focalnet_tiny_srf\.pth has no .*FocalTransformer.*attn\.qkv\.weight'):
        model.init_weights()


def test_a_missing_file_says_where_it_was_published(tmp_path):
    model = FocalTransformer(
        arch='tiny', **SMALL, init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'focal-tiny-is224-ws7.pth')))
    with pytest.raises(FileNotFoundError, match='focal-transformer/imagenet1k/focal-tiny-is224-ws7.pth'):
        model.init_weights()


@pytest.fixture
def classification_file(tmp_path):
    """A random official Focal-T-layout classification file (the released 224 structure, small widths)."""
    official = randomized(official_classifier(arch='tiny', **SMALL))
    path = tmp_path / 'focal-tiny-is224-ws7.pth'
    save_official_cls(path, official.state_dict())
    return path, official.state_dict()


def test_pretrained_detection_backbone_resizes_pooled_tables_and_logs_each(classification_file, mmengine_log):
    """The detection structure (surroundings in stage 3 too, focal windows 15/13/9/7) from a 224 file: the pooled
    tables are resized bilinearly per head, the stage-3 surrounding tables stay fresh, everything else is exact."""
    path, weights = classification_file
    backbone = FocalTransformer(
        arch='tiny',
        **SMALL,
        expand_sizes=3,
        focal_windows=(15, 13, 9, 7),
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    fresh_neighbours = backbone.layers[3].blocks[0].attn.relative_position_bias_table_to_neighbors.detach().clone()
    backbone.init_weights()

    state = backbone.state_dict()
    resized = {
        f'layers.{i}.blocks.0.attn.relative_position_bias_table_to_windows.0': (6 + old, 6 + new)
        for i, (old, new) in enumerate(zip((7, 5, 3, 1), (15, 13, 9, 7)))
    }
    for key, (old, new) in resized.items():
        heads = weights[key].shape[0]
        expected = F.interpolate(
            weights[key].view(1, heads, old, old), size=(new, new), mode='bilinear',
            align_corners=False).view(heads, new * new)
        torch.testing.assert_close(state[key], expected, rtol=0, atol=1e-6)
        assert any(line.startswith(key) and f'{old}x{old} -> {new}x{new}' in line for line in mmengine_log), key
    missing = 'layers.3.blocks.0.attn.relative_position_bias_table_to_neighbors'
    assert torch.equal(state[missing], fresh_neighbours)
    assert any(missing in line and 'keep their initialisation' in line for line in mmengine_log)
    for key, tensor in weights.items():
        if key in state and key not in resized and 'relative_position_index' not in key:
            assert torch.equal(state[key], tensor), key  # copied unchanged
    # The pooled index buffers are the model's own, for the new focal windows.
    assert tuple(state['layers.0.blocks.0.attn.relative_position_index_0'].shape) == (49, 225)


def test_loading_into_the_same_structure_changes_nothing_and_logs_no_resize(classification_file, mmengine_log):
    path, weights = classification_file
    backbone = FocalTransformer(arch='tiny', **SMALL, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    backbone.init_weights()
    for key, tensor in backbone.state_dict().items():
        if key.startswith('norm'):
            assert key not in weights  # norm0-3 of the detection layout; the file has the classifier's norm
        else:
            assert torch.equal(tensor, weights[key]), key
    assert not any('->' in line for line in mmengine_log)


def test_another_window_resizes_both_bias_tables_bicubic_and_bilinear(tmp_path, mmengine_log):
    """Window 7 -> 9 for a model without surroundings and with parameter-free pooling: the two tables that have
    a resizing rule are resized, each logged."""
    options = dict(arch='tiny', **SMALL, expand_sizes=0, focal_pool='mean', img_size=None)
    source = randomized(FocalTransformer(**options, window_size=7))
    path = tmp_path / 'window7.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}}, path)
    target = FocalTransformer(**options, window_size=9, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    target.init_weights()
    table = 'layers.1.blocks.0.attn.relative_position_bias_table'
    heads = 2
    expected = F.interpolate(
        source.state_dict()[table].t().reshape(1, heads, 13, 13), size=(17, 17), mode='bicubic',
        align_corners=False).reshape(heads, 289).t()
    torch.testing.assert_close(target.state_dict()[table], expected, rtol=0, atol=1e-6)
    assert any(line.startswith(f'{table}:') and '13x13 -> 17x17' in line and 'bicubic' in line for line in mmengine_log)
    assert any('to_windows.0' in line and '11x11 -> 13x13' in line and 'bilinear' in line for line in mmengine_log)


def test_tables_without_a_resizing_rule_are_an_error_naming_keys_and_shapes(classification_file):
    path, _ = classification_file
    backbone = FocalTransformer(
        arch='tiny', **SMALL, window_size=9, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointError) as error:
        backbone.init_weights()
    message = str(error.value)
    assert 'layers.0.blocks.0.attn.relative_position_bias_table_to_neighbors: checkpoint shape (1, 2, 49, 132) ' \
           'does not match the model shape (1, 2, 81, 180)' in message
    assert 'layers.0.blocks.0.pool_layers.0.weight: checkpoint shape (1, 49) does not match the model shape ' \
           '(1, 81)' in message


def test_the_official_file_reads_back_through_the_safe_loader(classification_file, caplog):
    path, weights = classification_file
    with caplog.at_level(logging.WARNING):
        loaded = load_checkpoint_file(str(path))
    assert list(loaded['model']) == list(weights)
