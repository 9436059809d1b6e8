"""transformers' FocalNet weights, as the hub holds them, converted and loaded: the same logits and features.

Every reference model is built by transformers itself from a small ``FocalNetConfig``, its weights perturbed, and
saved as ``save_pretrained`` writes it (safetensors) or as the microsoft/focalnet-* repositories hold it
(``config.json`` + a pickled ``pytorch_model.bin``).
"""
import pytest
import torch
from hub_models import arch_from_hf_config, hf_config, max_difference, our_classifier, perturb_, save_hub_directory
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from transformers import FocalNetForImageClassification, FocalNetForMaskedImageModeling, FocalNetModel

from mmfocalnet.models import FocalNet

REPO_CONFIGS = __import__('pathlib').Path(__file__).resolve().parents[2] / 'configs'

# transformers FocalNetConfig flags -> what they exercise; each in the layout of FocalNetForImageClassification.
FLAG_CASES = {
    'srf-1000-classes':
    dict(focal_levels=[2] * 4, num_labels=1000),
    'lrf':
    dict(focal_levels=[3] * 4),
    'fl4-normalized-modulator':
    dict(focal_levels=[4] * 4, normalize_modulator=True),
    'conv-embed-postnorm-layerscale':
    dict(
        use_conv_embed=True, use_post_layernorm=True, use_layerscale=True, focal_levels=[3] * 4, focal_windows=[5] * 4),
    'huge-flags-21842-classes':
    dict(
        use_conv_embed=True,
        use_post_layernorm=True,
        use_layerscale=True,
        use_post_layernorm_in_modulation=True,
        focal_levels=[3] * 4,
        num_labels=21842),
    'levels-and-windows-per-stage':
    dict(focal_levels=[2, 3, 4, 2], focal_windows=[3, 5, 3, 3]),
}
ODD_INPUT = (2, 3, 45, 71)  # not a multiple of the strides: both pad on the right and bottom


def _hf_classifier(**flags):
    return perturb_(FocalNetForImageClassification(hf_config(**flags)))


def _convert(convert_keys, src, dst, *options):
    assert convert_keys([str(src), str(dst), *options]) == 0
    return torch.load(dst, weights_only=True)


@pytest.mark.parametrize('container', ['safetensors', 'bin'])
@pytest.mark.parametrize('flags', FLAG_CASES.values(), ids=FLAG_CASES.keys())
def test_classifier_converts_and_gives_the_same_logits(flags, container, convert_keys, tmp_path, capsys):
    hf_model = _hf_classifier(**flags)
    source = save_hub_directory(hf_model, tmp_path / 'hub', container)
    converted = _convert(convert_keys, source, tmp_path / 'converted.pth')
    out = capsys.readouterr().out

    model = our_classifier(arch_from_hf_config(hf_model.config), hf_model.config.num_labels)
    model.load_state_dict(converted['state_dict'], strict=True)
    image = torch.randn(*ODD_INPUT)
    with torch.no_grad():
        difference = max_difference(model(image, mode='tensor'), hf_model(image).logits)
    assert difference <= 1e-4
    weight_file = 'model.safetensors' if container == 'safetensors' else 'pytorch_model.bin'
    assert f'source: transformers layout, {"safetensors" if container == "safetensors" else "pickle"} ' \
           f'({source / weight_file} with config.json)' in out
    assert f'head: {hf_model.config.num_labels} classes' in out
    assert converted['meta']['source_format'] == 'transformers'


