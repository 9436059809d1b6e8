"""Official mmdet 2.x / mmseg 0.x FocalNet checkpoints convert to exactly the keys of our mmdet 3.x / mmseg 1.x
models, built from our configs.

An official file is the model's ``state_dict`` under mmcv 1.x's ``{'meta', 'state_dict', 'optimizer'}``: the facts
file (D.1, D.4) lists the official key names, and each model is first checked to have those names, so the file
written here has the official layout.
"""
import os
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmfocalnet.checkpoint import convert_to_mmengine

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'

BACKBONE_KEYS = [
    'backbone.patch_embed.proj.weight', 'backbone.layers.0.blocks.0.modulation.f.weight',
    'backbone.layers.0.blocks.0.modulation.focal_layers.1.0.weight', 'backbone.layers.2.downsample.proj.weight',
    'backbone.norm3.weight'
]
FPN_KEYS = ['neck.lateral_convs.0.conv.weight', 'neck.fpn_convs.0.conv.weight']

# Official key names of each model (facts file D.1).
OFFICIAL_KEYS = {
    'mmdet/mask_rcnn_focalnet_t_srf_1x_coco.py':
    FPN_KEYS + [
        'rpn_head.rpn_conv.weight', 'rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight',
        'roi_head.bbox_head.shared_fcs.0.weight', 'roi_head.bbox_head.fc_cls.weight',
        'roi_head.bbox_head.fc_reg.weight', 'roi_head.mask_head.convs.0.conv.weight',
        'roi_head.mask_head.upsample.weight', 'roi_head.mask_head.conv_logits.weight'
    ],
    'mmdet/cascade_mask_rcnn_focalnet_t_lrf_3x_coco.py':
    FPN_KEYS + [
        'rpn_head.rpn_conv.weight', 'roi_head.bbox_head.0.shared_convs.0.conv.weight',
        'roi_head.bbox_head.0.shared_convs.3.bn.weight', 'roi_head.bbox_head.2.shared_fcs.0.weight',
        'roi_head.bbox_head.2.fc_reg.weight', 'roi_head.mask_head.0.convs.3.conv.weight',
        'roi_head.mask_head.2.conv_logits.weight'
    ],
    'mmdet/atss_focalnet_t_lrf_3x_coco.py':
    FPN_KEYS + [
        'bbox_head.atss_cls.weight', 'bbox_head.atss_reg.weight', 'bbox_head.atss_centerness.weight',
        'bbox_head.scales.0.scale', 'bbox_head.cls_convs.0.conv.weight', 'bbox_head.cls_convs.0.gn.weight'
    ],
    'mmdet/sparse_rcnn_focalnet_t_lrf_3x_coco.py':
    FPN_KEYS + [
        'rpn_head.init_proposal_bboxes.weight', 'rpn_head.init_proposal_features.weight',
        'roi_head.bbox_head.0.attention.attn.in_proj_weight', 'roi_head.bbox_head.0.attention.attn.out_proj.weight',
        'roi_head.bbox_head.0.attention_norm.weight',
        'roi_head.bbox_head.0.instance_interactive_conv.dynamic_layer.weight',
        'roi_head.bbox_head.0.instance_interactive_conv.norm_in.weight',
        'roi_head.bbox_head.0.instance_interactive_conv.norm_out.weight',
        'roi_head.bbox_head.0.instance_interactive_conv.fc_layer.weight',
        'roi_head.bbox_head.0.instance_interactive_conv.fc_norm.weight',
        'roi_head.bbox_head.0.instance_interactive_conv_norm.weight', 'roi_head.bbox_head.0.ffn.layers.0.0.weight',
        'roi_head.bbox_head.0.ffn.layers.1.weight', 'roi_head.bbox_head.0.ffn_norm.weight',
        'roi_head.bbox_head.0.cls_fcs.0.weight', 'roi_head.bbox_head.0.reg_fcs.0.weight',
        'roi_head.bbox_head.5.fc_cls.weight', 'roi_head.bbox_head.5.fc_reg.weight'
    ],
    'mmseg/upernet_focalnet_t_srf_160k_ade20k.py': [
        'decode_head.psp_modules.0.1.conv.weight', 'decode_head.bottleneck.conv.weight',
        'decode_head.lateral_convs.0.conv.weight', 'decode_head.fpn_convs.0.conv.weight',
        'decode_head.fpn_bottleneck.conv.weight', 'decode_head.conv_seg.weight', 'auxiliary_head.convs.0.conv.weight',
        'auxiliary_head.conv_seg.weight'
    ],
}


def build_model(config):
    """Builds the model of one of our configs with its toolbox's registry, backbone not initialised from a file."""
    cfg = Config.fromfile(str(CONFIGS / config))
    cfg.model.backbone.init_cfg = None
    toolbox = config.split('/')[0]
    if toolbox == 'mmdet':
        import mmdet.models  # noqa: F401  (registers the detectors)
        from mmdet.registry import MODELS
    else:
        import mmseg.models  # noqa: F401  (registers the segmentors)
        from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope(toolbox):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('config', sorted(OFFICIAL_KEYS))
def test_official_checkpoint_converts_to_the_models_key_set(config):
    model = build_model(config)
    state_dict = model.state_dict()
    missing = [key for key in BACKBONE_KEYS + OFFICIAL_KEYS[config] if key not in state_dict]
    assert not missing, f'{config} lacks official key names {missing}'

    toolbox = config.split('/')[0]
    # The official mmseg 0.x files were saved from DistributedDataParallel: every key starts with 'module.'.
    source_prefix = 'module.' if toolbox == 'mmseg' else ''
    official_weights = {
        source_prefix + key: torch.randn_like(value, dtype=torch.float32).to(value.dtype)
        for key, value in state_dict.items()
    }
    official = {
        'meta': {
            'mmcv_version': '1.3.0',
            f'{toolbox}_version': '2.11.0',
            'CLASSES': ('a', 'b'),
            'epoch': 36
        },
        'state_dict': official_weights,
        'optimizer': {
            'state': {},
            'param_groups': []
        },
    }
    converted, report = convert_to_mmengine(official, os.path.basename(config).replace('.py', '.pth'))

    assert report.kind == ('seg' if toolbox == 'mmseg' else 'det') and report.backbone == 'FocalNet'
    assert set(converted['state_dict']) == set(state_dict)
    assert len(report.renamed) == (len(state_dict) if source_prefix else 0)
    assert report.dropped_keys == [] and report.dropped_entries == ['optimizer']
    assert converted['meta']['source']['meta']['epoch'] == 36
    model.load_state_dict(converted['state_dict'], strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, official_weights[source_prefix + key]), key
