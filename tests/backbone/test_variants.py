"""Every official variant builds from its name with the official parameter count."""
import pytest
import torch
from torch import nn

from mmfocalnet.models import FOCALNET_ARCHS, FocalNet

# "calc" column of the official variant table (parameters in millions, with the official classification head:
# final LayerNorm + Linear to 1000 classes, or 21,842 for the ImageNet-22k large/xlarge/huge models).
OFFICIAL_PARAMS_M = {
    'tiny_srf': 28.43,
    'tiny_lrf': 28.65,
    'small_srf': 49.89,
    'small_lrf': 50.34,
    'base_srf': 88.15,
    'base_lrf': 88.75,
    'tiny_iso': 5.88,
    'small_iso': 22.38,
    'base_iso': 87.24,
    'large_fl3': 239.13,
    'large_fl4': 239.32,
    'xlarge_fl3': 408.79,
    'xlarge_fl4': 409.03,
    'huge_fl3': 745.28,
    'huge_fl4': 747.99,
}
IN22K_VARIANTS = {'large_fl3', 'large_fl4', 'xlarge_fl3', 'xlarge_fl4', 'huge_fl3', 'huge_fl4'}


def test_the_arch_table_has_exactly_the_fifteen_official_variants():
    assert set(FOCALNET_ARCHS) == set(OFFICIAL_PARAMS_M)


@pytest.mark.parametrize('arch', sorted(OFFICIAL_PARAMS_M))
def test_parameter_count_with_official_head_matches_the_official_table(arch):
    # The meta device builds even the 750 M-parameter models instantly and without memory.
    with torch.device('meta'):
        backbone = FocalNet(arch=arch, final_norm=True, out_indices=-1)
        head = nn.Linear(backbone.num_features, 21842 if arch in IN22K_VARIANTS else 1000)
    count = sum(p.numel() for p in backbone.parameters()) + sum(p.numel() for p in head.parameters())
    print(f'{arch}: {count / 1e6:.2f} M')
    assert abs(count / 1e6 - OFFICIAL_PARAMS_M[arch]) <= 0.01


# Flags of the official table (facts B, "other flags"), every one stated: conv embed, layer scale, post-norm,
# post-norm in the modulation, normalised modulator (fl4 large/xlarge: the authors' DINO builder).
NO_FLAGS = dict(
    use_conv_embed=False,
    use_layerscale=False,
    use_postln=False,
    use_postln_in_modulation=False,
    normalize_modulator=False)
LARGE_FLAGS = dict(NO_FLAGS, use_conv_embed=True, use_layerscale=True, use_postln=True)


@pytest.mark.parametrize('arch, kernels, flags', [
    ('tiny_lrf', [3, 5, 7], NO_FLAGS),
    ('base_iso', [3, 5, 7], dict(NO_FLAGS, use_layerscale=True, use_postln=True)),
    ('large_fl3', [5, 7, 9], LARGE_FLAGS),
    ('large_fl4', [3, 5, 7, 9], dict(LARGE_FLAGS, normalize_modulator=True)),
    ('xlarge_fl4', [3, 5, 7, 9], dict(LARGE_FLAGS, normalize_modulator=True)),
    ('huge_fl3', [3, 5, 7], dict(LARGE_FLAGS, use_postln_in_modulation=True)),
])
def test_variant_flags_reach_the_blocks(arch, kernels, flags):
    with torch.device('meta'):
        model = FocalNet(arch=arch)
    assert {key: model.arch_settings[key] for key in flags} == flags
    block = model.layers[0].blocks[0]
    assert [layer[0].kernel_size[0] for layer in block.modulation.focal_layers] == kernels
    assert block.use_postln == flags['use_postln']
    assert block.modulation.normalize_modulator == flags['normalize_modulator']
    assert (block.modulation.ln is not None) == flags['use_postln_in_modulation']
    assert isinstance(block.gamma_1, nn.Parameter) == flags['use_layerscale']
    assert isinstance(block.gamma_2, nn.Parameter) == flags['use_layerscale']
    assert (model.patch_embed.proj.kernel_size[0] == 7) == flags['use_conv_embed']


def test_large_models_use_the_overlapped_stem_with_padding_2():
    with torch.device('meta'):
        model = FocalNet(arch='xlarge_fl3')
    stem = model.patch_embed.proj
    assert (stem.kernel_size, stem.stride, stem.padding) == ((7, 7), (4, 4), (2, 2))
    down = model.layers[0].downsample.proj
    assert (down.kernel_size, down.stride, down.padding) == ((3, 3), (2, 2), (1, 1))


def test_explicit_arguments_override_the_arch():
    model = FocalNet(arch='tiny_srf', focal_windows=[11, 9, 9, 7], focal_levels=3, depths=[1, 1, 1, 1])
    kernels = [[layer[0].kernel_size[0] for layer in stage.blocks[0].modulation.focal_layers] for stage in model.layers]
    assert kernels == [[11, 13, 15], [9, 11, 13], [9, 11, 13], [7, 9, 11]]
    assert model.layers[0].blocks[0].modulation.f.out_features == 2 * 96 + 3 + 1


def test_an_arch_dict_builds_and_is_checked_for_essential_keys():
    model = FocalNet(arch=dict(depths=[1, 1], embed_dims=16, focal_levels=[2, 3], focal_windows=3))
    assert model.stage_dims == [16, 32] and model.focal_levels == [2, 3]
    with pytest.raises(ValueError, match='essential keys.*focal_windows'):
        FocalNet(arch=dict(depths=[1, 1], embed_dims=16, focal_levels=2))
    with pytest.raises(ValueError, match='unknown keys.*window_size'):
        FocalNet(arch=dict(depths=[1], embed_dims=16, focal_levels=2, focal_windows=3, window_size=7))


@pytest.mark.parametrize('kwargs, message', [
    (dict(arch='tiny'), "arch 'tiny' is unknown"),
    (dict(focal_windows=4), 'focal_windows\\[0\\] must be a positive odd'),
    (dict(focal_levels=[2, 2]), 'focal_levels has 2 entries but the arch has 4 stages'),
    (dict(out_indices=(0, 4)), 'out_indices entry 4 is out of range'),
    (dict(out_indices=(3, -1)), 'name a stage twice'),
    (dict(frozen_stages=5), 'frozen_stages must be in \\[-1, 4\\]'),
    (dict(final_norm=True), 'final_norm=True returns the last stage only'),
])
def test_invalid_options_are_rejected_with_a_message_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FocalNet(**kwargs)
