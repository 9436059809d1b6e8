"""Other FocalNet implementations built as copies of one of our backbones, for parity tests and benchmarks.

Test and benchmark code, not part of the library: ``tools/benchmark.py`` and the tests import it as
``tools.reference_ports``.

HuggingFace transformers' ``FocalNetModel`` and timm's ``FocalNet`` are independent implementations of the same
network. :func:`build_hf_model` and :func:`build_timm_model` give each the architecture and the weights of a
:class:`~mmfocalnet.models.FocalNet` built with ``final_norm=True`` (the classification layout, whose last-stage
output is what both return), so outputs can be compared one to one. transformers and timm are imported only when
these functions are called; neither is a dependency of the package.
"""
import re

import torch

# Our (official) parameter names -> HF names, following HF's own conversion script.
_HF_RENAMES = [
    (r'^patch_embed\.proj\.', 'embeddings.patch_embeddings.projection.'),
    (r'^patch_embed\.norm\.', 'embeddings.norm.'),
    (r'^layers\.(\d+)\.blocks\.(\d+)\.', r'encoder.stages.\1.layers.\2.'),
    (r'^layers\.(\d+)\.downsample\.proj\.', r'encoder.stages.\1.downsample.projection.'),
    (r'^layers\.(\d+)\.downsample\.norm\.', r'encoder.stages.\1.downsample.norm.'),
    (r'\.modulation\.f\.', '.modulation.projection_in.'),
    (r'\.modulation\.h\.', '.modulation.projection_context.'),
    (r'\.modulation\.proj\.', '.modulation.projection_out.'),
    (r'\.modulation\.ln\.', '.modulation.layernorm.'),
    (r'^norm\.', 'layernorm.'),
]


def hf_name(name):
    """The HF ``FocalNetModel`` name of one of our parameter names."""
    for pattern, replacement in _HF_RENAMES:
        name = re.sub(pattern, replacement, name)
    return name


def _flags(backbone):
    """The architecture flags of ``backbone``, from its resolved settings."""
    return {
        key: backbone.arch_settings[key]
        for key in ('use_conv_embed', 'use_layerscale', 'use_postln', 'use_postln_in_modulation', 'normalize_modulator')
    }


def build_hf_model(backbone):
    """An HF ``FocalNetModel`` (eval mode, no pooling) with the architecture of ``backbone``; weights not copied."""
    from transformers import FocalNetConfig, FocalNetModel

    flags = _flags(backbone)
    config = FocalNetConfig(
        patch_size=backbone.arch_settings['patch_size'],
        embed_dim=backbone.embed_dims,
        hidden_sizes=backbone.stage_dims[1:] + [backbone.stage_dims[-1]],
        depths=backbone.depths,
        focal_levels=backbone.focal_levels,
        focal_windows=backbone.focal_windows,
        use_conv_embed=flags['use_conv_embed'],
        use_layerscale=flags['use_layerscale'],
        use_post_layernorm=flags['use_postln'],
        use_post_layernorm_in_modulation=flags['use_postln_in_modulation'],
        normalize_modulator=flags['normalize_modulator'],
        drop_path_rate=0.0,
    )
    return FocalNetModel(config, add_pooling_layer=False).eval()


def copy_weights_to_hf(backbone, hf_model):
    """Loads ``backbone``'s weights into ``hf_model`` under HF's names; every HF parameter must be covered."""
    state = {hf_name(name): tensor for name, tensor in backbone.state_dict().items()}
    missing, unexpected = hf_model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise KeyError(f'our -> HF FocalNet mapping is incomplete: HF parameters not covered {missing}, '
                       f'our parameters with no HF counterpart {unexpected}')


def build_timm_model(backbone):
    """timm's ``FocalNet`` (eval mode, no head) with ``backbone``'s architecture and weights.

    timm converts official names itself (``timm.models.focalnet.checkpoint_filter_fn``), so ours load through
    it with ``strict=True``. timm is NCHW throughout and floors input sizes that are not multiples of the
    strides instead of padding them, so its outputs match ours only on inputs that are multiples of 32 (of the
    patch size for iso models, which timm does not build).

    Raises:
        ImportError: timm is not installed.
        ValueError: ``backbone`` has a single stage (iso), which timm's FocalNet cannot express.
    """
    from timm.models.focalnet import FocalNet as TimmFocalNet
    from timm.models.focalnet import checkpoint_filter_fn

    if backbone.num_stages == 1:
        raise ValueError('timm has no isotropic FocalNet (one stage, patch size 16)')
    flags = _flags(backbone)
    model = TimmFocalNet(
        num_classes=0,
        embed_dim=backbone.embed_dims,
        depths=tuple(backbone.depths),
        focal_levels=tuple(backbone.focal_levels),
        focal_windows=tuple(backbone.focal_windows),
        use_overlap_down=flags['use_conv_embed'],
        use_post_norm=flags['use_postln'],
        use_post_norm_in_modulation=flags['use_postln_in_modulation'],
        normalize_modulator=flags['normalize_modulator'],
        # Any value builds the layer scales; the loaded weights replace it.
        layerscale_value=1e-4 if flags['use_layerscale'] else None,
        drop_path_rate=0.0)
    model.load_state_dict(checkpoint_filter_fn(backbone.state_dict(), model), strict=True)
    return model.eval()


def randomize_parameters_(module):
    """Random values for every parameter, norms and layer scales included, so no comparison passes by symmetry.

    Freshly initialised FocalNets have unit norms and zero biases, and layer scales of 1e-4 that hide every
    residual branch; a comparison of two implementations on such weights would miss errors in those parts.
    """
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith('gamma_1') or name.endswith('gamma_2'):
                param.uniform_(0.5, 1.5)
            elif 'norm' in name.split('.')[-2] or '.ln.' in name or name.startswith('norm'):
                param.normal_(1.0 if name.endswith('weight') else 0.0, 0.2)
            else:
                param.normal_(0.0, 0.05)
    return module
