# Mask R-CNN 1x, FocalNet-B (LRF: 3 focal levels).
# Official result: 49.0 box AP, 43.5 mask AP on COCO val2017.
_base_ = [
    './_base_/models/mask_rcnn_focalnet_fpn.py',
    './_base_/datasets/coco_instance_detr_aug.py',
    './_base_/schedules/adamw_amp_1x.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier; download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_lrf.pth
pretrained = 'checkpoints/focalnet_base_lrf.pth'
model = dict(
    backbone=dict(arch='base_lrf', drop_path_rate=0.3, init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[128, 256, 512, 1024]))
