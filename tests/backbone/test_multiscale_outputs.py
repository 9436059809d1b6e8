"""Multi-scale outputs, freezing, checkpointing, layer depths and the stateless capture path."""
import doctest

import pytest
import torch
from torch import nn

import mmfocalnet.models.backbones.focalnet.focalnet as focalnet_module
from mmfocalnet.models import FocalNet

SMALL = dict(arch='tiny_srf', depths=[1, 1, 2, 1], embed_dims=16, drop_path_rate=0.0)


@pytest.mark.parametrize('size', [(64, 96), (67, 93)])
def test_outputs_have_strides_4_8_16_32_and_doubling_channels(size):
    model = FocalNet(**SMALL).eval()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, *size))
    assert len(outs) == 4
    for i, out in enumerate(outs):
        stride = 4 * 2**i
        # Padded to the stride, as the official detection backbone: ceil, never drops edge pixels.
        expected = (2, 16 * 2**i, -(-size[0] // stride), -(-size[1] // stride))
        assert tuple(out.shape) == expected
        assert out.is_contiguous()


def test_negative_out_indices_select_stages_and_only_their_norms_exist():
    model = FocalNet(**SMALL, out_indices=(1, -1)).eval()
    assert model.out_indices == (1, 3)
    assert hasattr(model, 'norm1') and hasattr(model, 'norm3')
    assert not hasattr(model, 'norm0') and not hasattr(model, 'norm2')
    outs = model(torch.rand(1, 3, 64, 64))
    assert [out.shape[1] for out in outs] == [32, 128]


def test_output_norms_are_applied_to_each_stage_output():
    model = FocalNet(**SMALL, out_indices=(2, )).eval()
    with torch.no_grad():
        model.norm2.weight.fill_(0.0)
        model.norm2.bias.fill_(3.0)
        (out, ) = model(torch.rand(1, 3, 64, 64))
    assert torch.allclose(out, torch.full_like(out, 3.0))


def test_frozen_stages_freeze_the_stem_and_the_first_stages_and_stay_frozen_in_train():
    model = FocalNet(**SMALL, frozen_stages=2)
    model.train()
    frozen = [model.patch_embed, model.layers[0], model.layers[1], model.norm0, model.norm1]
    trainable = [model.layers[2], model.layers[3], model.norm2, model.norm3]
    for module in frozen:
        assert not module.training
        assert all(not p.requires_grad for p in module.parameters())
    for module in trainable:
        assert module.training
        assert all(p.requires_grad for p in module.parameters())
    sum(out.sum() for out in model(torch.rand(1, 3, 64, 64))).backward()
    assert all(p.grad is None for module in frozen for p in module.parameters())
    assert all(p.grad is not None for p in model.layers[2].parameters())


def test_frozen_stages_zero_freezes_only_the_stem():
    model = FocalNet(**SMALL, frozen_stages=0).train()
    assert all(not p.requires_grad for p in model.patch_embed.parameters())
    assert all(p.requires_grad for p in model.layers.parameters())


def test_with_cp_gives_identical_outputs_and_gradients():
    reference = FocalNet(**SMALL).train()
    checkpointed = FocalNet(**SMALL, with_cp=True).train()
    checkpointed.load_state_dict(reference.state_dict())
    image = torch.rand(2, 3, 64, 64)
    outs_ref = reference(image)
    outs_cp = checkpointed(image)
    for out_ref, out_cp in zip(outs_ref, outs_cp):
        assert torch.equal(out_ref, out_cp)
    sum(out.square().sum() for out in outs_ref).backward()
    sum(out.square().sum() for out in outs_cp).backward()
    for (name, p_ref), p_cp in zip(reference.named_parameters(), checkpointed.parameters()):
        assert torch.allclose(p_ref.grad, p_cp.grad, atol=1e-6, rtol=1e-5), name


def test_with_cp_checkpoints_only_when_gradients_are_needed(monkeypatch):
    calls = []
    original = torch.utils.checkpoint.checkpoint
    monkeypatch.setattr(torch.utils.checkpoint, 'checkpoint', lambda *a, **k: calls.append(1) or original(*a, **k))
    model = FocalNet(**SMALL, with_cp=True)
    with torch.no_grad():
        model(torch.rand(1, 3, 32, 32))
    assert calls == []
    model(torch.rand(1, 3, 32, 32))
    assert len(calls) == sum(SMALL['depths'])


def test_layer_depth_orders_stem_blocks_and_head_for_layerwise_decay():
    model = FocalNet(**SMALL)
    num_layers = sum(SMALL['depths']) + 2
    depth = lambda name: model.get_layer_depth(name, prefix='backbone.')
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
