# ATSS 3x, FocalNet-T (SRF: 2 focal levels).
# The authors released a config but no result.
_base_ = [
    './_base_/models/atss_focalnet_fpn.py',
    './_base_/datasets/coco_detection_detr_aug.py',
    './_base_/schedules/adamw_amp_3x.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier; download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_srf.pth
pretrained = 'checkpoints/focalnet_tiny_srf.pth'
model = dict(backbone=dict(arch='tiny_srf', init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
