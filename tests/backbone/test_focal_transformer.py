"""FocalTransformer's variants, official layout, static structure, options and errors.

Expected numbers come from the official README and the reference notes' parameter formulas (facts file, section 1),
not from our code.
"""
import doctest
from collections import Counter

import pytest
import torch

import mmfocalnet.models.backbones.focal_transformer.focal_transformer as focal_transformer_module
from mmfocalnet.models import FOCAL_TRANSFORMER_ARCHS, FocalTransformer

# Per variant: the README's parameter count in M (with the 1000-class head), the exact count of the official
# modules at 224 px, and the backbone alone in the detection structure (surroundings in every stage, norm0-3, no
# final norm) with focal windows 7/5/3/1 and 15/13/9/7.
VARIANTS = {
    'tiny': (28.9, 28_880_380, 28_423_188, 28_443_828),
    'tiny_useconv': (30.8, 30_825_244, 30_368_052, 30_388_692),
    'small': (51.1, 51_141_940, 50_684_748, 50_726_124),
    'small_useconv': (53.1, 53_086_804, 52_629_612, 52_670_988),
    'base': (89.8, 89_815_400, 89_206_144, 89_261_312),
    'base_useconv': (93.3, 93_268_712, 92_659_456, 92_714_624),
}


def count(model):
    return sum(p.numel() for p in model.parameters())


def on_meta(**kwargs):
    with torch.device('meta'):
        return FocalTransformer(**kwargs)


def test_the_six_released_v1_variants_are_in_the_table():
    assert sorted(FOCAL_TRANSFORMER_ARCHS) == sorted(VARIANTS)


@pytest.mark.parametrize('arch', VARIANTS)
def test_classifier_parameter_count_equals_the_readme(arch):
    readme_m, exact, _, _ = VARIANTS[arch]
    model = on_meta(arch=arch, out_indices=-1, final_norm=True)
    total = count(model) + model.num_features * 1000 + 1000  # the official head
    assert total == exact
    assert round(total / 1e6, 1) == readme_m


@pytest.mark.parametrize('arch', VARIANTS)
def test_detection_structure_parameter_counts(arch):
    _, _, det, det_wide = VARIANTS[arch]
    assert count(on_meta(arch=arch, expand_sizes=3)) == det
    assert count(on_meta(arch=arch, expand_sizes=3, focal_windows=(15, 13, 9, 7))) == det_wide


def test_focal_tiny_state_dict_has_the_official_names_and_shapes():
    """Facts section 4: 220 backbone parameters (+ head), 34 buffers; stage 3 has no surroundings at 224."""
    model = FocalTransformer(arch='tiny', out_indices=-1, final_norm=True)
    state = model.state_dict()
    buffers = {name for name, _ in model.named_buffers()}
    assert len(state) - len(buffers) == 220 and len(buffers) == 34
    heads, dims = (3, 6, 12, 24), (96, 192, 384, 768)
    for i, depth in enumerate((2, 2, 6, 2)):
        for j in range(depth):
            block = f'layers.{i}.blocks.{j}.'
            c, h, fw = dims[i], heads[i], (7, 5, 3, 1)[i]
            expected = {
                'pool_layers.0.weight': (1, 49),
                'pool_layers.0.bias': (1, ),
                'attn.relative_position_bias_table': (169, h),
                'attn.relative_position_bias_table_to_windows.0': (h, (6 + fw)**2),
                'attn.qkv.weight': (3 * c, c),
                'attn.proj.weight': (c, c),
                'mlp.fc1.weight': (4 * c, c),
                'mlp.fc2.weight': (c, 4 * c),
                'attn.relative_position_index': (49, 49),
                'attn.relative_position_index_0': (49, fw * fw),
            }
            if i < 3:
                expected.update({
                    'attn.relative_position_bias_table_to_neighbors': (1, h, 49, 132),
                    'attn.valid_ind_rolled': (132, )
                })
            else:
                assert block + 'attn.relative_position_bias_table_to_neighbors' not in state
                assert block + 'attn.valid_ind_rolled' not in state
            for name, shape in expected.items():
                assert tuple(state[block + name].shape) == shape, block + name
        if i < 3:
            assert tuple(state[f'layers.{i}.downsample.proj.weight'].shape) == (2 * dims[i], dims[i], 2, 2)
            assert f'layers.{i}.downsample.norm.weight' in state
    assert tuple(state['patch_embed.proj.weight'].shape) == (96, 3, 4, 4)
    assert tuple(state['norm.weight'].shape) == (768, )
    assert not any('pre_norm' in key or 'gamma' in key for key in state)


def test_useconv_convolutions_are_k7s4p2_and_k3s2p1():
    model = FocalTransformer(arch='tiny_useconv', depths=[1, 1, 1, 1])
    stem, down = model.patch_embed.proj, model.layers[0].downsample.proj
    assert (stem.kernel_size, stem.stride, stem.padding) == ((7, 7), (4, 4), (2, 2))
    assert (down.kernel_size, down.stride, down.padding) == ((3, 3), (2, 2), (1, 1))


