# Mask R-CNN 3x, FocalNet-B (SRF: 2 focal levels).
# Official result: 49.6 box AP, 44.1 mask AP on COCO val2017.
_base_ = [
    './_base_/models/mask_rcnn_focalnet_fpn.py',
    './_base_/datasets/coco_instance_detr_aug.py',
    './_base_/schedules/adamw_amp_3x.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier; download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_srf.pth
pretrained = 'checkpoints/focalnet_base_srf.pth'
model = dict(
    backbone=dict(arch='base_srf', drop_path_rate=0.5, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[128, 256, 512, 1024]))
