"""HuggingFace transformers' FocalNet as an independent reference: build it from our settings, copy weights."""
import re

import torch
from transformers import FocalNetConfig, FocalNetModel

# Our (official) parameter names -> HF names, following HF's own conversion script (facts file D.3).
_RENAMES = [
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
    for pattern, replacement in _RENAMES:
        name = re.sub(pattern, replacement, name)
    return name


def build_hf_model(backbone):
    """An HF ``FocalNetModel`` with the architecture of our ``backbone`` (built with ``final_norm=True``)."""
    block = backbone.layers[0].blocks[0]
    config = FocalNetConfig(
        patch_size=backbone.patch_embed.stride,
        embed_dim=backbone.embed_dims,
        hidden_sizes=backbone.stage_dims[1:] + [backbone.stage_dims[-1]],
        depths=backbone.depths,
        focal_levels=backbone.focal_levels,
        focal_windows=backbone.focal_windows,
        use_conv_embed=backbone.patch_embed.proj.kernel_size[0] == 7,
        use_layerscale=isinstance(block.gamma_1, torch.nn.Parameter),
        use_post_layernorm=block.use_postln,
        use_post_layernorm_in_modulation=block.modulation.ln is not None,
        normalize_modulator=block.modulation.normalize_modulator,
        drop_path_rate=0.0,
    )
    return FocalNetModel(config, add_pooling_layer=False).eval()


def copy_weights_to_hf(backbone, hf_model):
    """Loads our backbone's weights into the HF model under HF's names; every HF parameter must be covered."""
    state = {hf_name(name): tensor for name, tensor in backbone.state_dict().items()}
    missing, unexpected = hf_model.load_state_dict(state, strict=False)
    assert not missing, f'HF parameters not covered by the mapping: {missing}'
    assert not unexpected, f'our parameters with no HF counterpart: {unexpected}'


def randomize_(module):
    """Random values for every parameter, norms and layer scales included, so no test passes by symmetry."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith('gamma_1') or name.endswith('gamma_2'):
                param.uniform_(0.5, 1.5)
            elif 'norm' in name.split('.')[-2] or '.ln.' in name or name.startswith('norm'):
                param.normal_(1.0 if name.endswith('weight') else 0.0, 0.2)
            else:
                param.normal_(0.0, 0.05)