def test_rolled_slot_buffer_has_the_official_values():
    """Facts 2.3: 132 slots for w=7, e=3, summing to 12870, starting 4, 5, 6, 11, 12, 13 and ending at 191."""
    index = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1]).layers[0].blocks[0].attn.valid_ind_rolled
    assert index.numel() == 132 and index.sum().item() == 12870
    assert index[:6].tolist() == [4, 5, 6, 11, 12, 13] and index[-1].item() == 191


def test_rolled_surroundings_cover_the_13x13_ring_with_the_twelve_official_duplicates():
    """Facts 2.3: the 132 rolled keys cover the ring around the window (offsets -3..9), 120 distinct positions."""
    w, e = 7, 3
    index = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1]).layers[0].blocks[0].attn.valid_ind_rolled
    directions = {0: (e, e), 1: (e, -e), 2: (-e, e), 3: (-e, -e)}  # tl, tr, bl, br
    offsets = []
    for slot in index.tolist():
        group, r, c = slot // (w * w), slot % (w * w) // w, slot % w
        offsets.append((r + directions[group][0], c + directions[group][1]))
    ring = {(r, c) for r in range(-e, w + e) for c in range(-e, w + e) if not (0 <= r < w and 0 <= c < w)}
    assert set(offsets) == ring
    duplicated = sorted(pos for pos, n in Counter(offsets).items() if n == 2)
    assert duplicated == sorted([(r, 3) for r in (-3, -2, -1, 7, 8, 9)] + [(3, c) for c in (-3, -2, -1, 7, 8, 9)])


def test_pooled_index_of_focal_window_7_equals_the_window_index():
    attn = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1]).layers[0].blocks[0].attn
    assert torch.equal(attn.relative_position_index_0, attn.relative_position_index)


def test_fresh_tables_follow_the_official_initialisation():
    model = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1])
    model.init_weights()
    attn = model.layers[0].blocks[0].attn
    assert torch.count_nonzero(attn.relative_position_bias_table) == 0  # zeros, unlike Swin
    for table in (attn.relative_position_bias_table_to_neighbors, attn.relative_position_bias_table_to_windows[0]):
        # timm's trunc_normal_(std=.02), whose bounds are +-2 absolute: a plain normal of std 0.02 in effect.
        assert 0.015 < table.std().item() < 0.025 and abs(table.mean().item()) < 0.005
    pool = model.layers[0].blocks[0].pool_layers[0]
    assert not torch.allclose(pool.weight, torch.full_like(pool.weight, 1 / 49))  # the 1/s^2 fill is overwritten


@pytest.mark.parametrize('size', [(224, 224), (64, 64), (97, 131), (800, 1216)])
def test_structure_never_depends_on_the_input_size(size):
    model = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], embed_dims=16, num_heads=1).eval()
    before = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    with torch.no_grad():
        outs = model(torch.rand(1, 3, *size))
    assert [tuple(out.shape[2:]) for out in outs] == [(-(-size[0] // s), -(-size[1] // s)) for s in (4, 8, 16, 32)]
    assert {name: tuple(t.shape) for name, t in model.state_dict().items()} == before


def test_img_size_chooses_the_defaults_the_official_code_would():
    assert FocalTransformer(arch='tiny', depths=[1, 1, 1, 1]).expand_sizes == [3, 3, 3, 0]  # 224: stage 3 is 7x7
    at_384 = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], img_size=384)  # stage 3 is 12x12
    assert at_384.expand_sizes == [3, 3, 3, 3] and at_384.window_sizes == [7] * 4
    at_160 = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], img_size=160)  # stage 3 is 5x5: window 5
    assert at_160.window_sizes == [7, 7, 7, 5] and at_160.expand_sizes == [3, 3, 3, 0]
    assert tuple(at_160.layers[3].blocks[0].attn.relative_position_bias_table_to_windows[0].shape) == (24, 25)
    unclamped = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], img_size=None)
    assert unclamped.expand_sizes == [3, 3, 3, 3]


def test_explicit_expand_sizes_give_surrounding_tables_whatever_img_size():
    model = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], expand_sizes=3, img_size=224)
    assert model.expand_sizes == [3, 3, 3, 3]
    assert tuple(model.layers[3].blocks[0].attn.relative_position_bias_table_to_neighbors.shape) == (1, 24, 49, 132)
    without = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], expand_sizes=[3, 0, 3, 0])
    assert [hasattr(stage.blocks[0].attn, 'valid_ind_rolled') for stage in without.layers] == [1, 0, 1, 0]


def test_clamped_stages_do_not_shift_and_expand_layer_follows_the_official_parity():
    model = FocalTransformer(arch='tiny', depths=[2, 2, 2, 2], use_shift=True, expand_layer='even')
    assert [[block.shift_size for block in stage.blocks] for stage in model.layers] == [[0, 3]] * 3 + [[0, 0]]
    assert [[block.attn.expand_size for block in stage.blocks] for stage in model.layers] == [[0, 3]] * 3 + [[0, 0]]
    odd = FocalTransformer(arch='tiny', depths=[2, 2, 2, 2], expand_layer='odd', img_size=None)
    assert [block.attn.expand_size for block in odd.layers[0].blocks] == [3, 0]


