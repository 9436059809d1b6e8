# ATSS 3x, FocalNet-T (LRF: 3 focal levels). The SRF config derives from this one.
# Official result: 49.6 box AP on COCO val2017.
_base_ = [
    './_base_/models/atss_focalnet_fpn.py',
    './_base_/datasets/coco_detection_detr_aug.py',
    './_base_/schedules/adamw_amp_3x.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier; download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_lrf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-tiny-lrf' (transformers)
#   or checkpoint='hf://timm/focalnet_tiny_lrf.ms_in1k' (timm)
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focalnet_tiny_lrf.pth')))
