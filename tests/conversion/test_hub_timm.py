"""timm's FocalNet weights, as the hub holds them, converted and loaded: the same logits; and back to timm.

The reference models come from timm's own entry points and factory: the full-size ``focalnet_tiny_srf`` as
``timm.create_model`` builds it, and every entry point family with fewer blocks and channels (its arguments read
from the entry point itself). timm is NCHW and floors sizes that are not multiples of the strides, so inputs here
are multiples of 32.
"""
import json

import pytest
import timm
import torch
from hub_models import arch_from_timm_arguments, build_timm_family, max_difference, our_classifier, perturb_
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from official_files import OfficialClassifier
from timm.models import save_for_hf
from timm.models.focalnet import checkpoint_filter_fn

from mmfocalnet.models import FocalNet

REPO_CONFIGS = __import__('pathlib').Path(__file__).resolve().parents[2] / 'configs'
IMAGE_SIZE = (2, 3, 64, 96)
# One entry point per family of flags: srf / lrf (T/S/B), large and xlarge (conv stem, post-norm, layer scale;
# fl3 with window 5, fl4 with 4 levels), huge (plus the norm inside the modulation; huge_fl4 ships without head).
FAMILIES = [
    'focalnet_tiny_srf', 'focalnet_base_lrf', 'focalnet_large_fl3', 'focalnet_xlarge_fl4', 'focalnet_huge_fl3',
    'focalnet_huge_fl4'
]


def _timm_logits_or_features(model, image):
    with torch.no_grad():
        return model(image) if model.num_classes else model.forward_features(image)


def _our_outputs(arch, num_classes, state_dict, image):
    if num_classes:
        model = our_classifier(arch, num_classes)
        model.load_state_dict(state_dict, strict=True)
        with torch.no_grad():
            return model(image, mode='tensor')
    backbone = FocalNet(arch=arch, drop_path_rate=0.0, out_indices=-1, final_norm=True).eval()
    backbone.load_state_dict({key[len('backbone.'):]: value for key, value in state_dict.items()}, strict=True)
    with torch.no_grad():
        return backbone(image)[0]


@pytest.mark.parametrize('entry_point', FAMILIES)
def test_every_entry_point_family_converts_and_gives_the_same_outputs(entry_point, monkeypatch, convert_keys, tmp_path,
                                                                      capsys):
    num_classes = 0 if entry_point == 'focalnet_huge_fl4' else 11
    model, kwargs = build_timm_family(entry_point, monkeypatch, num_classes=num_classes)
    # timm's own hub writer: model.safetensors, pytorch_model.bin and config.json naming the entry point; the
    # shrunk sizes go in model_args, as timm records changed arguments.
    save_for_hf(
        model,
        tmp_path / 'hub',
        safe_serialization='both',
        model_args=dict(depths=kwargs['depths'], embed_dim=kwargs['embed_dim']))
    assert convert_keys([str(tmp_path / 'hub'), str(tmp_path / 'converted.pth')]) == 0
    out = capsys.readouterr().out
    assert f'source: timm layout, safetensors ({tmp_path / "hub" / "model.safetensors"} with config.json)' in out

    image = torch.randn(*IMAGE_SIZE)
    converted = torch.load(tmp_path / 'converted.pth', weights_only=True)
    ours = _our_outputs(arch_from_timm_arguments(kwargs), num_classes, converted['state_dict'], image)
    assert max_difference(ours, _timm_logits_or_features(model, image)) <= 1e-4


