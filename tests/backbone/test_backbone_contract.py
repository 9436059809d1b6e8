"""The contract every hierarchical backbone of this package keeps, checked on each of them.

Multi-scale outputs at odd input sizes, negative ``out_indices`` and their norms, freezing, ``with_cp``, state dict
and ``Pretrained`` round trips, layer depths for layer-wise decay, and builds from all three toolboxes' registries.
"""
import pytest
import torch
from helpers.backbones import SMALL_BACKBONES
from mmengine.registry import MODELS

from mmfocalnet.checkpoint import save_atomically
from mmfocalnet.models import HierarchicalBackbone


def _registered_backbones():
    """The backbones this package registers in mmengine's MODELS (not test-made subclasses of them)."""
    return {
        name: cls
        for name, cls in MODELS.module_dict.items()
        if isinstance(cls, type) and issubclass(cls, HierarchicalBackbone) and cls.__module__.startswith('mmfocalnet.')
    }


BACKBONES = sorted(_registered_backbones().items())


def build(cls, **overrides):
    return cls(**{**SMALL_BACKBONES[cls.__name__], **overrides})


def test_every_backbone_has_small_settings_for_this_test():
    assert BACKBONES, 'no registered backbone subclasses HierarchicalBackbone'
    assert sorted(SMALL_BACKBONES) == [name for name, _ in BACKBONES]


@pytest.fixture(params=[cls for _, cls in BACKBONES], ids=[name for name, _ in BACKBONES])
def backbone_cls(request):
    return request.param


@pytest.mark.parametrize('size', [(64, 96), (67, 93)])
def test_outputs_are_contiguous_nchw_maps_at_strides_4_to_32_rounded_up(backbone_cls, size):
    model = build(backbone_cls).eval()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, *size))
    assert len(outs) == model.num_stages == 4
    for i, out in enumerate(outs):
        stride = 4 * 2**i
        assert tuple(out.shape) == (2, model.stage_dims[i], -(-size[0] // stride), -(-size[1] // stride))
        assert out.is_contiguous()
    assert model.arch_settings['depths'] == list(SMALL_BACKBONES[backbone_cls.__name__]['depths'])


def test_negative_out_indices_select_stages_and_only_their_norms_exist(backbone_cls):
    model = build(backbone_cls, out_indices=(1, -1)).eval()
    assert model.out_indices == (1, 3)
    assert hasattr(model, 'norm1') and hasattr(model, 'norm3')
    assert not hasattr(model, 'norm0') and not hasattr(model, 'norm2')
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
    assert [out.shape[1] for out in outs] == [model.stage_dims[1], model.stage_dims[3]]


def test_output_norms_are_applied_to_each_stage_output(backbone_cls):
    model = build(backbone_cls, out_indices=(2, )).eval()
    with torch.no_grad():
        model.norm2.weight.fill_(0.0)
        model.norm2.bias.fill_(3.0)
        (out, ) = model(torch.rand(1, 3, 64, 64))
    assert torch.allclose(out, torch.full_like(out, 3.0))


def test_final_norm_is_the_classification_layout(backbone_cls):
    model = build(backbone_cls, final_norm=True, out_indices=-1)
    assert hasattr(model, 'norm') and not hasattr(model, 'norm3')
    with pytest.raises(ValueError, match='final_norm=True returns the last stage only'):
        build(backbone_cls, final_norm=True)


def test_frozen_stages_stay_frozen_in_train_and_get_no_gradients(backbone_cls):
    model = build(backbone_cls, frozen_stages=2).train()
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
    with pytest.raises(ValueError, match='frozen_stages must be in'):
        build(backbone_cls, frozen_stages=5)


def test_with_cp_gives_identical_outputs_and_gradients_and_checkpoints_only_with_gradients(backbone_cls, monkeypatch):
    reference = build(backbone_cls).train()
    checkpointed = build(backbone_cls, with_cp=True).train()
    checkpointed.load_state_dict(reference.state_dict())
    image = torch.rand(2, 3, 64, 64)
    calls = []
    original = torch.utils.checkpoint.checkpoint
    monkeypatch.setattr(torch.utils.checkpoint, 'checkpoint', lambda *a, **k: calls.append(1) or original(*a, **k))
    with torch.no_grad():
        checkpointed(image)
    assert calls == []
    outs_ref, outs_cp = reference(image), checkpointed(image)
    assert len(calls) == sum(checkpointed.depths)
    for out_ref, out_cp in zip(outs_ref, outs_cp):
        assert torch.equal(out_ref, out_cp)
    sum(out.square().sum() for out in outs_ref).backward()
    sum(out.square().sum() for out in outs_cp).backward()
    for (name, p_ref), p_cp in zip(reference.named_parameters(), checkpointed.parameters()):
        assert torch.allclose(p_ref.grad, p_cp.grad, atol=1e-6, rtol=1e-5), name


def test_state_dict_and_pretrained_init_cfg_round_trip(backbone_cls, tmp_path):
    source = build(backbone_cls).eval()
    with torch.no_grad():
        for param in source.parameters():
            param.add_(torch.randn_like(param) * 0.1)
    image = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        expected = source(image)

    copy = build(backbone_cls).eval()
    copy.load_state_dict(source.state_dict(), strict=True)
    path = tmp_path / 'backbone.pth'
    save_atomically({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}}, path)
    pretrained = build(backbone_cls, init_cfg=dict(type='Pretrained', checkpoint=str(path))).eval()
    pretrained.init_weights()
    with torch.no_grad():
        for model in (copy, pretrained):
            for out, ref in zip(model(image), expected):
                assert torch.equal(out, ref)


def test_layer_depths_rise_from_the_stem_through_the_blocks_to_the_head(backbone_cls):
    model = build(backbone_cls)
    num_layers = sum(model.depths) + 2
    depths = [model.get_layer_depth('backbone.' + name, prefix='backbone.') for name, _ in model.named_parameters()]
    assert all(total == num_layers for _, total in depths)
    block_depths = [
        model.get_layer_depth(f'backbone.layers.{i}.blocks.{j}.x', 'backbone.')[0]
        for i, depth in enumerate(model.depths) for j in range(depth)
    ]
    assert block_depths == list(range(1, sum(model.depths) + 1))
    assert model.get_layer_depth('backbone.patch_embed.proj.weight', 'backbone.')[0] == 0
    assert model.get_layer_depth('head.fc.weight', 'backbone.')[0] == num_layers - 1


@pytest.mark.parametrize('registry_module', ['mmdet.registry', 'mmseg.registry', 'mmpretrain.registry'])
def test_builds_from_each_toolbox_registry(backbone_cls, registry_module):
    registry = __import__(registry_module, fromlist=['MODELS']).MODELS
    model = registry.build(dict(type=backbone_cls.__name__, **SMALL_BACKBONES[backbone_cls.__name__]))
    assert type(model) is backbone_cls
