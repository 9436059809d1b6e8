# Mask R-CNN 1x, FocalNet-T (SRF: 2 focal levels). Every Mask R-CNN config here derives from this one.
# Official result: 45.9 box AP, 41.3 mask AP on COCO val2017.
_base_ = [
    './_base_/models/mask_rcnn_focalnet_fpn.py',
    './_base_/datasets/coco_instance_detr_aug.py',
    './_base_/schedules/adamw_amp_1x.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier; download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_srf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-tiny' (transformers)
#   or checkpoint='hf://timm/focalnet_tiny_srf.ms_in1k' (timm)
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focalnet_tiny_srf.pth')))
