"""FocalNet specifics beyond the backbone contract (tests/backbone/test_backbone_contract.py): the stem-only freeze,
layer depths of its blocks and downsamples, the stateless capture taps and the docstring example."""
import doctest

import torch

import mmfocalnet.models.backbones.focalnet.focalnet as focalnet_module
from mmfocalnet.models import FocalNet

SMALL = dict(arch='tiny_srf', depths=[1, 1, 2, 1], embed_dims=16, drop_path_rate=0.0)


def test_frozen_stages_zero_freezes_only_the_stem():
    model = FocalNet(**SMALL, frozen_stages=0).train()
    assert all(not p.requires_grad for p in model.patch_embed.parameters())
    assert all(p.requires_grad for p in model.layers.parameters())


def test_layer_depth_orders_stem_blocks_and_head_for_layerwise_decay():
    model = FocalNet(**SMALL)
    num_layers = sum(SMALL['depths']) + 2

    def depth(name):
        return model.get_layer_depth(name, prefix='backbone.')

    assert depth('backbone.patch_embed.proj.weight') == (0, num_layers)
    assert depth('backbone.layers.0.blocks.0.norm1.weight') == (1, num_layers)
    assert depth('backbone.layers.2.blocks.1.mlp.fc1.weight') == (4 + 0, num_layers)
    assert depth('backbone.layers.2.downsample.proj.weight') == (4, num_layers)
    assert depth('backbone.norm3.weight') == (num_layers - 1, num_layers)
    assert depth('head.fc.weight') == (num_layers - 1, num_layers)


def test_capture_taps_expose_gates_and_modulator_without_storing_state():
    model = FocalNet(**SMALL, focal_levels=3).eval()
    modulation = model.layers[-1].blocks[-1].modulation
    captured = {}
    hooks = [
        modulation.gates_tap.register_forward_hook(lambda m, i, o: captured.__setitem__('gates', o)),
        modulation.modulator_tap.register_forward_hook(lambda m, i, o: captured.__setitem__('modulator', o)),
    ]
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 96))
    for hook in hooks:
        hook.remove()
    assert captured['gates'].shape == (1, 3 + 1, 2, 3)
    assert captured['modulator'].shape == (1, 2, 3, 128)
    # Stateless: no module keeps a tensor that is not a registered parameter or buffer.
    for module in model.modules():
        assert not [k for k, v in vars(module).items() if isinstance(v, torch.Tensor)]


def test_docstring_example_runs():
    result = doctest.testmod(focalnet_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 1 and result.failed == 0