def test_stages_outside_focal_stages_pool_nothing():
    model = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], focal_stages=[0, 2])
    assert [len(stage.blocks[0].pool_layers) for stage in model.layers] == [1, 0, 1, 0]
    assert [hasattr(stage.blocks[0].attn, 'relative_position_bias_table_to_windows')
            for stage in model.layers] == [True, False, True, False]


def test_three_focal_levels_add_the_official_second_pooled_level():
    attn = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], focal_levels=3).layers[0].blocks[0]
    assert [tuple(layer.weight.shape) for layer in attn.pool_layers] == [(1, 49), (1, 9)]  # floor(7 / 2) = 3
    # Level 1: kernel 2 * 3 + 3 = 9, taps from row/column 1 on: (7 + 1)^2 of them; table (7 + 7 + 2 - 2)^2.
    assert attn.attn.valid_ind_unfold_1.numel() == 64
    assert tuple(attn.attn.relative_position_bias_table_to_windows[1].shape) == (3, 14 * 14)
    assert tuple(attn.attn.relative_position_index_1.shape) == (49, 64)


def test_layer_scale_pre_norm_and_qk_scale_options():
    model = FocalTransformer(
        arch='tiny', depths=[1, 1, 1, 1], use_layerscale=True, layerscale_value=0.5, use_pre_norm=True, qk_scale=False)
    block = model.layers[0].blocks[0]
    assert torch.equal(block.gamma_1, torch.full((96, ), 0.5))
    assert isinstance(model.layers[0].downsample.pre_norm, torch.nn.GroupNorm)
    assert model.layers[0].downsample.pre_norm.num_groups == 1
    assert not hasattr(model.patch_embed, 'pre_norm')  # never the stem, as officially
    assert block.attn.scale == 32**-0.5  # False falls through to head_dims ** -0.5, as officially


def test_absolute_position_embedding_is_sized_for_img_size_and_resized_for_other_inputs():
    model = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], embed_dims=16, num_heads=1, ape=True, img_size=64).eval()
    assert tuple(model.absolute_pos_embed.shape) == (1, 256, 16)
    assert model.get_layer_depth('backbone.absolute_pos_embed', 'backbone.')[0] == 0
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 96, 80))
        stem = model.forward_stem(torch.rand(1, 3, 64, 64))
    assert tuple(outs[0].shape) == (1, 16, 24, 20) and tuple(stem.shape) == (1, 16, 16, 16)


def test_frozen_stem_freezes_the_absolute_position_embedding_too():
    model = FocalTransformer(
        arch='tiny', depths=[1, 1, 1, 1], embed_dims=16, num_heads=1, ape=True, img_size=64, frozen_stages=0).train()
    assert not model.absolute_pos_embed.requires_grad
    assert all(p.requires_grad for p in model.layers.parameters())


def test_training_forward_with_dropouts_and_stochastic_depth_runs_and_differs_from_eval():
    model = FocalTransformer(
        arch='tiny',
        depths=[1, 1, 2, 1],
        embed_dims=16,
        num_heads=2,
        drop_rate=0.1,
        attn_drop_rate=0.1,
        drop_path_rate=0.3,
        expand_sizes=3)
    image = torch.rand(2, 3, 64, 64)
    train_outs = model.train()(image)
    sum(out.sum() for out in train_outs).backward()
    with torch.no_grad():
        eval_outs = model.eval()(image)
    assert not torch.allclose(train_outs[-1], eval_outs[-1])
    assert all(p.grad is not None for p in model.layers[0].blocks[0].parameters())


@pytest.mark.parametrize('kwargs, message', [
    (dict(focal_windows=[7, 4, 3, 1]), r'focal_windows\[1\] must be a positive odd size, got 4'),
    (dict(focal_pool='avg'), r"focal_pool must be one of \('fc', 'conv', 'mean', 'max', 'none'\), got 'avg'"),
    (dict(expand_layer='every'), r"expand_layer must be one of \('all', 'even', 'odd'\), got 'every'"),
    (dict(num_heads=5), r'stage 0 has 96 channels, not a multiple of num_heads\[0\]=5'),
    (dict(focal_stages=[0, 4]), r'focal_stages \[4\] are not stages of a 4-stage arch'),
    (dict(ape=True, img_size=None), r'ape=True needs img_size'),
    (dict(window_size=[7, 7, 7]), r'window_size has 3 entries but the arch has 4 stages'),
    (dict(window_size=2, focal_levels=4), r'window 2 is too small for 4 focal levels'),
    (dict(arch='huge'), r"arch 'huge' is unknown"),
])
def test_bad_options_are_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FocalTransformer(**{'depths': [1, 1, 1, 1], **kwargs})


def test_docstring_example_runs():
    results = doctest.testmod(focal_transformer_module, optionflags=doctest.ELLIPSIS)
    assert results.attempted >= 1 and results.failed == 0
