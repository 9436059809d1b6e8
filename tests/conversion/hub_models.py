"""Random FocalNets built by transformers and timm themselves, saved as the hub lays them out, and our classifier.

The reference models come from the libraries' own classes and entry points; the only knowledge written here is
how each library's arguments name the architecture, so that our classifier can be built independently of the
converter under test.
"""
import json
import os

import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS


def perturb_(model):
    """Moves every norm, bias and layer scale away from its symmetric initial value (ones, zeros, 1e-4), so that
    a comparison cannot pass by symmetry; the library's random weights stay."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            parts = name.split('.')
            if parts[-1].startswith('gamma'):
                param.uniform_(0.5, 1.5)
            elif any('norm' in part or part == 'ln' for part in parts[:-1]):
                param.normal_(1.0 if parts[-1] == 'weight' else 0.0, 0.2)
            elif parts[-1] == 'bias':
                param.normal_(0.0, 0.02)
    return model.eval()


def hf_config(embed_dim=8, depths=(1, 1, 2, 1), num_labels=7, **flags):
    """A small transformers ``FocalNetConfig``; ``flags`` are its own field names."""
    from transformers import FocalNetConfig
    dims = [embed_dim * 2**min(i + 1, len(depths) - 1) for i in range(len(depths))]
    return FocalNetConfig(
        embed_dim=embed_dim, depths=list(depths), hidden_sizes=dims, num_labels=num_labels, drop_path_rate=0.0, **flags)


def arch_from_hf_config(config):
    """Our FocalNet arch for a transformers config (the field names of transformers' FocalNetConfig)."""
    return dict(
        depths=list(config.depths),
        embed_dims=config.embed_dim,
        focal_levels=list(config.focal_levels),
        focal_windows=list(config.focal_windows),
        use_conv_embed=config.use_conv_embed,
        use_layerscale=config.use_layerscale,
        use_postln=config.use_post_layernorm,
        use_postln_in_modulation=config.use_post_layernorm_in_modulation,
        normalize_modulator=config.normalize_modulator)


def save_hub_directory(model, directory, container, config=None):
    """Writes ``model`` as a hub model directory: transformers' ``save_pretrained`` (safetensors), or, as the
    microsoft/focalnet-* repositories hold it, ``config.json`` beside a pickled ``pytorch_model.bin``.

    For timm models pass the ``config`` dict to write (timm's own ``save_for_hf`` writes it for safetensors)."""
    os.makedirs(directory, exist_ok=True)
    if container == 'bin':
        torch.save(model.state_dict(), os.path.join(directory, 'pytorch_model.bin'))
        if config is None:
            model.config.save_pretrained(directory)
        else:
            with open(os.path.join(directory, 'config.json'), 'w') as file:
                json.dump(config, file)
    else:
        model.save_pretrained(directory)
    return directory


def timm_entry_point_arguments(name, monkeypatch):
    """The arguments timm's entry point ``name`` passes to its FocalNet factory, read from the entry point."""
    import timm.models.focalnet as timm_focalnet
    captured = {}

    def capture(variant, pretrained=False, **kwargs):
        captured.update(kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(timm_focalnet, '_create_focalnet', capture)
        getattr(timm_focalnet, name)(pretrained=False)
    return captured


def build_timm_family(name, monkeypatch, embed_dim=8, depths=(1, 1, 2, 1), **overrides):
    """timm's FocalNet of entry point ``name`` through its own factory, with fewer blocks and channels."""
    import timm.models.focalnet as timm_focalnet
    kwargs = dict(
        timm_entry_point_arguments(name, monkeypatch),
        embed_dim=embed_dim,
        depths=list(depths),
        drop_path_rate=0.0,
        **overrides)
    return perturb_(timm_focalnet._create_focalnet(name, pretrained=False, **kwargs)), kwargs


def arch_from_timm_arguments(kwargs):
    """Our FocalNet arch for timm FocalNet constructor arguments (timm's defaults where not given)."""
    levels, windows = kwargs.get('focal_levels', (2, 2, 2, 2)), kwargs.get('focal_windows', (3, 3, 3, 3))
    return dict(
        depths=list(kwargs['depths']),
        embed_dims=kwargs['embed_dim'],
        focal_levels=list(levels),
        focal_windows=list(windows),
        use_conv_embed=kwargs.get('use_overlap_down', False),
        use_layerscale=kwargs.get('layerscale_value') is not None,
        use_postln=kwargs.get('use_post_norm', False),
        use_postln_in_modulation=kwargs.get('use_post_norm_in_modulation', False),
        normalize_modulator=kwargs.get('normalize_modulator', False))


def our_classifier(arch, num_classes):
    """Our mmpretrain ImageClassifier (FocalNet with the final norm, average pooling, a linear head), eval mode."""
    embed_dims = arch['embed_dims']
    cfg = dict(
        type='ImageClassifier',
        backbone=dict(type='FocalNet', arch=arch, drop_path_rate=0.0, out_indices=-1, final_norm=True),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=embed_dims * 2**(len(arch['depths']) - 1)))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg).eval()


def max_difference(actual, expected):
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return (actual - expected).abs().max().item()