def test_hub_sized_tiny_is_recognised_and_fits_our_config_strictly(convert_keys, tmp_path, capsys):
    """transformers' default FocalNetConfig is microsoft/focalnet-tiny's architecture (focalnet-tiny config)."""
    hf_model = perturb_(FocalNetForImageClassification(hf_config(embed_dim=96, depths=(2, 2, 6, 2), num_labels=1000)))
    source = save_hub_directory(hf_model, tmp_path / 'focalnet-tiny', 'safetensors')
    converted = _convert(convert_keys, source, tmp_path / 'focalnet_tiny_srf_mmpretrain.pth')
    out = capsys.readouterr().out
    assert 'variant: tiny_srf (depths [2, 2, 6, 2], 96 channels, focal levels 2, windows 3); head: 1000 classes' in out
    assert 'fits strictly: configs/mmpretrain/focalnet_t_srf_in1k.py' in out

    cfg = Config.fromfile(str(REPO_CONFIGS / 'mmpretrain' / 'focalnet_t_srf_in1k.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model).eval()
    model.load_state_dict(converted['state_dict'], strict=True)
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert max_difference(model(image, mode='tensor'), hf_model(image).logits) <= 1e-4


def _stage_features(hf_base_model, image):
    """transformers' stage outputs before each downsample, NCHW: what our detection backbone returns.

    Read from transformers' own stages: its encoder's ``output_hidden_states_before_downsampling`` reshapes them
    with the size after the downsample and fails (transformers 5.24)."""
    hidden, size = hf_base_model.embeddings(image)
    features = []
    for stage in hf_base_model.encoder.stages:
        hidden, before_downsample, output_size = stage(hidden, size)
        features.append(before_downsample.view(image.shape[0], *size, -1).permute(0, 3, 1, 2))
        size = output_size[-2:]
    return features


@pytest.mark.parametrize(
    'model_class', [FocalNetModel, FocalNetForMaskedImageModeling],
    ids=['FocalNetModel', 'FocalNetForMaskedImageModeling'])
def test_base_and_pretraining_models_initialise_a_detection_backbone(model_class, convert_keys, tmp_path, capsys):
    config = hf_config(focal_levels=[3] * 4, use_layerscale=True)
    hf_model = perturb_(model_class(config))
    source = save_hub_directory(hf_model, tmp_path / 'hub', 'safetensors')
    _convert(convert_keys, source, tmp_path / 'backbone.pth', '--kind', 'det')
    out = capsys.readouterr().out
    if model_class is FocalNetForMaskedImageModeling:
        assert 'focalnet.embeddings.mask_token' in out and 'decoder.0.weight' in out  # reported as dropped
    assert 'classification checkpoint' in out and '-> detection backbone' in out

    backbone = FocalNet(
        arch=arch_from_hf_config(config),
        drop_path_rate=0.0,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'backbone.pth')))
    backbone.init_weights()
    backbone.eval()
    image = torch.randn(*ODD_INPUT)
    base = hf_model if model_class is FocalNetModel else hf_model.focalnet
    with torch.no_grad():
        expected = _stage_features(base, image)
        ours = [stage.permute(0, 3, 1, 2) for _, stage in backbone.forward_stages(image)]
    assert len(ours) == len(expected) == 4
    assert max(max_difference(a, b) for a, b in zip(ours, expected)) <= 1e-4


def test_backbone_checkpoint_initialises_a_detector_backbone_with_windows_adapted(tmp_path, mmengine_log):
    """FocalNetBackbone's save, used directly (no conversion) by a detection backbone with the official detection
    windows and one more level: kernels zero-padded into the centre, new gates zero, as the official loader."""
    from transformers import FocalNetBackbone
    config = hf_config(focal_levels=[2] * 4)
    hf_model = perturb_(FocalNetBackbone(config))
    source = save_hub_directory(hf_model, tmp_path / 'hub', 'safetensors')
    backbone = FocalNet(
        arch=arch_from_hf_config(config),
        focal_windows=9,
        focal_levels=3,
        init_cfg=dict(type='Pretrained', checkpoint=str(source)))
    backbone.init_weights()

    hf_kernel = hf_model.state_dict()['focalnet.encoder.stages.1.layers.0.modulation.focal_layers.1.0.weight']
    ours = backbone.state_dict()['layers.1.blocks.0.modulation.focal_layers.1.0.weight']
    assert ours.shape[-1] == 11 and torch.equal(ours[..., 3:8, 3:8], hf_kernel)
    around_the_centre = ours.clone()
    around_the_centre[..., 3:8, 3:8] = 0
    assert not around_the_centre.any()
    hf_rows = hf_model.state_dict()['focalnet.encoder.stages.0.layers.0.modulation.projection_in.weight']
    rows = backbone.state_dict()['layers.0.blocks.0.modulation.f.weight']
    dims = config.embed_dim
    assert torch.equal(rows[:2 * dims + 2], hf_rows[:-1]) and torch.equal(rows[-1], hf_rows[-1])
    assert not rows[2 * dims + 2].any()  # the new level's gate starts at zero
    assert any('(transformers layout)' in line for line in mmengine_log)
    assert any('focal kernel 5x5 -> 11x11 (zero-padded around the centre)' in line for line in mmengine_log)