def test_full_size_tiny_from_create_model_fits_our_config(convert_keys, tmp_path, capsys):
    model = perturb_(timm.create_model('focalnet_tiny_srf', pretrained=False))
    save_for_hf(model, tmp_path / 'focalnet_tiny_srf.ms_in1k', safe_serialization=True)
    weights = tmp_path / 'focalnet_tiny_srf.ms_in1k' / 'model.safetensors'
    assert convert_keys([str(weights), str(tmp_path / 'converted.pth')]) == 0
    out = capsys.readouterr().out.splitlines()
    assert 'variant: tiny_srf (depths [2, 2, 6, 2], 96 channels, focal levels 2, windows 3); head: 1000 classes' in out
    assert 'fits strictly: configs/mmpretrain/focalnet_t_srf_in1k.py' in out
    assert '  layers.N+1.* -> backbone.layers.N.*  (12 keys, e.g. layers.1.downsample.norm.bias -> ' \
           'backbone.layers.0.downsample.norm.bias)' in out  # timm's downsample opens the next stage

    cfg = Config.fromfile(str(REPO_CONFIGS / 'mmpretrain' / 'focalnet_t_srf_in1k.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        ours = MODELS.build(cfg.model).eval()
    ours.load_state_dict(torch.load(tmp_path / 'converted.pth', weights_only=True)['state_dict'], strict=True)
    image = torch.randn(*IMAGE_SIZE)
    with torch.no_grad():
        assert max_difference(ours(image, mode='tensor'), model(image)) <= 1e-4


def test_weights_without_config_are_read_from_their_shapes(monkeypatch, convert_keys, tmp_path, capsys):
    model, kwargs = build_timm_family('focalnet_huge_fl3', monkeypatch, num_classes=5)
    torch.save(model.state_dict(), tmp_path / 'pytorch_model.bin')  # a timm .bin alone, without config.json
    assert convert_keys([str(tmp_path / 'pytorch_model.bin'), str(tmp_path / 'converted.pth')]) == 0
    out = capsys.readouterr().out
    assert f'source: timm layout, pickle ({tmp_path / "pytorch_model.bin"})' in out
    # Layer scale, conv stem and the modulation's norm show in the shapes; post-norm does not.
    assert 'layer scale' in out and 'conv stem' in out and 'norm in modulation' in out
    assert 'note: use_postln and normalize_modulator cannot be read from the weights; assumed False' in out


@pytest.mark.parametrize('entry_point', ['focalnet_tiny_srf', 'focalnet_huge_fl4'])
def test_our_mapping_agrees_with_timms_checkpoint_filter(entry_point, monkeypatch):
    """Independent cross-check of both directions: timm's own checkpoint_filter_fn turns an official-layout dict
    into exactly the tensors our mapping gives, and ours maps them back to the official dict."""
    from mmfocalnet.checkpoint import get_spec
    timm_format = next(fmt for fmt in get_spec('FocalNet').source_formats if fmt.name == 'timm')
    model, kwargs = build_timm_family(entry_point, monkeypatch, num_classes=6)
    arch = arch_from_timm_arguments(kwargs)
    official = perturb_(OfficialClassifier(arch, num_classes=6)).state_dict()

    theirs = checkpoint_filter_fn({'model': dict(official)}, model)
    ours, _ = timm_format.from_official(official, dict(arch, patch_size=4, mlp_ratio=4.0))
    assert sorted(ours) == sorted(theirs) == sorted(model.state_dict())
    assert all(torch.equal(ours[key], theirs[key]) for key in ours)
    model.load_state_dict(ours, strict=True)
    back, _, dropped = timm_format.to_official(theirs, None)
    assert list(back) == list(official) and not dropped
    assert all(torch.equal(back[key], official[key]) for key in official)


def test_round_trip_to_timm_loads_through_timms_own_hub_reader(convert_keys, tmp_path, capsys):
    """timm -> ours -> --to timm DIR: timm.create_model('local-dir:DIR') reads config.json and the weights."""
    model = perturb_(timm.create_model('focalnet_tiny_srf', pretrained=False))
    save_for_hf(model, tmp_path / 'hub', safe_serialization=True)
    assert convert_keys([str(tmp_path / 'hub'), str(tmp_path / 'ours.safetensors')]) == 0
    assert convert_keys([str(tmp_path / 'ours.safetensors'), str(tmp_path / 'published'), '--to', 'timm']) == 0
    assert 'hub model directory: model.safetensors, config.json' in capsys.readouterr().out
    assert json.loads((tmp_path / 'published' / 'config.json').read_text())['architecture'] == 'focalnet_tiny_srf'

    reloaded = timm.create_model(f'local-dir:{tmp_path / "published"}', pretrained=True).eval()
    image = torch.randn(*IMAGE_SIZE)
    with torch.no_grad():
        assert max_difference(reloaded(image), model(image)) <= 1e-4


def test_large_fl4_notes_that_timm_leaves_the_modulator_unnormalised():
    """Full-size shapes on the meta device (no memory): timm's config.json for large_fl4 against our table."""
    from mmfocalnet.checkpoint import get_spec
    spec = get_spec('FocalNet')
    timm_format = next(fmt for fmt in spec.source_formats if fmt.name == 'timm')
    with torch.device('meta'):
        official = OfficialClassifier('large_fl4', num_classes=21842).state_dict()
    declared = timm_format.declared_arch({'architecture': 'focalnet_large_fl4', 'num_classes': 21842})
    arch = spec.describe_weights(official, '', declared, {}, 'model.safetensors')
    assert arch.variant == 'large_fl4' and arch.num_classes == 21842
    assert arch.settings['normalize_modulator'] is False and arch.declared['normalize_modulator'] is False
    assert arch.notes == [
        "the source computes normalize_modulator=False, our arch 'large_fl4' has "
        'normalize_modulator=True: add normalize_modulator=False to the backbone config to '
        'reproduce the source model'
    ]
