# UPerNet + FocalNet-T (SRF, 2 focal levels, windows 9) on ADE20K, 8 GPUs x 2 images, 160k iterations. Every
# UPerNet config here derives from this one.
# Official result: 46.5 mIoU single-scale, 47.2 multi-scale (facts C.2).
_base_ = [
    './_base_/models/upernet_focalnet.py',
    './_base_/datasets/ade20k_512x512.py',
    './_base_/schedules/adamw_poly_160k.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier; download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_srf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-tiny' (transformers)
#   or checkpoint='hf://timm/focalnet_tiny_srf.ms_in1k' (timm)
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focalnet_tiny_srf.pth')))