@pytest.mark.parametrize('form', ['dict', 'list'])
def test_pretrained_init_reads_a_hub_directory_directly(form, tmp_path):
    config = hf_config(focal_levels=[3] * 4, use_post_layernorm=True, use_layerscale=True)
    hf_model = perturb_(FocalNetForImageClassification(config))
    source = str(save_hub_directory(hf_model, tmp_path / 'hub', 'bin'))
    pretrained = dict(type='Pretrained', checkpoint=source)
    # In a list, mmengine applies the other entries first; the checkpoint then overwrites what it holds.
    init_cfg = pretrained if form == 'dict' else [dict(type='Constant', layer='LayerNorm', val=3.0), pretrained]
    backbone = FocalNet(
        arch=arch_from_hf_config(config), drop_path_rate=0.0, out_indices=-1, final_norm=True, init_cfg=init_cfg)
    backbone.init_weights()
    backbone.eval()
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = hf_model.focalnet(image).last_hidden_state
        (ours, ) = backbone(image)
    assert max_difference(ours.flatten(2).transpose(1, 2), expected) <= 1e-4


def test_a_backbone_built_with_other_parameter_free_flags_is_warned(tmp_path, mmengine_log):
    config = hf_config(focal_levels=[4] * 4, normalize_modulator=True)
    source = str(
        save_hub_directory(
            _hf_classifier(focal_levels=[4] * 4, normalize_modulator=True), tmp_path / 'h', 'safetensors'))
    arch = dict(arch_from_hf_config(config), normalize_modulator=False)
    FocalNet(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=source)).init_weights()
    assert any(
        f'{source} was computed with normalize_modulator=True, but this backbone has normalize_modulator=False' in line
        for line in mmengine_log)


def test_round_trip_to_transformers_gives_the_same_logits(convert_keys, tmp_path, capsys):
    """transformers -> ours -> --to hf: transformers' from_pretrained loads the directory, same logits. The flags
    that have no parameters (post-norm) travel in the converted file's meta."""
    hf_model = _hf_classifier(
        use_conv_embed=True,
        use_post_layernorm=True,
        use_layerscale=True,
        use_post_layernorm_in_modulation=True,
        focal_levels=[3, 3, 4, 4])
    source = save_hub_directory(hf_model, tmp_path / 'hub', 'safetensors')
    _convert(convert_keys, source, tmp_path / 'ours.safetensors')
    assert convert_keys([str(tmp_path / 'ours.safetensors'), str(tmp_path / 'published'), '--to', 'hf']) == 0
    out = capsys.readouterr().out
    written_by_us = tmp_path / 'ours.safetensors'
    assert f'source: written by this tool (from the transformers layout), safetensors ({written_by_us})' in out
    assert f'wrote {tmp_path / "published"} (hub model directory: model.safetensors, config.json)' in out

    reloaded = FocalNetForImageClassification.from_pretrained(str(tmp_path / 'published')).eval()
    assert reloaded.config.use_post_layernorm and reloaded.config.use_post_layernorm_in_modulation
    image = torch.randn(*ODD_INPUT)
    with torch.no_grad():
        assert max_difference(reloaded(image).logits, hf_model(image).logits) <= 1e-4
