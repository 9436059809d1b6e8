"""Our FocalNet against HuggingFace transformers' FocalNetModel, an independent implementation."""
import pytest
import torch
from helpers.hf_reference import build_hf_model, copy_weights_to_hf, randomize_

from mmfocalnet.models import FocalNet

TOLERANCE = 1e-4

# Small depths keep the test fast; every flag HF supports appears at least once.
CASES = {
    'tiny_srf': dict(arch='tiny_srf', depths=[1, 1, 2, 1]),
    'tiny_lrf': dict(arch='tiny_lrf', depths=[1, 1, 2, 1]),
    'det_windows_9_levels_3': dict(arch='tiny_lrf', depths=[1, 1, 2, 1], focal_windows=9),
    'cascade_windows_11_9_9_7': dict(arch='tiny_srf', depths=[1, 1, 1, 1], focal_windows=[11, 9, 9, 7]),
    'post_norm': dict(arch='tiny_srf', depths=[1, 1, 1, 1], use_postln=True),
    'layer_scale': dict(arch='tiny_srf', depths=[1, 1, 1, 1], use_layerscale=True),
    'conv_embed': dict(arch='tiny_srf', depths=[1, 1, 1, 1], use_conv_embed=True),
    'normalize_modulator': dict(arch='tiny_srf', depths=[1, 1, 1, 1], normalize_modulator=True),
    'postln_in_modulation': dict(arch='tiny_srf', depths=[1, 1, 1, 1], use_postln_in_modulation=True),
    'large_fl4_flags': dict(arch='large_fl4', embed_dims=32, depths=[1, 1, 1, 1]),
    'huge_fl3_flags': dict(arch='huge_fl3', embed_dims=32, depths=[1, 1, 1, 1]),
    'iso': dict(arch='tiny_iso', embed_dims=48, depths=[3]),
}
SIZES = {'224': (224, 224), 'odd': (197, 263)}


def build_pair(kwargs):
    ours = FocalNet(**kwargs, final_norm=True, out_indices=-1, drop_path_rate=0.0).eval()
    randomize_(ours)
    hf_model = build_hf_model(ours)
    copy_weights_to_hf(ours, hf_model)
    return ours, hf_model


@pytest.mark.parametrize('size', SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize('kwargs', CASES.values(), ids=CASES.keys())
def test_final_features_match_hf(kwargs, size):
    ours, hf_model = build_pair(kwargs)
    image = torch.randn(2, 3, *size)
    with torch.no_grad():
        (out, ) = ours(image)
        reference = hf_model(image).last_hidden_state
    batch, channels, height, width = out.shape
    reference = reference.transpose(1, 2).reshape(batch, channels, height, width)
    max_diff = (out - reference).abs().max().item()
    print(f'max abs diff {max_diff:.2e}')
    assert max_diff <= TOLERANCE
    # A loose check that the comparison is not vacuous: features must differ between images.
    assert (out[0] - out[1]).abs().max() > 1e-2


@pytest.mark.parametrize('size', SIZES.values(), ids=SIZES.keys())
def test_every_stage_output_matches_hf_before_downsampling(size):
    ours, hf_model = build_pair(CASES['det_windows_9_levels_3'])
    image = torch.randn(1, 3, *size)
    with torch.no_grad():
        x = ours.patch_embed(image)
        stage_outputs = []
        for stage in ours.layers:
            before, x = stage(x)
            stage_outputs.append(before.permute(0, 3, 1, 2))
        # Each HF stage returns (next input, output before its downsample, output size); HF's own
        # output_hidden_states_before_downsampling path reshapes with the wrong size, so it is not used.
        hidden, dims = hf_model.embeddings(image)
        hf_outputs = []
        for hf_stage in hf_model.encoder.stages:
            next_hidden, before, out_dims = hf_stage(hidden, dims)
            height, width = dims
            hf_outputs.append(before.transpose(1, 2).reshape(1, -1, height, width))
            hidden, dims = next_hidden, out_dims[-2:]
    assert len(hf_outputs) == len(stage_outputs) == 4
    for ours_map, hf_map in zip(stage_outputs, hf_outputs):
        assert ours_map.shape == hf_map.shape
        assert (ours_map - hf_map).abs().max().item() <= TOLERANCE
